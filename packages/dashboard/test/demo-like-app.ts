// A demo-like app (the story-video demo's shape, in seconds): metrics (Prometheus endpoint optional), retry,
// validate and gpu on a pipeline with retries, a map, a real ffmpeg-made WAV checked by plugin-validate, and
// costs. The Grafana test scrapes it with a real Prometheus; the findings test opens its run in the browser.
import { execFile, execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTapline, type RunReport, type TaplineApp } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { gpu } from "@tapline/plugin-gpu";
import { metrics } from "@tapline/plugin-metrics";
import { retry } from "@tapline/plugin-retry";
import { audio, validate } from "@tapline/plugin-validate";

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH || "ffmpeg";

/** Whether ffmpeg and ffprobe are installed (plugin-validate's audio check needs both). */
export const haveFfmpeg = (() => {
  try {
    execFileSync(FFMPEG, ["-version"], { stdio: "ignore" });
    execFileSync(process.env.FFPROBE_PATH || "ffprobe", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!haveFfmpeg && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error("ffmpeg/ffprobe are required (TAPLINE_REQUIRE_INTEGRATION=1)");

/** plugin-gpu's fake nvidia-smi (real captured H100 output replayed), for machines without a GPU. */
export const FAKE_NVIDIA_SMI = fileURLToPath(
  new URL("../../plugin-gpu/test/fixtures/fake-nvidia-smi.mjs", import.meta.url),
);

/** A sine tone WAV (`volume` 0 makes it silent), 1 s, 48 kHz mono, made by ffmpeg. */
async function tone(path: string, volume: number): Promise<void> {
  await run(FFMPEG, [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=48000:duration=1,volume=${volume}`,
    "-ac",
    "1",
    "-c:a",
    "pcm_s16le",
    path,
  ]);
}

/** What {@link startDemoLikeApp} returns. */
export interface DemoLikeApp {
  readonly app: TaplineApp;
  /** Runs one story; resolves to its report. */
  story(id: string, scenes?: number): Promise<RunReport>;
  /** Where the WAVs go: `<dir>/media/<runId>/voice.wav`, under the app's dir. */
  readonly mediaDir: string;
}

/**
 * The app and its `story-video` pipeline:
 * - `script` fails its first attempt (a 503 from the "LLM") and costs 0.002 usd an attempt;
 * - `scenes`, a map over the scenes, whose item 1 fails its first attempt;
 * - `voiceover` writes a real WAV with ffmpeg: its first attempt is silent, so plugin-validate fails it
 *   (`audio.silent`) and retry regenerates it; the second is a tone at about -22 LUFS against a -14 ± 1
 *   target whose finding is a warning: the step succeeds with a finding, as a real run does.
 */
export function startDemoLikeApp(options: {
  dir: string;
  prometheus?: boolean;
  gpuBinary?: string;
}): DemoLikeApp {
  const mediaDir = join(options.dir, "media");
  const app = createTapline({
    dir: options.dir,
    logger: silentLogger,
    plugins: [
      metrics({
        prometheus: options.prometheus ? { server: true } : false,
        snapshotIntervalMs: 500,
        system: { intervalMs: 250 },
        persist: { flushIntervalMs: 20 },
      }),
      retry({ defaults: { maxAttempts: 3, backoff: { kind: "constant", delay: 10 } } }),
      validate(),
      gpu({ binary: options.gpuBinary ?? FAKE_NVIDIA_SMI, interval: 50, processInterval: 0 }),
    ],
  });
  const tries = new Map<string, number>();
  const attempt = (key: string): number => {
    const n = (tries.get(key) ?? 0) + 1;
    tries.set(key, n);
    return n;
  };
  const pipeline = app
    .pipeline<{ id: string; scenes: number }>("story-video")
    .step("script", async (idea, ctx) => {
      ctx.cost(0.002, { unit: "usd" });
      if (attempt(`${ctx.runId}:script`) === 1) throw new Error("LLM answered 503 Service Unavailable");
      return { ...idea, text: `A story about ${idea.id}.` };
    })
    .map(
      "scenes",
      (story) => Array.from({ length: story.scenes }, (_, i) => i),
      async (scene, ctx) => {
        await new Promise((r) => setTimeout(r, 120));
        if (scene === 1 && attempt(`${ctx.runId}:${ctx.path}`) === 1)
          throw new Error(`image service timed out on scene ${scene}`);
        ctx.cost(0.001, { unit: "usd" });
        return `scene ${scene}`;
      },
      { concurrency: 2 },
    )
    .step(
      "voiceover",
      async (_scenes, ctx) => {
        const folder = join(mediaDir, ctx.runId);
        await mkdir(folder, { recursive: true });
        const path = join(folder, "voice.wav");
        await tone(path, attempt(`${ctx.runId}:voiceover`) === 1 ? 0 : 1);
        ctx.artifact(path, { kind: "audio" });
        return path;
      },
      {
        validate: [
          audio({
            loudness: { target: -14, tolerance: 1 },
            severity: { "audio.loudness": "warning" },
          }),
        ],
      },
    )
    .build();
  return {
    app,
    mediaDir,
    story: (id, scenes = 3) => pipeline.run({ id, scenes }) as Promise<RunReport>,
  };
}
