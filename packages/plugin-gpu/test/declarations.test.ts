import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// Issue #11 (checked for plugin-gpu too): no third-party type may leak into the declarations; a
// consumer with `skipLibCheck: false` must type-check. Checks the built declarations (CI builds first).

const pkg = resolve(import.meta.dirname, "..");
const dts = join(pkg, "dist", "index.d.mts");
const root = resolve(pkg, "..", "..");

describe("published declarations", () => {
  it("import no third-party type outside the API, and type-check with skipLibCheck: false", () => {
    if (!existsSync(dts)) throw new Error(`${dts} is missing: run \`pnpm run build\` before this test`);
    const text = readFileSync(dts, "utf8");
    const imported = [...text.matchAll(/^import\s.*?["']([^"']+)["'];?$/gm)].map((m) => m[1]);
    expect(imported.filter((s) => !s!.startsWith("node:") && !s!.startsWith("@tapline/core"))).toEqual([]);
    expect(text).not.toContain("@internal");
    const dir = mkdtempSync(join(tmpdir(), "tapline consumer "));
    try {
      const consumer = join(dir, "consumer.mts");
      writeFileSync(
        consumer,
        `import { isTaplineError } from ${JSON.stringify(join(root, "packages", "core", "dist", "index.mjs"))};\n` +
          `import { gpu, watchGpus, sampleGpus } from ${JSON.stringify(join(pkg, "dist", "index.mjs"))};\n` +
          "const plugin = gpu({ interval: 500 });\n" +
          "const w = watchGpus({ interval: 500 }, (s) => s.gpus.length);\n" +
          // The codes narrow through core's TaplineErrorMap, augmented by the published declarations.
          "export function reasonOf(e: unknown): string | undefined {\n" +
          "  return isTaplineError(e, 'TAPLINE_ERR_GPU_UNAVAILABLE') ? e.reason : undefined;\n" +
          "}\n" +
          "export { plugin, w, sampleGpus };\n",
      );
      const program = ts.createProgram([consumer], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2023,
        lib: ["lib.es2024.d.ts"],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
