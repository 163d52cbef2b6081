import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StepReport } from "@tapline/core";
import { readStatus, summarize } from "@tapline/plugin-metrics/files";
import { validateFile } from "@tapline/plugin-validate";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoResult, runDemo } from "../src/index.ts";
import { captureOutput, haveFfmpeg, probe, skipOrFail } from "./helpers.ts";

const skip = skipOrFail(await haveFfmpeg(), "ffmpeg/ffprobe");

describe.skipIf(skip)("the demo, end to end (--quick)", () => {
  let root: string;
  let result: DemoResult;
  const output = captureOutput();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tapline demo "));
    // Seed 7 at a 30% failure rate: the LLM's first two script calls fail (503, then a timeout), so the
    // retry plugin has work to do; everything else succeeds first time.
    result = await runDemo({
      quick: true,
      seed: 7,
      failureRate: 0.3,
      out: join(root, "out"),
      dir: join(root, ".tapline"),
      output,
    });
  }, 120_000); // scene cards, the voiceover and a 1080x1920 render on a shared 2-core machine
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("retries the injected failures (seeded, so the same every time) and renders the story", () => {
    const script = result.reports[0]!.report.steps[0]!;
    expect(
      script.attempts.map(
        (a) =>
          (a.error as { status?: number; name?: string } | undefined)?.status ??
          (a.error as Error | undefined)?.name ??
          "ok",
      ),
    ).toEqual([503, "TimeoutError", "ok"]);
    expect(output.text).toContain("[lighthouse] script: attempt 1 failed: llm: HTTP 503 Service Unavailable");
  });

  it("renders the story and every step succeeds", () => {
    expect(result.reports).toHaveLength(1);
    const { report } = result.reports[0]!;
    expect(report.status).toBe("success");
    expect(report.steps.map((s) => s.name)).toEqual(["script", "revise", "media", "render", "validate"]);
    expect(report.steps.every((s) => s.status === "success")).toBe(true);
  });

  it("fans out: the voice and the scenes side by side, one unit per scene, each with its card", async () => {
    const { report } = result.reports[0]!;
    const media = report.steps.find((s) => s.name === "media")!;
    const tree = (s: StepReport): unknown => [s.path, s.status, ...(s.children ?? []).map(tree)];
    const scenes = media.children![1]!.children![0]!;
    const n = scenes.children!.length;
    expect(n).toBe(report.output!.scenes);
    expect(n).toBeGreaterThanOrEqual(3);
    expect(tree(media)).toEqual([
      "media",
      "success",
      ["media.voice", "success", ["media.voice.voiceover", "success"], ["media.voice.subtitles", "success"]],
      [
        "media.images",
        "success",
        [
          "media.images.scenes",
          "success",
          ...Array.from({ length: n }, (_, i) => [`media.images.scenes[${i}]`, "success"]),
        ],
      ],
    ]);
    for (const item of scenes.children!) {
      const [card] = item.artifacts;
      expect(card?.kind).toBe("image");
      const probed = await probe(card!.path);
      expect(probed.streams[0]).toMatchObject({ codec_name: "png", width: 1080, height: 1920 });
    }
    // The board's plain lines name each unit by its path, and the map's line carries its summary.
    expect(output.text).toContain("[lighthouse] media.images.scenes[0]: success");
    expect(output.text).toContain(`[lighthouse] media.images.scenes: success`);
    expect(output.text).toContain(`(scenes ${n}/${n} ✓)`);
  });

  it("writes a 1080x1920 H.264/AAC mp4 as long as the voiceover", async () => {
    const out = result.reports[0]!.report.output!;
    const video = await probe(out.video);
    const audio = await probe(out.audio);
    const v = video.streams.find((s) => s.codec_type === "video")!;
    expect([v.codec_name, v.width, v.height, v.pix_fmt]).toEqual(["h264", 1080, 1920, "yuv420p"]);
    expect(video.streams.find((s) => s.codec_type === "audio")?.codec_name).toBe("aac");
    expect(Number(video.format.duration)).toBeGreaterThan(2);
    expect(Math.abs(Number(video.format.duration) - Number(audio.format.duration))).toBeLessThan(0.2);
  });

  it("aligns the subtitles to the real voiceover duration", async () => {
    const out = result.reports[0]!.report.output!;
    const srt = await readFile(out.subtitles, "utf8");
    const ends = [...srt.matchAll(/--> (\d\d):(\d\d):(\d\d),(\d{3})/g)].map(
      (m) => +m[1]! * 3600 + +m[2]! * 60 + +m[3]! + +m[4]! / 1000,
    );
    expect(ends.length).toBeGreaterThan(1);
    expect(Math.abs(ends.at(-1)! - out.durationSeconds)).toBeLessThan(0.01);
    const script = await readFile(out.script, "utf8");
    expect(
      srt
        .replace(/\d+\n[\d:,]+ --> [\d:,]+\n/g, "")
        .replace(/\s+/g, " ")
        .trim(),
    ).toBe(script.replace(/\s+/g, " ").trim());
  });

  it("passes validation of every file against youtube-shorts (@tapline/plugin-validate), checked again here", async () => {
    const out = result.reports[0]!.report.output!;
    expect(out.checks.map((c) => c.kind).sort()).toEqual(["audio", "subtitles", "text", "video"]);
    for (const check of out.checks)
      expect(
        check.findings.filter((f) => f.severity === "error"),
        check.file,
      ).toEqual([]);
    for (const file of [out.video, out.audio, out.subtitles, out.script]) {
      const again = await validateFile(file, { profile: "youtube-shorts" });
      expect(again.valid, `${file}: ${JSON.stringify(again.findings)}`).toBe(true);
    }
  });

  it("has every plugin on: status parts, persisted metrics and status, gpu unavailable here", async () => {
    const components = result.status.parts.map((p) => p.component);
    expect(components).toEqual(expect.arrayContaining(["metrics", "retry", "validate", "alerts", "gpu"]));
    const summary = await summarize(result.dir, { pipeline: "story-video" });
    expect(summary.runs).toMatchObject({ count: 1, successes: 1 });
    expect(summary.operations.find((o) => o.name === "story-video/script")?.count).toBe(1);
    const persisted = await readStatus(result.dir);
    expect(persisted?.parts.map((p) => p.component)).toEqual(expect.arrayContaining(["metrics", "retry"]));
    const logs = await readdir(join(result.dir, "logs"));
    const log = await readFile(join(result.dir, "logs", logs.find((f) => f.endsWith(".log"))!), "utf8");
    expect(log).toContain('"msg":"story finished"');
    expect(log).toContain('"err":"llm: HTTP 503 Service Unavailable"');
    const gpuPart = result.status.parts.find((p) => p.component === "gpu")!;
    if (!(await hasNvidiaSmi())) expect(gpuPart.message).toMatch(/unavailable/);
  });

  it("prints progress as plain lines, the reports and the status", async () => {
    expect(output.text).toContain("[lighthouse] render: success");
    expect(output.text).toContain("Run reports");
    // Each video's cost, at the stand-ins' prices: LLM tokens, TTS characters, one image a scene, the render.
    const { report } = result.reports[0]!;
    expect(report.cost).toMatchObject({ images: report.output!.scenes });
    expect(report.cost.usd).toBeGreaterThan(0.01);
    expect(output.text).toContain(`cost $${report.cost.usd!.toFixed(4)} (`);
    expect(output.text).toMatch(/App status: (healthy|degraded)/);
    expect(output.text).not.toContain("\x1b[");
    const saved = JSON.parse(await readFile(join(result.outDir, "reports.json"), "utf8"));
    expect(saved[0].status).toBe("success");
    // reports.json keeps the tree: media → images → scenes → one child per scene.
    const scenes = saved[0].steps[2].children[1].children[0];
    expect(scenes.path).toBe("media.images.scenes");
    expect(scenes.children).toHaveLength(result.reports[0]!.report.output!.scenes);
  });
});

async function hasNvidiaSmi(): Promise<boolean> {
  return !(await execa("nvidia-smi", ["-L"], { reject: false })).failed;
}
