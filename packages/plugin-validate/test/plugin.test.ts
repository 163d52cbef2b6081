// Integration: the plugin in a real pipeline, on real media files.
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AlertEvent,
  createTapline,
  definePlugin,
  isTaplineError,
  type MetricSample,
  WrapStage,
} from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audio, subtitles, text, validate } from "../src/index.ts";
import { type Fixtures, integrationSkipReason, makeFixtures } from "./fixtures.ts";

const skip = await integrationSkipReason();
let f: Fixtures;
let work: string;

/** A minimal retry wrapper (the real one lives in plugin-retry; plugins never import each other). */
const retryOnce = definePlugin({
  name: "test-retry",
  version: "1.0.0",
  core: "^1.0.0",
  setup(api) {
    api.hooks.wrapStep.tap(
      { name: "test-retry", stage: WrapStage.retry },
      (next) => async (input, signal) => {
        try {
          return await next(input, signal);
        } catch (error) {
          if (isTaplineError(error, "TAPLINE_ERR_STEP_VALIDATION") && error.retryable)
            return next(input, signal);
          throw error;
        }
      },
    );
  },
});

function observe() {
  const samples: MetricSample[] = [];
  const alerts: AlertEvent[] = [];
  const plugin = definePlugin({
    name: "test-observer",
    version: "1.0.0",
    core: "^1.0.0",
    setup(api) {
      api.hooks.metric.tap("test-observer", (s) => void samples.push(s));
      api.hooks.alert.tapPromise("test-observer", async (a) => void alerts.push(a));
    },
  });
  return { samples, alerts, plugin: plugin() };
}

describe.skipIf(skip !== undefined)(`validate plugin${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(async () => {
    f = await makeFixtures();
    work = await mkdtemp(join(tmpdir(), "tapline-validate-plugin-"));
  }, 120_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("fails a bad TTS attempt (retryable) and lets retry regenerate a good file; the healed attempt alerts no one", async () => {
    const obs = observe();
    const app = createTapline({
      plugins: [obs.plugin, retryOnce(), validate({ profile: "youtube-shorts" })],
      logger: silentLogger,
    });
    const out = join(work, "tts.mp3");
    const pipeline = app
      .pipeline<string>("story")
      .step(
        "tts",
        async (_script, ctx) => {
          // First attempt "generates" a clipped file, the second a good one.
          await copyFile(f.path(ctx.attempt === 1 ? "clipped.mp3" : "speech.mp3"), out);
          ctx.artifact(out, { kind: "audio" });
          return out;
        },
        { validate: [audio({ maxDuration: 30 })] },
      )
      .build();
    const report = await pipeline.run("script");
    await app.close();
    expect(report.status).toBe("success");
    const step = report.steps[0]!;
    expect(step.attempts.map((a) => a.status)).toEqual(["failed", "success"]);
    const first = step.attempts[0]!;
    expect(isTaplineError(first.error, "TAPLINE_ERR_STEP_VALIDATION")).toBe(true);
    expect((first.error as { retryable: boolean }).retryable).toBe(true);
    expect(first.findings.map((x) => x.check).sort()).toEqual([
      "audio.clipping",
      "audio.loudness",
      "audio.true_peak",
    ]);
    expect(step.findings).toEqual([]);
    expect((step.extensions.validate as { files: { valid: boolean }[] }).files[0]!.valid).toBe(true);
    const failures = obs.samples.filter((s) => s.name === "tapline_validation_failures_total");
    expect(failures.map((s) => s.labels.check).sort()).toEqual([
      "audio.clipping",
      "audio.loudness",
      "audio.true_peak",
    ]);
    expect(failures[0]!.labels).toMatchObject({ pipeline: "story", step: "tts" });
    expect(obs.samples.filter((s) => s.name === "tapline_audio_loudness_lufs")).toHaveLength(2);
    // The first attempt's failure was healed by the retry: it is in the report and the failure counter
    // (for a rate), and no handler is paged for it.
    expect(obs.alerts.filter((a) => a.rule === "validation_failed")).toEqual([]);
  });

  it("a step that finally fails validation raises one error alert per failing check, at the step's end", async () => {
    const obs = observe();
    const app = createTapline({
      plugins: [obs.plugin, retryOnce(), validate({ profile: "youtube-shorts" })],
      logger: silentLogger,
    });
    const out = join(work, "tts-bad.mp3");
    const report = await app
      .pipeline<string>("story")
      .step(
        "tts",
        async (_script, ctx) => {
          await copyFile(f.path("clipped.mp3"), out);
          ctx.artifact(out, { kind: "audio" });
          return out;
        },
        { validate: [audio()] },
      )
      .build()
      .run("script");
    await app.close();
    expect(report.status).toBe("failed");
    expect(report.steps[0]!.attempts).toHaveLength(2);
    const alerts = obs.alerts.filter((a) => a.rule === "validation_failed");
    expect(alerts.map((a) => [a.level, a.labels.check]).sort()).toEqual([
      ["error", "audio.clipping"],
      ["error", "audio.loudness"],
      ["error", "audio.true_peak"],
    ]);
    expect(alerts[0]!.message).toMatch(/attempt 2, final/);
  });

  it("policy warn keeps the step successful and records the findings", async () => {
    const obs = observe();
    const app = createTapline({
      plugins: [obs.plugin, validate({ policy: "warn", profile: "youtube-shorts" })],
      logger: silentLogger,
    });
    const report = await app
      .pipeline<string>("p")
      .step("tts", async () => f.path("deadair.mp3"), { validate: [audio({ path: (o: string) => o })] })
      .build()
      .run("x");
    await app.close();
    expect(report.status).toBe("success");
    expect(report.steps[0]!.findings.map((x) => [x.check, x.severity, x.file])).toEqual([
      ["audio.leading_silence", "error", f.path("deadair.mp3")],
    ]);
    expect(obs.alerts).toHaveLength(1);
    expect(obs.alerts[0]).toMatchObject({ rule: "validation_failed", level: "warning" });
    const counted = obs.samples.filter((s) => s.name === "tapline_validation_findings_total");
    expect(counted[0]!.labels).toMatchObject({ severity: "error", check: "audio.leading_silence" });
  });

  it("non-retryable failure stops at the first attempt; subtitles checked against the step's audio artifact", async () => {
    const app = createTapline({
      plugins: [retryOnce(), validate({ profile: "youtube-shorts" })],
      logger: silentLogger,
    });
    let calls = 0;
    const report = await app
      .pipeline<string>("p")
      .step(
        "align",
        async (_i, ctx) => {
          calls++;
          ctx.artifact(f.path("speech.mp3"), { kind: "audio" });
          ctx.artifact(f.path("pastend.srt"));
          return "ok";
        },
        { validate: { checks: [subtitles({ script: () => f.path("script.txt") })], retryable: false } },
      )
      .build()
      .run("x");
    await app.close();
    expect(calls).toBe(1);
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_STEP_VALIDATION")).toBe(true);
    expect((report.error as Error).message).toMatch(/subtitles\.past_end/);
  });

  it("validates a string output as text and reports a missing target", async () => {
    const app = createTapline({ plugins: [validate()], logger: silentLogger });
    const report = await app
      .pipeline<string>("p")
      .step("script", async () => "# Title\n\nHello there.", { validate: [text()] })
      .step("tts", async () => 42, { validate: [audio({ policy: "warn" })] })
      .build()
      .run("x");
    await app.close();
    expect(report.status).toBe("failed");
    expect(report.failedStep).toBe("script");
    expect(report.steps[0]!.attempts[0]!.findings.map((x) => x.check)).toEqual(["text.forbidden"]);
    const app2 = createTapline({ plugins: [validate()], logger: silentLogger });
    const r2 = await app2
      .pipeline<string>("p")
      .step("tts", async () => 42, { validate: [audio({ policy: "warn" })] })
      .build()
      .run("x");
    await app2.close();
    expect(r2.steps[0]!.findings).toMatchObject([{ check: "audio.missing", severity: "warning" }]);
  });

  it("rejects a bad validate option when the step is added, and bad plugin options at registration", () => {
    const app = createTapline({ plugins: [validate()], logger: silentLogger });
    expect(() =>
      app.pipeline("p").step("a", async () => 1, { validate: [{ kind: "audio" } as never] }),
    ).toThrow(
      /validate\[0\]: (expected )?a check made by audio\(\), video\(\), text\(\), subtitles\(\) or a defineCheck\(\) factory/,
    );
    try {
      app.pipeline("p").step("a", async () => 1, { validate: { checks: [], policy: "maybe" as never } });
      expect.unreachable();
    } catch (error) {
      expect(isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
      expect((error as Error).message).toMatch(
        /validate\.policy: expected \("fail" \| "warn"\), got "maybe"/,
      );
    }
    void app.close();
    expect(() =>
      createTapline({
        plugins: [validate({ policy: "x" as never, concurrency: 0, profile: "nope" as never })],
      }),
    ).toThrow(/policy[\s\S]*concurrency|concurrency[\s\S]*policy/);
  });
});
