import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type AppStatus, createTapline, type RunReport, type TaplinePlugin } from "@tapline/core";
import { createFileLogger } from "@tapline/plugin-metrics";
import {
  crashAt,
  durableRuns,
  formatCalls,
  formatResumed,
  type PaidCalls,
  savedCalls,
  type UnfinishedRun,
  unfinishedRuns,
} from "./durable-runs.ts";
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
  // Durable runs (@tapline/plugin-durable; the store is <dir>/durable.sqlite).
  /** Kills the process (SIGKILL) when this unit starts an attempt, e.g. `render`: a crash to resume from. */
  crashAt?: string;
  /**
   * Finishes every unfinished story of the data folder instead of starting over: `app.resume()` for each
   * failed, cancelled or interrupted run (units that succeeded are replayed, not paid for again), and a
   * first run for each of the stories that has no saved run.
   */
  resume?: boolean;
  /** Suspends each story after its first draft until it is approved (`tapline approve`). */
  approveScripts?: boolean;
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  readonly reports: readonly { id: string; report: RunReport<StoryResult> }[];
  readonly status: AppStatus;
  readonly outDir: string;
  readonly dir: string;
  readonly tools: MediaTools;
  /** Calls this execution made to the paid stand-ins (LLM, TTS, image API), failed ones included. */
  readonly paidCalls: PaidCalls;
  /** Paid calls that replaying saved (units of resumed runs that were not executed again). */
  readonly savedCalls: PaidCalls;
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
  const wanted: StoryIdea[] = Array.from({ length: count }, (_, i) => {
    const idea = STORY_IDEAS[i % STORY_IDEAS.length]!;
    return i < STORY_IDEAS.length
      ? idea
      : { ...idea, id: `${idea.id}-${Math.floor(i / STORY_IDEAS.length) + 1}` };
  });
  // With --resume: the saved runs that did not finish, then the stories that never started.
  let unfinished: UnfinishedRun[] = [];
  let ideas = wanted;
  if (options.resume) {
    const found = await unfinishedRuns(dir, (line) => output.write(`${line}\n`));
    unfinished = found.runs;
    ideas = [
      ...unfinished.map((r) => r.input as StoryIdea),
      ...wanted.filter((idea) => !found.known.has(idea.id)),
    ];
  }
  output.write(
    `${c.bold("Tapline story-video demo")}: ${ideas.length} ${ideas.length === 1 ? "story" : "stories"}, ${concurrency} at a time, seed ${seed}, failure rate ${failureRate}` +
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
    plugins: [
      progressPlugin({ board }),
      ...wiring.plugins,
      durableRuns(),
      ...(options.crashAt ? [crashAt(options.crashAt)] : []),
      ...(options.plugins ?? []),
    ],
    logger,
  });
  const latency = quick ? 40 : 250;
  const paidCalls: PaidCalls = { llm: 0, tts: 0, images: 0 };
  const flaky = {
    onCall: (service: string) => {
      if (service in paidCalls) paidCalls[service as keyof PaidCalls]++;
    },
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
    ...(options.approveScripts && { approveScripts: true }),
  });

  let reports: { id: string; report: RunReport<StoryResult> }[];
  let status: AppStatus;
  try {
    await app.ready();
    const resumable = new Map(unfinished.map((r) => [r.story, r]));
    reports = await mapPool(ideas, concurrency, async (idea) => {
      const saved = resumable.get(idea.id);
      const report = saved
        ? ((await app.resume(saved.runId, {
            ...(options.signal && { signal: options.signal }),
          })) as RunReport<StoryResult>)
        : await pipeline.run(idea, {
            labels: { story: idea.id },
            ...(options.budget !== undefined && { budget: { usd: options.budget } }),
            ...(options.signal && { signal: options.signal }),
          });
      return { id: idea.id, report };
    });
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
  const saved = savedCalls(reports.map((r) => r.report));
  const resumed = reports.filter((r) => r.report.resumed);
  if (options.resume) {
    output.write(
      resumed.length === 0 && reports.length === 0
        ? `${c.bold("Nothing to resume")}: every story in ${dir} finished or waits for approval (tapline runs --dir ${dir})\n`
        : `${c.bold("Resumed")} ${resumed.length} unfinished story run(s):\n${resumed.map((r) => `  ${formatResumed(r.id, r.report)}`).join("\n")}\n` +
            `  paid calls saved by replay: ${formatCalls(saved)}; made this time: ${formatCalls(paidCalls)}\n`,
    );
  }
  const waiting = reports.filter((r) => r.report.suspended);
  for (const { id, report } of waiting) {
    output.write(
      `${c.bold(`[${id}] waits for approval`)}: ${report.suspended!.reason}\n  approve (from the repository root):\n` +
        `  npx -y pnpm@12.21.0 --filter @tapline/example-story-video exec tapline approve ${report.runId} src/tapline-module.ts --config tapline.yaml --dir ${dir} --data '{"approved":true}'\n`,
    );
  }
  const ok = reports.filter((r) => r.report.status === "success").length;
  output.write(`\n${ok}/${reports.length} stories rendered; reports in ${join(outDir, "reports.json")}\n`);
  return { reports, status, outDir, dir, tools, paidCalls, savedCalls: saved };
}
