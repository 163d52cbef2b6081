import { appendFile, copyFile, cp, mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

async function haveFfmpeg(): Promise<boolean> {
  const r = await execa(process.env.FFPROBE_PATH || "ffprobe", ["-version"], { reject: false });
  return !r.failed;
}
// The demo (examples/story-video) is loaded at run time, not imported: it is another project, which itself
// has the CLI as a devDependency. These are the few fields the tests use.
interface DemoResult {
  readonly reports: readonly {
    readonly report: { readonly output?: { video: string; audio: string; subtitles: string } };
  }[];
}
const demoModule = new URL("../../../examples/story-video/src/index.ts", import.meta.url).href;
const { runDemo } = (await import(demoModule)) as {
  runDemo(options: Record<string, unknown>): Promise<DemoResult>;
};
const present = await haveFfmpeg();
if (!present && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error("ffmpeg/ffprobe are required (TAPLINE_REQUIRE_INTEGRATION=1)");

/** The CLI's readers against the data folder of a real demo run (one quick story, failures injected). */
describe.skipIf(!present)("tapline against a real demo run", () => {
  let root: string;
  let dir: string;
  let demo: DemoResult;
  let video: string;
  let audio: string;
  let subtitles: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tapline cli 'demo' "));
    dir = join(root, ".tapline");
    let printed = "";
    demo = await runDemo({
      quick: true,
      seed: 3,
      failureRate: 0.3,
      out: join(root, "out"),
      dir,
      output: {
        isTTY: false,
        write: (s: string) => {
          printed += s;
        },
      },
    });
    const out = demo.reports[0]!.report.output;
    if (!out) throw new Error(`the demo run failed:\n${printed}`);
    ({ video, audio, subtitles } = out);
  }, 90_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("metrics --json: totals per operation from the persisted run records", async () => {
    const r = await tapline(["metrics", "--dir", dir, "--json"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.runs).toMatchObject({ count: 1, successes: 1 });
    const names = summary.operations.map((o: { name: string }) => o.name);
    // Units are tracked by definition path: a map's items are one series (`scenes[]`).
    for (const step of [
      "script",
      "revise",
      "media",
      "media.voice.voiceover",
      "media.voice.subtitles",
      "media.images.scenes[]",
      "render",
      "validate",
    ])
      expect(names).toContain(`story-video/${step}`);
    const render = summary.operations.find((o: { name: string }) => o.name === "story-video/render");
    expect(render).toMatchObject({ count: 1, successes: 1, failures: 0, successRate: 1 });
    expect(render.p95Ms).toBeGreaterThan(0);
  });

  it("metrics: a readable table, filters by pipeline and time", async () => {
    const table = await tapline(["metrics", "--dir", dir]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/operation\s+kind\s+count\s+success\s+failures\s+mean\s+p95/);
    expect(table.stdout).toMatch(/story-video\/render\s+step\s+1\s+100%/);
    const other = JSON.parse(
      (await tapline(["metrics", "--dir", dir, "--pipeline", "nope", "--json"])).stdout,
    );
    expect(other.records).toBe(0);
    expect((await tapline(["metrics", "--dir", dir, "--pipeline", "nope"])).stdout).toContain(
      "No run records",
    );
    const recent = JSON.parse((await tapline(["metrics", "--dir", dir, "--since", "1h", "--json"])).stdout);
    expect(recent.records).toBe(
      JSON.parse((await tapline(["metrics", "--dir", dir, "--json"])).stdout).records,
    );
    const future = JSON.parse(
      (
        await tapline([
          "metrics",
          "--dir",
          dir,
          "--since",
          new Date(Date.now() + 3_600_000).toISOString(),
          "--json",
        ])
      ).stdout,
    );
    expect(future.records).toBe(0);
  });

  it("metrics: a torn last line (a crash mid-write) is skipped and counted, not fatal", async () => {
    const copy = join(root, "torn copy");
    await cp(dir, copy, { recursive: true });
    const runs = join(copy, "runs");
    const file = join(runs, (await readdir(runs)).find((f) => f.endsWith(".jsonl"))!);
    await appendFile(file, '{"kind":"step","pipeline":"story-vid');
    const r = await tapline(["metrics", "--dir", copy, "--json"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.skippedLines).toBe(1);
    expect(summary.runs.count).toBe(1);
    expect((await tapline(["metrics", "--dir", copy])).stdout).toContain(
      "1 torn or unreadable line(s) skipped",
    );
  });

  it("status: the persisted app status, exit 0 only when healthy", async () => {
    const r = await tapline(["status", "--dir", dir, "--json"]);
    const status = JSON.parse(r.stdout);
    expect(["healthy", "degraded", "critical"]).toContain(status.level);
    // Written while the app closed: parts of stopped samplers are "unknown" and do not count against health.
    expect(["healthy", "degraded", "critical"]).toContain(status.health);
    expect(r.code).toBe(status.health === "healthy" ? 0 : 1);
    expect(status.parts.length).toBeGreaterThan(0);
    for (const part of status.parts)
      expect(Object.keys(part)).toEqual(expect.arrayContaining(["component", "level", "message"]));
    expect(status.ageMs).toBeGreaterThanOrEqual(0);
    const text = await tapline(["status", "--dir", dir]);
    expect(text.stdout).toContain(status.health.toUpperCase());
    expect(text.stdout).toContain("last status as of");
    const counted = status.parts.filter((p: { level: string }) => p.level !== "unknown");
    if (counted.every((p: { level: string }) => p.level === "ok")) expect(status.health).toBe("healthy");
    expect(text.stdout).toMatch(/component\s+level\s+message/);
    expect(text.code).toBe(r.code);
  });

  it("alerts: the history as JSON and as a table, --active a subset", async () => {
    const r = await tapline(["alerts", "--dir", dir, "--json"]);
    expect(r.code).toBe(0);
    const all = JSON.parse(r.stdout);
    expect(Array.isArray(all)).toBe(true);
    for (const e of all)
      expect(e).toMatchObject({
        rule: expect.any(String),
        state: expect.any(String),
        time: expect.any(Number),
      });
    const active = JSON.parse((await tapline(["alerts", "--dir", dir, "--active", "--json"])).stdout);
    expect(active.length).toBeLessThanOrEqual(all.length);
    for (const e of active) expect(e.state).not.toBe("resolved");
    const text = await tapline(["alerts", "--dir", dir]);
    expect(text.stdout).toMatch(all.length ? /alert transition/ : /No alerts recorded/);
  });

  it("validate --json: the demo's outputs pass youtube-shorts, in the documented shape", async () => {
    const r = await tapline(["validate", video, audio, subtitles, "--profile", "youtube-shorts", "--json"]);
    const results = JSON.parse(r.stdout);
    expect(results.map((x: { file: string }) => x.file)).toEqual([video, audio, subtitles]);
    expect(results.map((x: { kind: string }) => x.kind)).toEqual(["video", "audio", "subtitles"]);
    for (const x of results) {
      expect(Object.keys(x).sort()).toEqual(["file", "findings", "kind", "valid"]);
      for (const f of x.findings) expect(Object.keys(f).sort()).toEqual(["check", "message", "severity"]);
      expect(x.findings.filter((f: { severity: string }) => f.severity === "error")).toEqual([]);
    }
    expect(r.code).toBe(0);
  });

  it("validate: a broken file is an error finding and exit 1; files are named relative to --cwd", async () => {
    const broken = join(root, "broken -clip.mp4");
    await copyFile(video, broken);
    await truncate(broken, 4000);
    const empty = join(root, "empty.srt");
    await writeFile(empty, "");
    const r = await tapline(["validate", "broken -clip.mp4", "empty.srt", "--json"], { cwd: root });
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout);
    expect(results.map((x: { valid: boolean }) => x.valid)).toEqual([false, false]);
    expect(results[0].findings.some((f: { severity: string }) => f.severity === "error")).toBe(true);
    const text = await tapline(["validate", broken, video]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("✗ invalid");
    expect(text.stdout).toContain("1 of 2 file(s) invalid");
  });

  it("the binary: exit codes and no colour when not on a terminal", async () => {
    const bin = join(import.meta.dirname, "../src/bin.ts");
    const node = [process.execPath, ["--conditions=@tapline/source", bin]] as const;
    const status = await execa(node[0], [...node[1], "status", "--dir", dir], { reject: false });
    expect([0, 1]).toContain(status.exitCode);
    expect(status.stdout).not.toContain("\x1b[");
    const usage = await execa(node[0], [...node[1], "validate"], { reject: false });
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("no files given");
  });
});

/** `tapline run` on the demo's pipeline module with the demo's YAML config: every plugin from the config. */
describe.skipIf(!present)(
  "tapline run examples/story-video/src/tapline-module.ts --config tapline.yaml",
  () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "tapline run-config "));
    });
    afterAll(() => rm(root, { recursive: true, force: true }));

    it("registers the configured plugins, renders a valid video, and leaves data the readers read", async () => {
      const example = join(import.meta.dirname, "../../../examples/story-video");
      const config = join(root, "tapline.yaml");
      await copyFile(join(example, "tapline.yaml"), config);
      const r = await tapline(["run", join(example, "src/tapline-module.ts"), "--config", config, "--json"]);
      expect(r.stderr).toContain("✓ render success");
      expect(r.code).toBe(0);
      const [report] = JSON.parse(r.stdout);
      expect(report.status).toBe("success");
      // Step options of the configured plugins reached the steps: retry annotated them, validate checked files.
      type Unit = { path: string; extensions: Record<string, unknown>; children?: Unit[] };
      const find = (units: Unit[], path: string): Unit | undefined => {
        for (const u of units) {
          if (u.path === path) return u;
          const inner = u.children && find(u.children, path);
          if (inner) return inner;
        }
        return undefined;
      };
      const voiceover = find(report.steps, "media.voice.voiceover")!;
      expect(Object.keys(voiceover.extensions)).toEqual(expect.arrayContaining(["retry"]));
      expect(report.output.video).toBe(join(root, "out", "lighthouse.mp4"));
      const check = await tapline(["validate", report.output.video, "--profile", "youtube-shorts", "--json"]);
      expect(check.code).toBe(0);
      const summary = JSON.parse(
        (await tapline(["metrics", "--dir", join(root, ".tapline"), "--json"])).stdout,
      );
      expect(summary.runs.count).toBe(1);
    }, 180_000);
  },
);
