// Robustness: the validator never takes the process down or hangs, whatever path it is given: huge files
// (read up to a cap, in a child process with a small heap), FIFOs, devices, directories, texts of any
// number of lines. No media needed.
import { execFile } from "node:child_process";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createValidator, text, validate, validateFile, validateText } from "../src/index.ts";

const run = promisify(execFile);
const MB = 1024 * 1024;
const entry = pathToFileURL(fileURLToPath(new URL("../src/index.ts", import.meta.url))).href;
let work: string;

/** Runs `validateFile()` on each path in a fresh Node with a small heap; resolves to its results. */
async function inChild(paths: readonly string[], heapMb = 128) {
  const script = join(work, "child.mjs");
  await writeFile(
    script,
    `import { validateFile } from ${JSON.stringify(entry)};
const out = [];
for (const p of JSON.parse(process.argv[2])) {
  const r = await validateFile(p);
  out.push({ kind: r.kind, valid: r.valid, checks: r.findings.map((f) => f.check), heapMb: process.memoryUsage().heapUsed / 2 ** 20 });
}
process.stdout.write(JSON.stringify(out));
`,
  );
  const { stdout } = await run(
    process.execPath,
    [`--max-old-space-size=${heapMb}`, "--conditions=@tapline/source", script, JSON.stringify(paths)],
    { timeout: 60_000, maxBuffer: MB },
  );
  return JSON.parse(stdout) as { kind: string; valid: boolean; checks: string[]; heapMb: number }[];
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "tapline-validate-robust-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("huge files: read up to a cap, never whole", () => {
  it("a 200 MB file of unknown extension and a 200 MB one-line .txt give findings under a 128 MB heap", async () => {
    // Sparse: 200 MB of zeros that take no disk and no time to write.
    const sparse = join(work, "blob.bin");
    const fh = await open(sparse, "w");
    await fh.truncate(200 * MB);
    await fh.close();
    // One line of 200 MB of text, written in 1 MiB chunks.
    const line = join(work, "one-line.txt");
    const out = await open(line, "w");
    const chunk = Buffer.alloc(MB, "a");
    for (let i = 0; i < 200; i++) await out.write(chunk);
    await out.close();
    try {
      const [blob, txt] = await inChild([sparse, line]);
      expect(blob).toMatchObject({ kind: "text", valid: false, checks: ["file.magic"] });
      expect(txt).toMatchObject({ kind: "text", valid: false, checks: ["file.too_large"] });
      expect(txt!.heapMb).toBeLessThan(128);
    } finally {
      await rm(sparse, { force: true });
      await rm(line, { force: true });
    }
  }, 90_000);

  it("the cap is an option; text under it is checked in full", async () => {
    const path = join(work, "script.txt");
    await writeFile(path, "Hello there. ".repeat(1000));
    const capped = await createValidator({ maxTextBytes: 1000 }).validateText({ path });
    expect(capped.findings.map((f) => [f.check, f.value, f.limit])).toEqual([
      ["file.too_large", 13_000, 1000],
    ]);
    expect(capped.metrics.words).toBeLessThan(200);
    const whole = await createValidator().validateText({ path });
    expect([whole.valid, whole.metrics.words]).toEqual([true, 2000]);
  });
});

describe("paths that are not regular files are refused without opening them", () => {
  let fifo: string;
  beforeAll(async () => {
    fifo = join(work, "pipe");
    await run("mkfifo", [fifo]);
  });

  it("a FIFO (no extension, and named .mp3 or .txt): a finding, at once", async () => {
    const r = await validateFile(fifo);
    expect([r.kind, r.valid, r.findings.map((f) => f.check)]).toEqual(["text", false, ["file.regular"]]);
    expect(r.findings[0]!.message).toMatch(/FIFO/);
    const named = join(work, "pipe.mp3");
    await run("mkfifo", [named]);
    expect((await validateFile(named)).findings.map((f) => f.check)).toEqual(["file.regular"]);
    expect((await validateText({ path: fifo })).findings.map((f) => f.check)).toEqual(["file.regular"]);
  });

  it("a FIFO in a child process: it returns and the process exits (no libuv thread left blocked)", async () => {
    const [r] = await inChild([fifo]);
    expect(r).toMatchObject({ valid: false, checks: ["file.regular"] });
  }, 30_000);

  it("a directory and /dev/null", async () => {
    const dir = await validateFile(work);
    expect(dir.findings.map((f) => [f.check, f.message])).toEqual([
      ["file.regular", expect.stringMatching(/directory/)],
    ]);
    const devnull = await validateFile("/dev/null");
    expect(devnull.findings.map((f) => [f.check, f.message])).toEqual([
      ["file.regular", expect.stringMatching(/character device/)],
    ]);
  });
});

describe("long texts", () => {
  it("130,000 lines are checked, not a stack overflow", async () => {
    const r = await validateText({ text: "word\n".repeat(130_000) }, { maxLineLength: 3, maxWords: 10 });
    expect(r.metrics).toMatchObject({ lines: 130_000, words: 130_000, longestLine: 4 });
    expect(r.findings.map((f) => f.check).sort()).toEqual(["text.line_length", "text.words"]);
    expect(r.findings.find((f) => f.check === "text.line_length")!.message).toMatch(
      /^130000 line\(s\) longer than 3 characters \(lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10\)/,
    );
  });

  it("in the plugin, the step gets findings, not a PluginError", async () => {
    const app = createTapline({ plugins: [validate()], logger: silentLogger });
    const report = await app
      .pipeline<string>("p")
      .step("script", async () => "word\n".repeat(130_000), { validate: [text({ maxWords: 200_000 })] })
      .build()
      .run("x");
    await app.close();
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("success");
    expect(report.steps[0]!.findings).toEqual([]);
  });
});
