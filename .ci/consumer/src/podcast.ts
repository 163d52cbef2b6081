// A podcast clip pipeline written the way a new user would, from the READMEs: flaky transcript API →
// flaky LLM summary → WAV through ffmpeg → validation, with every plugin on. Type-checked with
// skipLibCheck false, then run on Node 24 (type stripping).
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTapline, type RunReport } from "@tapline/core";
import { alerts, consoleHandler, presets } from "@tapline/plugin-alerts";
import { durable } from "@tapline/plugin-durable";
import { gpu } from "@tapline/plugin-gpu";
import { metrics } from "@tapline/plugin-metrics";
import { retry, retryPolicy } from "@tapline/plugin-retry";
import { audio, text, validate } from "@tapline/plugin-validate";

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), "tapline consumer "));

let transcriptCalls = 0;
const app = createTapline({
  dir: join(dir, ".tapline"),
  plugins: [
    metrics({ system: false, snapshotIntervalMs: 60_000 }),
    retry({ defaults: { maxAttempts: 3, backoff: { kind: "constant", delay: 5 } } }),
    validate(),
    alerts({
      rules: [presets.stepFailureRate({ warning: 0.5, window: "5m" })],
      handlers: [consoleHandler()],
    }),
    gpu(),
    durable({ keep: "1d" }),
  ],
});

const clip = app
  .pipeline<{ episode: string }>("podcast-clip")
  .step(
    "transcript",
    async ({ episode }) => {
      transcriptCalls++;
      if (transcriptCalls === 1) throw Object.assign(new Error("503 from transcript API"), { status: 503 });
      return `${episode}: welcome to the show, today we talk about foxes that learn to fly.`;
    },
    { retry: { maxAttempts: 3 } },
  )
  .step("summary", async (transcript: string) => transcript.slice(0, 60), {
    validate: [text({ maxWords: 40 })],
  })
  .step(
    "wav",
    async (summary, ctx) => {
      const path = join(dir, "clip one.wav");
      await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", path]);
      ctx.artifact(path, { kind: "audio" });
      return { path, summary };
    },
    { validate: [audio()] },
  )
  .build();

const report: RunReport = await clip.run({ episode: "ep 1" });
// Resuming the finished run replays every unit from the durable store: nothing is called again.
const calls = transcriptCalls;
const resumed = await app.resume(report.runId);
const replayedAll =
  resumed.status === "success" && resumed.steps.every((s) => s.replayed) && transcriptCalls === calls;
const policy = retryPolicy({ maxAttempts: 2 });
const answer = await policy.execute(async () => 42);

const retryReport = report.steps[0]?.extensions.retry;
console.log(
  JSON.stringify({
    status: report.status,
    steps: report.steps.map((s) => [s.name, s.status, s.attempts.length]),
    retried: retryReport !== undefined,
    answer,
    replayedAll,
    health: app.status().level,
  }),
);
await app.close();
await rm(dir, { recursive: true, force: true });
if (report.status !== "success" || !replayedAll) process.exit(1);
