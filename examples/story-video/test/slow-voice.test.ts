import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, type StepReport } from "@tapline/core";
import { createAlertManager, readAlertHistory } from "@tapline/plugin-alerts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoResult, runDemo } from "../src/index.ts";
import { VOICEOVER_REGRESSION } from "../src/plugins.ts";
import { captureOutput, haveFfmpeg, skipOrFail } from "./helpers.ts";

const skip = skipOrFail(await haveFfmpeg(), "ffmpeg/ffprobe");

/**
 * Render and validate answered by a stub, outside every other wrapper: the rule watches the voiceover only,
 * and a 1080x1920 render per story would triple the test's time. Everything up to and including the voice and
 * the scene cards runs for real.
 */
const voiceOnly = definePlugin({
  name: "test-voice-only",
  version: "1.0.0",
  core: "^1.0.0",
  setup(api) {
    api.hooks.wrapStep.tap({ name: "test-voice-only", stage: 10_000 }, (next, info) =>
      info.step === "render" || info.step === "validate"
        ? async (input: unknown) => ({ ...(input as object), video: "", scenes: 0, checks: [] })
        : next,
    );
  },
});

const voiceovers = (result: DemoResult) =>
  result.reports.map(({ report }) => {
    const media = report.steps.find((s) => s.name === "media")!;
    const find = (s: StepReport): StepReport | undefined =>
      s.path === "media.voice.voiceover" ? s : (s.children ?? []).map(find).find(Boolean);
    return find(media)!;
  });

/**
 * The demo's rule against what the knob does to a voiceover: its duration × the factor, its audio unchanged.
 * Durations are generated, with up to ±8% noise run to run (seeded): then a recent median can be at most
 * 1.08 / 0.92 = 1.17× the baseline's (under the rule's 1.25, so normal runs never fire), and once 2 of the last 3
 * runs are slowed at least 1.5 × 0.92 / 1.08 = 1.28× (so the second slowed run always fires). Real durations on a
 * shared machine swing by more than that with the load (measured here: 4.9 to 8.8 s for the same voiceover),
 * which no regression rule can tell from a regression: the demo run below checks the knob itself.
 */
describe("VoiceoverSlower (the demo's rule) against --slow-voice 1.5", () => {
  /** Seeded uniform noise in [1 − spread, 1 + spread] (mulberry32). */
  const noise = (seed: number, spread: number) => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return 1 - spread + 2 * spread * (((t ^ (t >>> 14)) >>> 0) / 4_294_967_296);
    };
  };
  /** Runs the rule over voiceovers; the 1-based run at which it first fired. */
  const firstFiring = (normal: number, slowed: number, seed: number): number | undefined => {
    const fired: number[] = [];
    const manager = createAlertManager({ rules: [VOICEOVER_REGRESSION] });
    const jitter = noise(seed, 0.08);
    const audio = noise(seed + 1000, 0.3);
    for (let i = 0; i < normal + slowed; i++) {
      const size = 17 * audio(); // seconds of audio: stories differ in length, normalised away
      const factor = i < normal ? 1 : 1.5;
      manager.stepEnded({
        runId: `r${i}`,
        pipeline: "story-video",
        step: "media.voice.voiceover",
        status: "success",
        durationMs: 300 * size * jitter() * factor,
        size,
        time: Date.parse("2026-11-22T12:00:00Z") + i * 60_000,
      });
      if (manager.active().some((a) => a.state === "firing")) fired.push(i + 1);
    }
    void manager.close();
    return fired[0];
  };

  it("normal runs alone never fire it (500 runs, 20 seeds)", () => {
    for (let seed = 1; seed <= 20; seed++) expect(firstFiring(500, 0, seed), `seed ${seed}`).toBeUndefined();
  });

  it("fires on the second slowed run after 6 normal ones (3 for the baseline, 3 recent), for every seed", () => {
    for (let seed = 1; seed <= 20; seed++) expect(firstFiring(6, 3, seed), `seed ${seed}`).toBe(8);
    // and after a long history just the same
    for (let seed = 1; seed <= 5; seed++) expect(firstFiring(200, 3, seed), `seed ${seed}`).toBe(202);
  });
});

describe.skipIf(skip)("--slow-voice in the demo (real voiceovers; render and validate stubbed)", () => {
  let root: string;
  let dir: string;
  let normal: DemoResult;
  const output = captureOutput();
  const demo = (stories: number, slowVoice?: number) =>
    runDemo({
      quick: true,
      seed: 5,
      failureRate: 0,
      stories,
      concurrency: 1,
      ...(slowVoice !== undefined && { slowVoice }),
      out: join(root, "out"),
      dir,
      output,
      plugins: [voiceOnly()],
    });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tapline slow-voice "));
    dir = join(root, ".tapline");
  });
  afterAll(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));

  it("normal runs are not slowed, and report their size: the seconds of audio they made", async () => {
    normal = await demo(3);
    expect(normal.reports.map((r) => r.report.status)).toEqual(["success", "success", "success"]);
    for (const v of voiceovers(normal)) {
      const audio = v.artifacts.find((a) => a.kind === "audio")!;
      expect(audio.meta!.durationSeconds).toBeGreaterThan(1);
      expect(v.extensions?.size).toEqual({ value: audio.meta!.durationSeconds, unit: "seconds" });
      expect(v.extensions?.slowVoice).toBeUndefined();
    }
    // The demo's rule took them in, into the baselines kept across restarts.
    const saved = JSON.parse(await readFile(join(dir, "alerts", "baselines.json"), "utf8"));
    const [series] = saved.rules[VOICEOVER_REGRESSION.name];
    expect(series.labels).toMatchObject({ pipeline: "story-video", step: "media.voice.voiceover" });
    expect(series.state.recent).toHaveLength(3);
  }, 240_000);

  it("after a restart with slowVoice 1.5, each voiceover lasts 1.5× its work, its audio (and size) unchanged", async () => {
    const slowed = await demo(2, 1.5);
    expect(output.text).toContain("voiceover 1.5× slower");
    for (const v of voiceovers(slowed)) {
      expect(v.status).toBe("success");
      const knob = v.extensions?.slowVoice as { factor: number; workMs: number; addedMs: number };
      expect(knob.factor).toBe(1.5);
      expect(knob.addedMs).toBeCloseTo(0.5 * knob.workMs, 6);
      // the step's duration is the work, the added wait, and the audio check inside the attempt (validate plugin)
      expect(v.durationMs).toBeGreaterThanOrEqual(1.5 * knob.workMs - 5);
      expect(v.durationMs).toBeLessThan(2.5 * knob.workMs);
      const audio = v.artifacts.find((a) => a.kind === "audio")!;
      expect(v.extensions?.size).toEqual({ value: audio.meta!.durationSeconds, unit: "seconds" });
    }
    // The baseline survived the restart: the rule now holds the normal runs and the slowed ones.
    const saved = JSON.parse(await readFile(join(dir, "alerts", "baselines.json"), "utf8"));
    const [series] = saved.rules[VOICEOVER_REGRESSION.name];
    expect(series.state.recent.length + series.state.baseline.length).toBe(5);
    // Whether it fired here depends on this machine's load (see above); if it did, the alert says what and how much.
    for (const e of await readAlertHistory(dir, { rule: VOICEOVER_REGRESSION.name }))
      expect(e.message).toMatch(
        /^VoiceoverSlower: \d+(\.\d+)?× slower \(pipeline=story-video, step=media\.voice\.voiceover\)/,
      );
  }, 240_000);
});
