import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// Issue #11: a consumer with `skipLibCheck: false` got 8 errors from @datadog/sketches-js, which our
// declarations imported without needing it. Checks the built declarations (CI builds before testing).

const pkg = resolve(import.meta.dirname, "..");
const dts = join(pkg, "dist", "index.d.mts");
const root = resolve(pkg, "..", "..");

describe("published declarations", () => {
  it("import no third-party type outside the API, and type-check with skipLibCheck: false", () => {
    if (!existsSync(dts)) throw new Error(`${dts} is missing: run \`pnpm run build\` before this test`);
    const text = readFileSync(dts, "utf8");
    const imported = [...text.matchAll(/^import\s.*?["']([^"']+)["'];?$/gm)].map((m) => m[1]);
    expect(imported.filter((s) => !s!.startsWith("node:") && !s!.startsWith("@tapline/core"))).toEqual([
      "prom-client",
    ]);
    expect(text).not.toContain("@datadog/sketches-js");
    const dir = mkdtempSync(join(tmpdir(), "tapline consumer "));
    try {
      const consumer = join(dir, "consumer.mts");
      writeFileSync(
        consumer,
        `import { metrics, createFileLogger, PrometheusExporter } from ${JSON.stringify(join(pkg, "dist", "index.mjs"))};\n` +
          "const plugin = metrics({ persist: { flushIntervalMs: 500 } });\n" +
          "const registry = new PrometheusExporter().registry;\n" +
          "export { plugin, registry, createFileLogger };\n",
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
