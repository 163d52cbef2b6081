import { defineConfig } from "tsdown";

export default defineConfig({
  entry: ["src/index.ts", "src/effect.ts", "src/testing.ts"],
  format: "esm",
  platform: "node",
  target: "node22",
  dts: true,
  sourcemap: true,
  clean: true,
});
