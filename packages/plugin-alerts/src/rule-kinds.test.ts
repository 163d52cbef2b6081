import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AlertEvent, isTaplineError } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rng } from "./detectors.test.ts";
import { defineAlertHandler } from "./handler.ts";
import { parseAlertConfig } from "./load.ts";
import { type AlertManager, type AlertManagerOptions, createAlertManager } from "./manager.ts";
import type { AlertNotification } from "./notification.ts";
import type { AlertRuleInput } from "./rules.ts";

const T0 = Date.parse("2026-11-22T12:00:00Z");
let managers: AlertManager[] = [];
let events: (AlertEvent & { fingerprint: string })[];
let dir: string | undefined;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  events = [];
  managers = [];
});
afterEach(async () => {
  for (const m of managers) await m.close();
  vi.useRealTimers();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function make(options: AlertManagerOptions): AlertManager {
  const m = createAlertManager({ ...options, onTransition: (e) => events.push(e) });
  managers.push(m);
  return m;
}
const firing = () => events.filter((e) => e.state === "firing");

/** Feeds `values` one every `stepMs`, advancing the clock (and ticking) as it goes. */
function feed(
  m: AlertManager,
  metric: string,
  values: number[],
  stepMs: number,
  labels = { gpu: "0" },
): void {
  for (const value of values) {
    vi.advanceTimersByTime(stepMs);
    m.observe({ name: metric, value, labels, time: Date.now() });
  }
}

const noise = (n: number, seed: number, mean = 50, spread = 2) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => mean + (r() - 0.5) * 2 * spread);
};

describe("kind: anomaly", () => {
  const rule: AlertRuleInput = {
    name: "TempAnomaly",
    kind: "anomaly",
    metric: "temp",
    window: "10m",
    minSamples: 20,
    levels: { warning: 4, critical: 8 },
  };

  it("fires on a spike, at the level its robust z-score reaches, and says against what", () => {
    const m = make({ rules: [rule] });
    feed(m, "temp", noise(90, 1), 10_000); // 15 minutes of noise: 50 ± 2
    expect(firing()).toEqual([]);
    feed(m, "temp", [80], 10_000); // far beyond 8σ of a ±2 noise
    expect(firing().map((e) => e.level)).toEqual(["critical"]);
    expect(firing()[0]!.message).toMatch(
      /TempAnomaly: 80 is \d+(\.\d+)? robust σ above the median 5\d(\.\d+)? of \d+ samples over 10m/,
    );
    feed(m, "temp", [50.5], 10_000);
    expect(events.at(-1)!.state).toBe("resolved");
  });

  it("never fires on noise, nor in a series' first minutes, nor the other way than its direction", () => {
    const m = make({ rules: [rule, { ...rule, name: "Down", direction: "down" }] });
    // The first minutes: a start-up transient (a cold GPU warming fast) is not judged before the 10m warmup.
    feed(m, "temp", [20, 25, 30, 35, 40, 45, ...noise(30, 2)], 10_000);
    expect(m.active()).toEqual([]);
    feed(m, "temp", noise(500, 3), 10_000); // 80+ minutes of noise
    expect(firing()).toEqual([]);
    feed(m, "temp", [80], 10_000);
    expect(firing().map((e) => e.rule)).toEqual(["TempAnomaly"]);
  });
});

describe("kind: predict", () => {
  const rule: AlertRuleInput = {
    name: "DiskWillFill",
    kind: "predict",
    metric: "disk_free_bytes",
    window: "30m",
    horizon: "4h",
    op: "<",
    levels: { warning: 0 },
    unit: "bytes",
  };
  const GB = 1024 ** 3;

  it("fires when the trend crosses within the horizon, and says when", () => {
    const m = make({ rules: [rule] });
    // 500 GB free, losing 1 GB a minute: empty at T0 + 500 min; the 4h horizon reaches it after 260 minutes.
    const series = Array.from({ length: 300 }, (_, i) => (500 - (i + 1)) * GB);
    feed(m, "disk_free_bytes", series.slice(0, 250), 60_000);
    expect(firing()).toEqual([]);
    feed(m, "disk_free_bytes", series.slice(250), 60_000);
    const [alert] = firing();
    expect(alert).toBeDefined();
    // 260 minutes in, the line 4h ahead reaches 0; the next evaluation (1s later) sees it below
    expect(alert!.time - (T0 + 260 * 60_000)).toBeLessThanOrEqual(60_000);
    expect(alert!.message).toBe(
      "DiskWillFill: at -60 GiB/h, the trend over 30m reaches 0 B at 2026-11-22T20:20:00Z (in 3h59m59s, within 4h) (gpu=0)",
    );
  });

  it("never fires on a flat noisy series", () => {
    const m = make({ rules: [rule] });
    feed(
      m,
      "disk_free_bytes",
      noise(600, 4, 100, 1).map((v) => v * GB),
      60_000,
    );
    expect(firing()).toEqual([]);
  });
});

describe("kind: regression", () => {
  const rule: AlertRuleInput = {
    name: "TtsSlower",
    kind: "regression",
    match: { step: "tts" },
    window: "2h",
    minSamples: 3,
    levels: { warning: 1.5, critical: 3 },
  };
  /** One run every 20 minutes, the step taking `seconds[i]`. */
  function runs(m: AlertManager, seconds: number[], size?: number[]): void {
    seconds.forEach((s, i) => {
      vi.advanceTimersByTime(20 * 60_000);
      m.tick();
      m.stepEnded({
        runId: `r${Date.now()}`,
        pipeline: "story",
        step: "tts",
        status: "success",
        durationMs: s * 1000,
        ...(size && { size: size[i]! }),
      });
    });
  }

  it("fires when recent medians are slower than the baseline: how much, since when, against what", () => {
    const m = make({ rules: [rule] });
    runs(m, noise(60, 5, 10, 1)); // 20 h of runs at 10 s ± 1
    expect(firing()).toEqual([]);
    runs(m, [21, 22, 20, 21, 22, 21]);
    const [alert] = firing(); // the median crossed 1.5× on the fourth slow run
    expect(alert?.level).toBe("warning");
    expect(alert?.labels).toMatchObject({ pipeline: "story", step: "tts" });
    expect(alert!.message).toMatch(
      /^TtsSlower: 1\.\d+× slower \(pipeline=story, step=tts\): median 1\d(\.\d+)?s over the last \d runs \(since 2026-11-23T\d\d:\d\d:00Z\) against a baseline median of (9|10)(\.\d+)?s \(\d+ runs since 2026-11-22T12:20:00Z\)$/,
    );
  });

  it("never fires on noise or on a slow drift (the baseline follows it)", () => {
    const m = make({ rules: [rule] });
    runs(m, noise(200, 6, 10, 1.5));
    runs(
      m,
      Array.from({ length: 300 }, (_, i) => 10 * 1.003 ** i),
    ); // +0.3% a run: 2.4× after 300 runs, never 1.5× within a baseline
    expect(firing()).toEqual([]);
  });

  it("recent: N judges the newest N runs whatever their pace: a step that runs once a day", () => {
    const daily = (m: AlertManager, seconds: number[]) =>
      seconds.forEach((sec) => {
        vi.setSystemTime(Date.now() + 86_400_000); // a day later (the evaluation timer's ticks change nothing here)
        m.stepEnded({
          runId: `r${Date.now()}`,
          pipeline: "story",
          step: "tts",
          status: "success",
          durationMs: sec * 1000,
        });
      });
    // A time window of 2 h never holds more than one daily run: minSamples is never met.
    const byTime = make({ rules: [{ ...rule, name: "ByTime" }] });
    daily(byTime, [...noise(20, 3, 10, 0.5), 21, 22, 21, 22]);
    expect(firing()).toEqual([]);
    // The newest 3 runs, whenever they ran: fires on the second slow day (median of the last 3 is slow).
    const { window: _w, ...countRule } = rule;
    const byCount = make({ rules: [{ ...countRule, name: "ByCount", recent: 3 }] });
    daily(byCount, noise(20, 3, 10, 0.5));
    expect(firing()).toEqual([]);
    daily(byCount, [21]);
    expect(firing()).toEqual([]);
    daily(byCount, [22]);
    expect(firing().map((e) => e.rule)).toEqual(["ByCount"]);
    expect(firing()[0]!.message).toMatch(/over the last 3 runs/);
  });

  it("recent must be a whole number of runs, at most 1000", () => {
    const bad = (recent: unknown) => () =>
      createAlertManager({ rules: [{ ...rule, recent } as unknown as AlertRuleInput] });
    expect(bad(0)).toThrow(/rules\[0\]\.recent: (?!unknown)/);
    expect(bad(2.5)).toThrow(/rules\[0\]\.recent: (?!unknown)/);
    expect(bad(5000)).toThrow(/rules\[0\]\.recent: (?!unknown)/);
    const { kind: _k, window: _w, minSamples: _m, ...threshold } = rule;
    expect(() =>
      createAlertManager({ rules: [{ ...threshold, metric: "m", recent: 3 } as AlertRuleInput] }),
    ).toThrow(/recent: unknown option/);
  });

  it("normalises by the size the step reports: a longer story is not a regression", () => {
    const m = make({ rules: [{ ...rule, normalize: true }] });
    const sizes = Array.from({ length: 80 }, (_, i) => (i < 60 ? 60 : 240)); // then stories 4× longer
    runs(
      m,
      sizes.map((s) => s / 6),
      sizes,
    );
    expect(firing()).toEqual([]);
    runs(m, [10, 10, 10], [60, 30, 30]); // now 2× slower per second of audio (after the 60 at the old rate)
    runs(m, [10, 10], [30, 30]);
    expect(firing().map((e) => e.rule)).toEqual(["TtsSlower"]);
  });

  it("keeps the baseline across restarts, next to the alert history", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-baseline-"));
    const first = make({ rules: [rule], dir });
    runs(first, noise(30, 7, 10, 1));
    await first.close();
    const file = JSON.parse(await readFile(join(dir, "alerts", "baselines.json"), "utf8"));
    expect(file.version).toBe(1);
    expect(file.rules.TtsSlower[0].labels).toEqual({ pipeline: "story", step: "tts" });
    expect(file.rules.TtsSlower[0].state.baseline.length).toBeGreaterThan(20);
    const second = make({ rules: [rule], dir });
    // slow runs after the restart: the recent window (persisted too) turns slow, against the persisted baseline
    runs(second, [25, 26, 25, 24, 25]);
    expect(firing().map((e) => e.level)).toEqual(["warning"]);
  });

  it("a corrupt baselines file is reported and the rule starts afresh", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-baseline-"));
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(join(dir, "alerts"), { recursive: true });
    await writeFile(join(dir, "alerts", "baselines.json"), "{not json");
    const errors: unknown[] = [];
    make({ rules: [rule], dir, onError: (e) => errors.push(e) });
    expect(String(errors[0])).toMatch(/baselines\.json unreadable .*starting new baselines/);
  });
});

describe("anti-flap and repeats", () => {
  it("a rule toggling faster than its flap period stays firing, notified once, until stable for the period", () => {
    const m = make({
      rules: [{ name: "Flappy", metric: "x", levels: { warning: 1 }, flap: { period: "10m", count: 3 } }],
    });
    for (let i = 0; i < 20; i++) feed(m, "x", [i % 2 === 0 ? 2 : 0], 30_000);
    // fires, resolves, fires, resolves, fires (3rd firing within 10m: flapping) — then holds
    expect(events.map((e) => e.state)).toEqual(["firing", "resolved", "firing", "resolved", "firing"]);
    expect(events.at(-1)!.annotations?.flapping).toBe("true");
    feed(m, "x", Array(19).fill(0), 30_000); // clear for 9.5 minutes: still held
    expect(events).toHaveLength(5);
    feed(m, "x", [0, 0], 30_000);
    expect(events.at(-1)).toMatchObject({ state: "resolved" });
    expect(events.at(-1)!.message).toContain("(stable again)");
  });

  it("repeatInterval per level: a critical group repeats sooner than a warning one", async () => {
    const sent: AlertNotification[] = [];
    const m = make({
      rules: [
        { name: "Hot", metric: "t", levels: { warning: 80, critical: 90 } },
        { name: "Warm", metric: "w", levels: { warning: 80, critical: 90 } },
      ],
      handlers: [defineAlertHandler({ name: "cap", send: (n) => void sent.push(n) })],
      route: { groupWait: 0, groupInterval: "1m", repeatInterval: { critical: "10m", warning: "1h" } },
    });
    for (let minute = 0; minute <= 61; minute++) {
      m.observe({ name: "t", value: 95, labels: {}, time: Date.now() });
      m.observe({ name: "w", value: 85, labels: {}, time: Date.now() });
      await vi.advanceTimersByTimeAsync(60_000);
    }
    const count = (rule: string) => sent.filter((n) => n.alerts[0]!.rule === rule).length;
    expect(count("Hot")).toBe(7); // at 0, 10, 20 ... 60 minutes
    expect(count("Warm")).toBe(2); // at 0 and 60 minutes
  });
});

describe("YAML rule files", () => {
  it("take the new kinds, and strict options explain a typo", () => {
    const config = parseAlertConfig(
      `rules:
  - { name: Slow, kind: regression, match: { step: tts }, window: 2h, baseline: 100, compare: mads, normalize: true, levels: { warning: 4 } }
  - { name: Spike, kind: anomaly, metric: gpu_temp, direction: both, window: 15m, levels: { warning: 5 } }
  - { name: Fill, kind: predict, metric: disk_free_bytes, horizon: 4h, op: "<", levels: { critical: 0 } }
`,
      "alerts.yaml",
    );
    expect(config.rules.map((r) => r.kind)).toEqual(["regression", "anomaly", "predict"]);
    let error: unknown;
    try {
      parseAlertConfig(
        "rules:\n  - { name: Fill, kind: predict, metric: m, horizn: 4h, levels: { warning: 0 } }\n",
        "alerts.yaml",
      );
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
    expect(String((error as Error).message)).toMatch(/horizn.*did you mean "horizon"/);
    expect(() =>
      parseAlertConfig(
        "rules:\n  - { name: S, kind: regression, scope: run, levels: { warning: 2 } }\n",
        "alerts.yaml",
      ),
    ).toThrow(/scope: expected "series" \(regression rules compare runs with each other\), got "run"/);
  });
});
