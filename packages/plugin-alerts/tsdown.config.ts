import { preset } from "../../tsdown.preset.ts";

export default preset({ entry: ["src/index.ts", "src/formats.ts", "src/handlers/index.ts"] });
