import { join } from "node:path";
import type { TaplinePlugin } from "@tapline/core";
import { type AlertRuleInput, alerts, fileHandler, presets } from "@tapline/plugin-alerts";
import { gpu } from "@tapline/plugin-gpu";
import { metrics } from "@tapline/plugin-metrics";
import { summarize } from "@tapline/plugin-metrics/files";
import { retry } from "@tapline/plugin-retry";
import { seededRandom } from "@tapline/plugin-retry/testing";
import { audio, subtitles, text, validate, validateFile, video } from "@tapline/plugin-validate";
import type { FileCheck } from "./checks.ts";
import type { StoryPipelineDeps } from "./story-pipeline.ts";
import { formatMetrics } from "./summary.ts";

/** What the demo needs from the plugins it wires. */
export interface DemoWiring {
  readonly plugins: TaplinePlugin[];
  readonly stepOptions: StoryPipelineDeps["stepOptions"];
  readonly check?: StoryPipelineDeps["check"];
  /** The metrics summary for the end of the run, read from the data folder once the app is closed. */
  summarize?(dir: string, colour: boolean): Promise<string | undefined>;
}

/** Settings the plugin wiring depends on. */
export interface WiringSettings {
  readonly quick: boolean;
  readonly seed: number;
  readonly dir: string;
}

/**
 * The step options of the demo's plugins: retry everywhere (the voiceover behind breaker `tts`), validate
 * per file. Those of `scenes` apply to each scene: a failed card is retried on its own, its siblings keep
 * theirs (plugin-validate has no image check: the scene step checks its PNG itself, inside the attempt).
 */
export const STEP_OPTIONS = {
  script: { retry: {} },
  revise: { retry: {}, validate: [text()] },
  voiceover: { retry: { breaker: "tts", maxAttempts: 6 }, validate: [audio()] },
  subtitles: { retry: { maxAttempts: 2 }, validate: [subtitles()] },
  scenes: { retry: { maxAttempts: 4 } },
  render: { retry: { maxAttempts: 2 }, validate: [video()] },
  validate: { retry: false },
} satisfies StoryPipelineDeps["stepOptions"];

/**
 * {@link STEP_OPTIONS} restricted to the keys of the plugins an app registered (core rejects a step option
 * no registered plugin provides): for `tapline run`, where the config decides the plugins.
 */
export function stepOptionsFor(
  registered: readonly { name: string }[],
): NonNullable<StoryPipelineDeps["stepOptions"]> {
  const names = new Set(registered.map((p) => p.name));
  const keep: Record<string, string> = {
    retry: "@tapline/plugin-retry",
    validate: "@tapline/plugin-validate",
  };
  const out: Record<string, Record<string, unknown>> = {};
  for (const [step, options] of Object.entries(STEP_OPTIONS)) {
    out[step] = Object.fromEntries(Object.entries(options).filter(([key]) => names.has(keep[key] ?? key)));
  }
  return out as NonNullable<StoryPipelineDeps["stepOptions"]>;
}

/**
 * The voiceover's regression rule: the median time per second of audio over the last 3 voiceovers against the
 * median of the 50 before them (kept across restarts in `<dir>/alerts/baselines.json`). With `--slow-voice 1.5`
 * it fires on the second slowed run once 3 baseline runs and 3 recent ones were seen (`test/slow-voice.test.ts`).
 */
export const VOICEOVER_REGRESSION = {
  name: "VoiceoverSlower",
  kind: "regression",
  match: { step: "media.voice.voiceover" },
  normalize: true,
  recent: 3,
  minSamples: 3,
  baseline: 50,
  levels: { warning: 1.25 },
} as const satisfies AlertRuleInput;

/** The validation profile every file is checked against. */
export const PROFILE = "youtube-shorts";

/** The final `validate` step's check: `validateFile` of `@tapline/plugin-validate` on every file, against {@link PROFILE}. */
export const checkWithValidate: NonNullable<StoryPipelineDeps["check"]> = async (files, signal) => {
  const checks: FileCheck[] = [];
  for (const file of [files.video, files.audio, files.subtitles, files.script]) {
    const result = await validateFile(file, { profile: PROFILE, signal });
    checks.push({ file, kind: result.kind, valid: result.valid, findings: result.findings });
  }
  return checks;
};

/**
 * Every plugin of the demo, and the step options that use them:
 * - retry: every step retried with exponential backoff (seeded jitter, so a seed replays the same delays),
 *   honouring `Retry-After`; the voiceover behind the circuit breaker `tts`;
 * - metrics: step and run timings persisted as JSON lines, system samples, `status.json` on close;
 * - validate: each step's file checked against youtube-shorts inside its attempt (a bad file is a failed
 *   attempt that retry regenerates), and the final `validate` step runs `validateFile` on every file;
 * - alerts: step failure rate, validation failures, stuck steps and a slower voiceover (a regression against its
 *   baseline, per second of audio), plus the retry plugin's `breaker_open`;
 *   notifications appended to `<dir>/notifications.jsonl`;
 * - gpu: samples NVIDIA GPUs through nvidia-smi; without one it reports "unavailable" in the status.
 */
export function wirePlugins(settings: WiringSettings): DemoWiring {
  const { quick, seed } = settings;
  const plugins = [
    metrics({ prometheus: false, snapshotIntervalMs: 2000, system: { intervalMs: 1000 } }),
    retry({
      defaults: {
        maxAttempts: 4,
        backoff: { kind: "exponential", base: quick ? 50 : 200, maxDelay: quick ? 500 : 2000 },
        maxRetryAfter: 1500,
      },
      breakers: { tts: { trip: { kind: "consecutive", threshold: 3 }, openDuration: quick ? 500 : 2000 } },
      random: seededRandom(seed),
    }),
    validate({ profile: PROFILE }),
    alerts({
      rules: [
        presets.stepFailureRate({ window: "5m" }),
        presets.validationFailures(),
        presets.stuckStep({ after: "2m" }),
        VOICEOVER_REGRESSION,
      ],
      handlers: [fileHandler({ path: join(settings.dir, "notifications.jsonl") })],
    }),
    gpu(),
  ];
  return {
    plugins,
    stepOptions: STEP_OPTIONS,
    check: checkWithValidate,
    async summarize(dir, colour) {
      return formatMetrics(await summarize(dir, { pipeline: "story-video" }), colour);
    },
  };
}
