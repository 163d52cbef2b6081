import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AlertEvent, isTaplineError, type MetricSample } from "@tapline/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type BacktestRecord, backtest } from "./backtest.ts";
import { createAlertManager } from "./manager.ts";
import type { AlertRuleInput } from "./rules.ts";

const T0 = Date.parse("2026-11-22T12:00:00Z");
const at = (s: number) => T0 + s * 1000;
const iso = (t: number) => new Date(t).toISOString();
const sample = (
  s: number,
  name: string,
  value: number,
  labels: Record<string, string> = {},
): MetricSample => ({
  name,
  value,
  labels,
  time: at(s),
});

afterEach(() => {
  vi.useRealTimers();
});

describe("backtest()", () => {
  it("reports when a rule would have fired and resolved, at the recorded times, and a quiet rule never fires", async () => {
    const records: BacktestRecord[] = [];
    // every 10 s; above 80 from 100 s to 190 s
    for (let s = 0; s <= 300; s += 10)
      records.push(sample(s, "temp", s >= 100 && s < 200 ? 90 : 50, { gpu: "0" }));
    const result = await backtest({
      rules: [
        { name: "Hot", metric: "temp", for: "30s", levels: { warning: 80 } },
        { name: "Melting", metric: "temp", levels: { critical: 1000 } },
      ],
      records: records.reverse(), // any order: replayed by time
    });
    expect(result.records).toEqual({ samples: 31, steps: 0, runs: 0 });
    expect(result.from).toBe(at(0));
    expect(result.to).toBe(at(300));
    const hot = result.rules.find((r) => r.rule === "Hot")!;
    // pending at 100 s, firing once `for` (30 s) has elapsed, resolved at the first sample below
    expect(hot.events.map((e) => [iso(e.time), e.state, e.level, e.value])).toEqual([
      [iso(at(130)), "firing", "warning", 90],
      [iso(at(200)), "resolved", "warning", 50],
    ]);
    expect(hot.events[0]!.labels).toEqual({ alertname: "Hot", gpu: "0" });
    expect(hot.events[0]!.message).toBe("Hot: last 90 > 80 (gpu=0)");
    expect(hot.firingAtEnd).toBe(0);
    expect(result.rules.find((r) => r.rule === "Melting")).toEqual({
      rule: "Melting",
      kind: "threshold",
      events: [],
      firingAtEnd: 0,
    });
  });

  it("gives the same transitions as the live manager fed the same history in real time", async () => {
    const rules: AlertRuleInput[] = [
      { name: "Hot", metric: "temp", aggregate: "mean", window: "1m", for: "20s", levels: { warning: 70 } },
      {
        name: "Spike",
        kind: "anomaly",
        metric: "temp",
        window: "2m",
        minSamples: 10,
        levels: { warning: 4 },
      },
      { name: "Stuck", kind: "stuck-step", after: "45s" },
      { name: "Slower", kind: "regression", window: "3m", minSamples: 3, levels: { warning: 1.5 } },
    ];
    const records: BacktestRecord[] = [];
    for (let s = 0; s <= 600; s += 5)
      records.push(sample(s, "temp", s >= 300 && s < 400 ? 95 : 50 + ((s * 7) % 5), { gpu: "0" }));
    // a run every 30 s; its step takes 2 s, then 6 s from 420 s; one run's step takes 60 s (stuck at 45 s)
    for (let s = 10, i = 0; s <= 580; s += 30, i++) {
      const durationMs = s === 250 ? 60_000 : s >= 420 ? 6000 : 2000;
      const runId = `r${i}`;
      records.push({
        t: "step",
        time: at(s) + durationMs,
        runId,
        pipeline: "p",
        step: "tts",
        status: "success",
        durationMs,
      });
      records.push({ t: "run", time: at(s) + durationMs + 1, runId });
    }

    const replay = await backtest({ rules, records });

    // The live manager, its timers faked: every record delivered at its recorded time.
    vi.useFakeTimers({ now: at(0) - 1000 });
    const live: (AlertEvent & { fingerprint: string })[] = [];
    const manager = createAlertManager({ rules, onTransition: (e) => live.push(e) });
    const timeline = records
      .flatMap((r) =>
        "t" in r && r.t === "step"
          ? [
              {
                at: r.time - r.durationMs,
                go: () => manager.stepStarted({ ...r, time: r.time - r.durationMs }),
              },
              { at: r.time, go: () => manager.stepEnded(r) },
            ]
          : "t" in r
            ? [{ at: r.time, go: () => manager.endRun(r.runId) }]
            : [{ at: r.time, go: () => manager.observe(r as MetricSample) }],
      )
      .sort((a, b) => a.at - b.at);
    for (const e of timeline) {
      await vi.advanceTimersByTimeAsync(Math.max(0, e.at - Date.now()));
      e.go();
    }
    await manager.close(); // the history ends at its last record: so does the replay

    const shape = (
      e: { rule?: string; time: number; state: string; level: string; message: string },
      rule: string,
    ) => `${rule} ${e.state} ${e.level} ${e.message}`;
    const fromLive = live.filter((e) => e.state !== "pending").map((e) => shape(e, e.rule));
    const fromReplay = replay.rules.flatMap((r) => r.events.map((e) => ({ ...e, rule: r.rule })));
    fromReplay.sort((a, b) => a.time - b.time);
    expect(fromReplay.map((e) => shape(e, e.rule))).toEqual(fromLive);
    // each kind did something, so the comparison covers them all
    for (const name of ["Hot", "Spike", "Stuck", "Slower"])
      expect(replay.rules.find((r) => r.rule === name)!.events.length, name).toBeGreaterThan(0);
    // at the same times: the live evaluations ran every second from the first record, as the replay's
    expect(fromReplay.map((e) => e.time)).toEqual(
      live.filter((e) => e.state !== "pending").map((e) => e.time),
    );
  });

  it("skips the silence between runs days apart, and still sees a stuck step after it", async () => {
    const day = 86_400;
    const records: BacktestRecord[] = [
      { t: "step", time: at(2), runId: "a", pipeline: "p", step: "s", status: "success", durationMs: 2000 },
      {
        t: "step",
        time: at(30 * day + 120),
        runId: "b",
        pipeline: "p",
        step: "s",
        status: "success",
        durationMs: 120_000,
      },
    ];
    const started = performance.now();
    const result = await backtest({ rules: [{ name: "Stuck", kind: "stuck-step", after: "1m" }], records });
    expect(performance.now() - started).toBeLessThan(5000); // 30 days second by second would be 2.6 M evaluations
    const stuck = result.rules[0]!;
    expect(stuck.events.map((e) => e.state)).toEqual(["firing", "resolved"]);
    expect(stuck.events[0]!.time).toBeGreaterThanOrEqual(at(30 * day + 60));
    expect(stuck.events[0]!.time).toBeLessThanOrEqual(at(30 * day + 61));
    expect(stuck.events[1]!.time).toBe(at(30 * day + 120));
  });

  it("skips records of other kinds and lines of no known shape, and counts them", async () => {
    const result = await backtest({
      rules: [{ name: "Any", metric: "x", levels: { warning: 0 } }],
      records: [
        { t: "op", time: at(0), operation: "o", durationMs: 1, success: true },
        { hello: "world" },
        "a string",
        { name: "x", value: 1, labels: {}, time: at(1) },
      ],
    });
    expect(result.skipped).toBe(3);
    expect(result.records.samples).toBe(1);
    expect(result.rules[0]!.events.map((e) => e.state)).toEqual(["firing"]);
    expect(result.rules[0]!.firingAtEnd).toBe(1);
  });

  it("warns when a normalised regression rule saw steps but none with a size (it could never judge)", async () => {
    const steps = (withSize: boolean): BacktestRecord[] =>
      Array.from({ length: 12 }, (_, i) => ({
        t: "step" as const,
        time: at(i * 60),
        runId: `r${i}`,
        pipeline: "p",
        step: "tts",
        status: "success" as const,
        durationMs: i < 8 ? 1000 : 3000,
        ...(withSize && { size: 2 }),
      }));
    const rules: AlertRuleInput[] = [
      {
        name: "PerSecond",
        kind: "regression",
        normalize: true,
        recent: 3,
        minSamples: 3,
        levels: { warning: 1.5 },
      },
    ];
    const without = await backtest({ rules, records: steps(false) });
    expect(without.rules[0]!.events).toEqual([]);
    expect(without.warnings).toEqual([
      'rule "PerSecond" (normalize: true) saw 12 steps, none with a size: it never judged (its step records carry no size: record them with a plugin-metrics that writes sizes, from steps that annotate one)',
    ]);
    const withSize = await backtest({ rules, records: steps(true) });
    expect(withSize.warnings).toEqual([]);
    expect(withSize.rules[0]!.events.map((e) => e.state)).toEqual(["firing"]);
  });

  it("a bad rule file is an AlertConfigError naming the file and the field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backtest-"));
    try {
      const file = join(dir, "rules.yaml");
      await writeFile(file, "rules:\n  - name: Hot\n    metric: temp\n    levelz: { warning: 1 }\n");
      const error = await backtest({ rules: file, records: [] }).catch((e: unknown) => e);
      expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toContain('did you mean "levels"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
