import { preset } from "../../tsdown.preset.ts";

export default preset({ entry: ["src/index.ts", "src/redis.ts"] });
