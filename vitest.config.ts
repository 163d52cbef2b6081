import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources (the "@tapline/source" export condition), so no build is needed
// first; the packed tarballs are checked separately by .ci/run.
export default defineConfig({
  resolve: { conditions: ["@tapline/source"] },
  ssr: { resolve: { conditions: ["@tapline/source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    typecheck: {
      enabled: true,
      include: ["packages/*/test/**/*.test-d.ts"],
      tsconfig: "./tsconfig.typetest.json",
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
