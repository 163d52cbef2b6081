import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type AppStatus, createTapline, type RunReport, type TaplinePlugin } from "@tapline/core";
import { createFileLogger } from "@tapline/plugin-metrics";
import { createLlm, STORY_IDEAS, type StoryIdea } from "./llm.ts";
import { detectTools, type MediaTools } from "./media.ts";
import { wirePlugins } from "./plugins.ts";
import { mapPool } from "./pool.ts";
import { colours, ProgressBoard, type ProgressOutput, progressPlugin } from "./progress.ts";
import { buildStoryPipeline, type StoryResult } from "./story-pipeline.ts";
import { formatReports, formatStatus, formatStepTable, serialiseReport } from "./summary.ts";

/** Options of {@link runDemo}; every one has a default. */
export interface DemoOptions {
  /** Seed of the failure injection and of the generated scripts. Default 42. */
  seed?: number;
  /** Share of API calls (LLM and TTS stand-ins) that fail, 0..1. Default 0.25. */
  failureRate?: number;
  /** How many stories. Default 4 (1 with `quick`). */
  stories?: number;
  /** Stories in flight at once. Default 2. */
  concurrency?: number;
  /** One short story, short latencies, fastest encoding: for tests and a first look. */
  quick?: boolean;
  /** Folder for the videos and their files. Default `./out`. */
  out?: string;
  /** The app's data folder (logs, metrics, alerts). Default `./.tapline`. */
  dir?: string;
  /** Where progress and the summary go. Default `process.stdout`. */
  output?: ProgressOutput;
  /** Makes the voiceover step this many times slower (≥ 1), its audio unchanged: a regression to alert on. Default 1. */
  slowVoice?: number;
  /** Plugins added after the demo's own. */
  plugins?: readonly TaplinePlugin[];
  /** Most each story may spend, in USD (a run `budget`): a story that would pass it stops before the unit. */
  budget?: number;
  /** Cancels the runs in flight. */
  signal?: AbortSignal;
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  readonly reports: readonly { id: string; report: RunReport<StoryResult> }[];
  readonly status: AppStatus;
  readonly outDir: string;
  readonly dir: string;
  readonly tools: MediaTools;
}

/**
 * Runs the demo: several stories through the story pipeline, some concurrently, with live progress, then
 * prints the run reports, a metrics summary and the app status. Resolves once the app is closed.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const quick = options.quick ?? false;
  const seed = options.seed ?? 42;
  const failureRate = options.failureRate ?? 0.25;
  const count = options.stories ?? (quick ? 1 : 4);
  const concurrency = options.concurrency ?? 2;
  const output = options.output ?? process.stdout;
  const colour = output.isTTY;
  const c = colours(colour);
  const outDir = resolve(options.out ?? "out");
  const dir = resolve(options.dir ?? ".tapline");
  await mkdir(outDir, { recursive: true });

  const tools = await detectTools();
  const ideas: StoryIdea[] = Array.from({ length: count }, (_, i) => {
    const idea = STORY_IDEAS[i % STORY_IDEAS.length]!;
    return i < STORY_IDEAS.length
      ? idea
      : { ...idea, id: `${idea.id}-${Math.floor(i / STORY_IDEAS.length) + 1}` };
  });
  output.write(
    `${c.bold("Tapline story-video demo")}: ${count} ${count === 1 ? "story" : "stories"}, ${concurrency} at a time, seed ${seed}, failure rate ${failureRate}` +
      `${options.budget !== undefined ? `, budget $${options.budget} a story` : ""}${quick ? ", quick" : ""}${options.slowVoice && options.slowVoice !== 1 ? `, voiceover ${options.slowVoice}× slower` : ""}
  voice: ${tools.espeak ? "espeak-ng" : "ffmpeg tone (espeak-ng not found)"}, subtitles: ${tools.burnSubtitles ? "burned (libass)" : "muxed (no libass)"}, scene cards: ${tools.drawText ? (tools.font ?? "fontconfig Sans") : "no text (no drawtext)"}
  data: ${dir}
  videos: ${outDir}

`,
  );

  const board = new ProgressBoard(output, ideas);
  const wiring = wirePlugins({ quick, seed, dir });
  // JSON-lines logs under <dir>/logs (only errors also go to stderr, under the live board).
  const logger = await createFileLogger({ dir, level: "info", console: "error" });
  const app = createTapline({
    dir,
    plugins: [progressPlugin({ board }), ...wiring.plugins, ...(options.plugins ?? [])],
    logger,
  });
  const latency = quick ? 40 : 250;
  const flaky = {
    seed,
    failureRate,
    latencyMs: latency,
    requestTimeoutMs: quick ? 300 : 1500,
    retryAfterSeconds: 1,
  };
  const pipeline = buildStoryPipeline(app, {
    llm: createLlm({ ...flaky, middleSentences: quick ? 0 : 3 }),
    tts: { ...flaky, latencyMs: latency * 2 },
    images: { ...flaky, latencyMs: latency * 2 },
    tools,
    outDir,
    fps: quick ? 24 : 30,
    preset: "ultrafast",
    stepOptions: wiring.stepOptions,
    ...(options.slowVoice !== undefined && { slowVoice: options.slowVoice }),
    ...(wiring.check && { check: wiring.check }),
  });

  let reports: { id: string; report: RunReport<StoryResult> }[];
  let status: AppStatus;
  try {
    await app.ready();
    reports = await mapPool(ideas, concurrency, async (idea) => ({
      id: idea.id,
      report: await pipeline.run(idea, {
        labels: { story: idea.id },
        ...(options.budget !== undefined && { budget: { usd: options.budget } }),
        ...(options.signal && { signal: options.signal }),
      }),
    }));
    status = app.status();
  } finally {
    board.stop();
    await app.close();
    await logger.close();
  }
  await writeFile(
    join(outDir, "reports.json"),
    `${JSON.stringify(
      reports.map((r) => serialiseReport(r.report)),
      null,
      2,
    )}\n`,
  );

  output.write(`\n${formatReports(reports, colour)}\n\n`);
  const metrics = await wiring.summarize?.(dir, colour);
  output.write(
    `${
      metrics ??
      formatStepTable(
        reports.map((r) => r.report),
        colour,
      )
    }\n\n`,
  );
  output.write(`${formatStatus(status, colour)}\n`);
  const ok = reports.filter((r) => r.report.status === "success").length;
  output.write(`\n${ok}/${reports.length} stories rendered; reports in ${join(outDir, "reports.json")}\n`);
  return { reports, status, outDir, dir, tools };
}
