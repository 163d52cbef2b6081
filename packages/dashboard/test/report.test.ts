import { appendFile, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "../src/index.ts";
import { type Fixture, makeDataDir } from "./fixture.ts";

async function latest(folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  const names = (await readdir(folder)).sort();
  return join(folder, names[names.length - 1] ?? `${new Date().toISOString().slice(0, 10)}.0.jsonl`);
}

describe("renderReport: a static quality report of a real run's folder", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeDataDir();
    const now = Date.now();
    const runId = fx.runIds[0]!;
    // What plugin-validate and plugin-gpu write when they run (samples), and a record carrying findings.
    const samples = [
      {
        name: "tapline_audio_loudness_lufs",
        value: -14.1,
        unit: "lufs",
        labels: { kind: "audio" },
        time: now,
        runId,
      },
      {
        name: "tapline_audio_loudness_lufs",
        value: -19.5,
        unit: "lufs",
        labels: { kind: "audio" },
        time: now,
        runId,
      },
      { name: "tapline_video_bitrate_bps", value: 2_500_000, unit: "bps", labels: {}, time: now, runId },
      {
        name: "tapline_validation_findings_total",
        value: 1,
        labels: { severity: "warning", check: "audio.loudness" },
        time: now,
        runId,
      },
      { name: "tapline_step_gpu_energy_joules_total", value: 120, labels: {}, time: now, runId },
      { name: "tapline_step_gpu_energy_joules_total", value: 30, labels: {}, time: now, runId },
    ];
    await appendFile(
      await latest(join(fx.dir, "metrics")),
      samples.map((s) => `${JSON.stringify(s)}\n`).join(""),
    );
    const finding = {
      severity: "warning",
      check: "audio.loudness",
      message: "-19.5 LUFS <b>quiet</b>",
      file: "out/<x>.wav",
    };
    await appendFile(
      await latest(join(fx.dir, "runs")),
      `${JSON.stringify({ t: "step", time: now, runId, pipeline: "story", step: "voice", path: "voice", status: "success", durationMs: 3, attempts: 1, findings: [finding] })}\n`,
    );
  }, 60_000);
  afterAll(() => rm(fx.root, { recursive: true, force: true }));

  it("html: one file with no script, every section, numbers from the records, text escaped", async () => {
    const html = await renderReport({ dir: fx.dir });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain("<b>5</b> runs");
    expect(html).toContain("<b>80.0%</b> success rate");
    // The step named <script>alert(1)</script> and the error with <img onerror> stay text.
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("render failed: &lt;img src=x onerror=alert(1)&gt;");
    expect(html).not.toContain("<img");
    // Retries: every voice unit failed once then succeeded (healed), the render step failed 3 attempts.
    expect(html).toMatch(/<code>voice<\/code><\/td><td>5<\/td>.*?<td>4<\/td><td>4<\/td><td><svg/);
    expect(html).toContain("<code>out/&lt;x&gt;.wav</code>");
    expect(html).toContain("-19.5 LUFS &lt;b&gt;quiet&lt;/b&gt;");
    expect(html).toMatch(
      /<code>tapline_audio_loudness_lufs<\/code><\/td><td>lufs<\/td><td>5<\/td><td>-19.50<\/td>/,
    );
    expect(html).toContain("<code>tapline_video_bitrate_bps</code>");
    expect(html).toContain("1 runs used 150 J");
    expect((html.match(/<svg class="hist"/g) ?? []).length).toBeGreaterThanOrEqual(4);
  });

  it("md: the same figures as Markdown tables, with markup escaped", async () => {
    const md = await renderReport({ dir: fx.dir, format: "md" });
    expect(md).toContain("5 runs, success rate 80.0%");
    expect(md).toContain("| story | \\<script\\>alert(1)\\</script\\> |");
    expect(md).toContain("1 runs used 150 J");
  });

  it("since/until select the period; bad options and a missing folder are typed errors", async () => {
    const empty = await renderReport({
      dir: fx.dir,
      since: Date.now() + 60_000,
      until: Date.now() + 120_000,
      format: "md",
    });
    expect(empty).toContain("0 runs");
    const bad = await renderReport({ dir: fx.dir, format: "pdf" } as never).catch((e: unknown) => e);
    expect(isTaplineError(bad, "TAPLINE_ERR_OPTIONS")).toBe(true);
    const missing = await renderReport({ dir: join(fx.root, "nope") }).catch((e: unknown) => e);
    expect(isTaplineError(missing, "TAPLINE_ERR_DASHBOARD_START")).toBe(true);
  });
});
