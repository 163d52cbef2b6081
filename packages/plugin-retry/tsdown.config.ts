import { preset } from "../../tsdown.preset.ts";

export default preset({ entry: ["src/index.ts", "src/effect.ts", "src/testing.ts", "src/redis.ts"] });
