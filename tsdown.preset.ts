import { defineConfig, type UserConfig } from "tsdown";

/**
 * The build every package shares: ESM for Node 22+, with declarations (`.d.mts`) and source maps, into a
 * clean `dist/`. A package's `tsdown.config.ts` names only its entries, which mirror its `exports` map
 * (`src/index.ts` for ".", `src/kit.ts` for "./kit", ...); a package's `files: ["dist"]` keeps this file out
 * of its tarball.
 *
 * @example
 * // packages/core/tsdown.config.ts
 * export default preset({ entry: ["src/index.ts", "src/kit.ts"] });
 */
export function preset({ entry }: { readonly entry: readonly string[] }): UserConfig {
  return defineConfig({
    entry: [...entry],
    format: "esm",
    platform: "node",
    target: "node22",
    dts: true,
    sourcemap: true,
    clean: true,
  });
}
