import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    // Every declaration file of every entry (index, files, and the chunks they share).
    const files = readdirSync(join(pkg, "dist")).filter((f) => f.endsWith(".d.mts"));
    const text = files.map((f) => readFileSync(join(pkg, "dist", f), "utf8")).join("\n");
    const imported = [...text.matchAll(/^import\s.*?["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
    const thirdParty = imported.filter(
      (s) => !s.startsWith("node:") && !s.startsWith("@tapline/core") && !s.startsWith("./"),
    );
    expect([...new Set(thirdParty)]).toEqual(["prom-client"]);
    expect(text).not.toContain("@datadog/sketches-js");
    expect(text).not.toContain("@internal");
    const dir = mkdtempSync(join(tmpdir(), "tapline consumer "));
    try {
      const consumer = join(dir, "consumer.mts");
      writeFileSync(
        consumer,
        `import { isTaplineError } from ${JSON.stringify(join(root, "packages", "core", "dist", "index.mjs"))};\n` +
          `import { metrics, createFileLogger, PrometheusExporter } from ${JSON.stringify(join(pkg, "dist", "index.mjs"))};\n` +
          `import { summarize, type Summary } from ${JSON.stringify(join(pkg, "dist", "files.mjs"))};\n` +
          "const plugin = metrics({ persist: { flushIntervalMs: 500 } });\n" +
          "const registry = new PrometheusExporter().registry;\n" +
          "const summary: Promise<Summary> = summarize('.tapline');\n" +
          // The codes narrow through core's TaplineErrorMap, augmented by the published declarations.
          "export function errnoOf(e: unknown): string | undefined {\n" +
          "  return isTaplineError(e, 'TAPLINE_ERR_METRICS_PERSIST') ? e.errno : undefined;\n" +
          "}\n" +
          "export { plugin, registry, createFileLogger, summary };\n",
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
