import { type AlertEvent, isTaplineError, type MetricSample } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fingerprint } from "./fingerprint.ts";
import { defineAlertHandler } from "./handler.ts";
import { type AlertManager, type AlertManagerOptions, createAlertManager } from "./manager.ts";
import type { AlertNotification } from "./notification.ts";
import { presets } from "./presets.ts";

let manager: AlertManager | undefined;
let events: (AlertEvent & { fingerprint: string })[];

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse("2026-11-22T12:00:00Z") });
  events = [];
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  vi.useRealTimers();
});

function make(options: AlertManagerOptions): AlertManager {
  manager = createAlertManager({ ...options, onTransition: (e) => events.push(e) });
  return manager;
}
const sample = (
  name: string,
  value: number,
  labels: Record<string, string> = {},
  extra: Partial<MetricSample> = {},
): MetricSample => ({
  name,
  value,
  labels,
  time: Date.now(),
  ...extra,
});
const states = () => events.map((e) => `${e.state}:${e.level}`);

describe("rule state machine", () => {
  it("escalates and de-escalates one instance with hysteresis", () => {
    const m = make({
      rules: [
        {
          name: "Temp",
          metric: "t",
          levels: { warning: { threshold: 80, clear: 75 }, critical: { threshold: 90, clear: 85 } },
        },
      ],
    });
    for (const v of [70, 81, 78, 91, 88, 84, 76, 74]) m.observe(sample("t", v, { gpu: "0" }));
    // 81 warning; 78 holds warning (clear 75); 91 critical; 88 holds critical (clear 85); 84 back to warning; 76 holds; 74 resolves
    expect(states()).toEqual(["firing:warning", "firing:critical", "firing:warning", "resolved:warning"]);
    // one fingerprint per label set, as Alertmanager: severity is a label, so a level change is a new one
    expect(events.map((e) => e.fingerprint)).toEqual(
      ["warning", "critical", "warning", "warning"].map((severity) =>
        fingerprint({ alertname: "Temp", gpu: "0", severity }),
      ),
    );
    expect(m.active()).toEqual([]);
  });

  it("waits `for` in pending, drops a pending that clears, and fires once it held long enough", () => {
    const m = make({ rules: [{ name: "Slow", metric: "d", for: "30s", levels: { warning: 5 } }] });
    m.observe(sample("d", 6));
    expect(states()).toEqual(["pending:warning"]);
    expect(m.active()[0]!.state).toBe("pending");
    vi.advanceTimersByTime(10_000);
    m.observe(sample("d", 1)); // clears before `for`: back to inactive, nothing notified
    expect(m.active()).toEqual([]);
    m.observe(sample("d", 7));
    vi.advanceTimersByTime(29_000);
    expect(states()).toEqual(["pending:warning", "pending:warning"]);
    vi.advanceTimersByTime(2_000); // the evaluation tick notices `for` has elapsed
    expect(states().at(-1)).toBe("firing:warning");
  });

  it("keeps firing for keepFiringFor after the condition stops", () => {
    const m = make({ rules: [{ name: "K", metric: "k", keepFiringFor: "1m", levels: { error: 1 } }] });
    m.observe(sample("k", 2));
    m.observe(sample("k", 0));
    vi.advanceTimersByTime(30_000);
    expect(states()).toEqual(["firing:error"]);
    vi.advanceTimersByTime(31_000);
    expect(states()).toEqual(["firing:error", "resolved:error"]);
  });

  it("keeps one instance per label set, or per `by` labels", () => {
    const m = make({
      rules: [
        { name: "PerSeries", metric: "x", levels: { warning: 1 } },
        {
          name: "PerStep",
          metric: "x",
          by: ["step"],
          aggregate: "max",
          window: "1m",
          levels: { warning: 1 },
        },
      ],
    });
    m.observe(sample("x", 2, { step: "a", run: "1" }));
    m.observe(sample("x", 2, { step: "a", run: "2" }));
    m.observe(sample("x", 2, { step: "b", run: "1" }));
    const active = m.active();
    expect(active.filter((a) => a.rule === "PerSeries")).toHaveLength(3);
    expect(
      active
        .filter((a) => a.rule === "PerStep")
        .map((a) => a.labels.step)
        .sort(),
    ).toEqual(["a", "b"]);
    expect(active.find((a) => a.rule === "PerStep")!.labels).toEqual({ alertname: "PerStep", step: "a" });
  });

  it("matches samples by name and label matchers", () => {
    const m = make({
      rules: [
        { name: "Tts", metric: "lat", match: ['step=~"tts|voice"', 'model!="mock"'], levels: { warning: 1 } },
      ],
    });
    m.observe(sample("lat", 5, { step: "llm", model: "a" }));
    m.observe(sample("lat", 5, { step: "tts", model: "mock" }));
    m.observe(sample("other", 5, { step: "tts", model: "a" }));
    expect(events).toEqual([]);
    m.observe(sample("lat", 5, { step: "voice", model: "a" }));
    expect(events).toHaveLength(1);
  });

  it("applies the no-data policy when a series stops arriving", () => {
    const m = make({
      rules: [
        {
          name: "Alerting",
          metric: "hb",
          window: "10s",
          aggregate: "last",
          levels: { warning: 100 },
          noData: { after: "30s", state: "alerting", level: "error" },
        },
        {
          name: "Ok",
          metric: "v",
          window: "10s",
          aggregate: "max",
          levels: { warning: 1 },
          noData: { after: "30s" },
        },
      ],
    });
    m.observe(sample("hb", 1, { host: "a" }));
    m.observe(sample("v", 5, { host: "a" }));
    expect(states()).toEqual(["firing:warning"]);
    vi.advanceTimersByTime(41_000);
    const byRule = Object.fromEntries(events.map((e) => [`${e.rule}:${e.state}`, e]));
    expect(byRule["Alerting:firing"]!.level).toBe("error");
    expect(byRule["Alerting:firing"]!.message).toMatch(/no data for 30s/);
    expect(byRule["Ok:resolved"]).toBeDefined();
    m.observe(sample("hb", 1, { host: "a" })); // data is back, below threshold: the no-data alert resolves
    expect(events.at(-1)!.state).toBe("resolved");
  });

  it("resolves a `last` rule whose series went silent (no window to empty)", () => {
    const m = make({ rules: [{ name: "Disk", metric: "disk", levels: { warning: 0.8 } }] });
    m.observe(sample("disk", 0.9, { mount: "/" }));
    vi.advanceTimersByTime(299_000);
    expect(states()).toEqual(["firing:warning"]); // the last value still stands
    vi.advanceTimersByTime(2_000);
    expect(states()).toEqual(["firing:warning", "resolved:warning"]);
    expect(events[1]!.message).toMatch(/\(no data\)$/);
  });

  it("resolves run-scoped alerts when their run ends", () => {
    const m = make({
      rules: [
        {
          name: "RunCost",
          metric: "cost",
          scope: "run",
          aggregate: "sum",
          window: "1h",
          levels: { warning: 10 },
        },
      ],
    });
    m.observe(sample("cost", 11, {}, { runId: "r1" }));
    m.observe(sample("cost", 11, {}, { runId: "r2" }));
    expect(m.active()).toHaveLength(2);
    m.endRun("r1");
    expect(m.active().map((a) => a.runId)).toEqual(["r2"]);
    expect(events.at(-1)).toMatchObject({ state: "resolved", runId: "r1" });
    expect(events.at(-1)!.message).toMatch(/run ended/);
  });

  it("fires the stuck-step rule and resolves it when the step ends", () => {
    const m = make({ rules: [presets.stuckStep({ after: "5m", match: { step: "render" } })] });
    m.stepStarted({ runId: "r", pipeline: "video", step: "render" });
    m.stepStarted({ runId: "r", pipeline: "video", step: "tts" });
    vi.advanceTimersByTime(301_000);
    expect(states()).toEqual(["firing:warning"]);
    expect(events[0]!.message).toBe("step render of video running for 5m (limit 5m)");
    m.stepEnded({ runId: "r", pipeline: "video", step: "render", status: "success", durationMs: 301_000 });
    expect(states()).toEqual(["firing:warning", "resolved:warning"]);
  });

  it("computes the step failure rate from stepEnded and names it in the status", () => {
    const m = make({ rules: [presets.stepFailureRate({ warning: 0.2, critical: 0.5, minSamples: 4 })] });
    const end = (status: "success" | "failed") =>
      m.stepEnded({ runId: "r", pipeline: "video", step: "tts", status, durationMs: 10 });
    end("failed");
    end("failed");
    end("failed");
    expect(events).toEqual([]); // minSamples not reached: 3 failures out of 3 are not a rate yet
    end("success");
    expect(states()).toEqual(["firing:critical"]);
    for (let i = 0; i < 4; i++) end("success"); // 3/8 = 37.5%: under critical's clear (40%), still ≥ warning
    expect(states()).toEqual(["firing:critical", "firing:warning"]);
    expect(m.status()).toMatchObject({
      component: "alerts",
      level: "degraded",
      message: "warning: step tts failing 37.5% over 5m",
    });
  });

  it("divides by another metric (GPU memory used / total)", () => {
    const m = make({ rules: [presets.gpuMemoryNearFull()] });
    const labels = { gpu: "0", uuid: "GPU-1", name: "H100" };
    m.observe(sample("nvidia_gpu_memory_used_bytes", 75e9, labels)); // no total yet: no value
    expect(events).toEqual([]);
    m.observe(sample("nvidia_gpu_memory_total_bytes", 80e9, labels)); // 75/80 = 93.75%: warning
    m.observe(sample("nvidia_gpu_memory_used_bytes", 79e9, labels));
    expect(states()).toEqual(["firing:warning", "firing:critical"]);
    expect(events[1]!.message).toBe("GPU 0 memory 98.8% used");
  });

  it("takes alerts raised elsewhere, dedups them by fingerprint and resolves them", () => {
    const m = make({});
    const breaker = {
      rule: "breaker_open",
      level: "error" as const,
      labels: { breaker: "tts" },
      message: "breaker tts open",
      source: "@tapline/plugin-retry",
    };
    m.raise({ ...breaker, state: "firing" });
    m.raise({ ...breaker, state: "firing" });
    expect(events).toHaveLength(1);
    expect(m.status()).toMatchObject({ level: "critical", message: "error: breaker tts open" });
    m.raise({ ...breaker, state: "resolved" });
    expect(m.active()).toEqual([]);
    expect(m.summary()).toMatchObject({
      firedByLevel: { error: 1 },
      firedByRule: { breaker_open: 1 },
      resolved: 1,
    });
  });

  it("summarises history: counts and mean time to resolve", () => {
    const m = make({ rules: [{ name: "A", metric: "a", levels: { warning: 1 } }], historySize: 3 });
    m.observe(sample("a", 2));
    vi.advanceTimersByTime(10_000);
    m.observe(sample("a", 0));
    m.observe(sample("a", 2));
    vi.advanceTimersByTime(30_000);
    m.observe(sample("a", 0));
    const s = m.summary();
    expect(s.meanTimeToResolveMs).toBe(20_000);
    expect(m.history()).toHaveLength(3); // bounded
  });

  it("rejects bad options with every issue", () => {
    try {
      createAlertManager({
        rules: [{ name: "x", metric: "m", levels: {} }],
        route: { groupWait: "soon" },
        handlers: [{ name: "h" } as never],
        silences: [{ matchers: {} } as never],
      });
      expect.unreachable();
    } catch (error) {
      expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
      const paths = (error as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          "rules[0].levels",
          "route.groupWait",
          "handlers[0]",
          "silences[0].matchers",
          "silences[0].endsAt",
        ]),
      );
    }
  });
});

describe("notification", () => {
  function recorder(name = "rec", extra: Partial<Parameters<typeof defineAlertHandler>[0]> = {}) {
    const got: AlertNotification[] = [];
    return { got, handler: defineAlertHandler({ name, send: (n) => void got.push(n), ...extra }) };
  }
  const rules = [
    // one sample each, then long waits: keep the last values standing (no-data after a day)
    {
      name: "Hot",
      metric: "temp",
      levels: { warning: { threshold: 80, clear: 70 }, critical: 90 },
      noData: { after: "1d" },
    },
    { name: "Slow", metric: "lat", levels: { warning: 5 }, noData: { after: "1d" } },
  ];

  it("groups alerts by alertname after group_wait, sends changes at group_interval, repeats at repeat_interval", async () => {
    const { got, handler } = recorder();
    const m = make({
      rules,
      handlers: [handler],
      route: { groupWait: "10s", groupInterval: "1m", repeatInterval: "10m" },
    });
    m.observe(sample("temp", 85, { gpu: "0" }));
    await vi.advanceTimersByTimeAsync(5_000);
    m.observe(sample("temp", 85, { gpu: "1" }));
    m.observe(sample("lat", 9, { step: "tts" }));
    expect(got).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(got.map((n) => [n.groupKey, n.alerts.length])).toEqual([['{}:{alertname="Hot"}', 2]]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(got).toHaveLength(2); // Slow's own group_wait
    expect(got[0]!.commonLabels).toEqual({ alertname: "Hot", severity: "warning" });
    // unchanged: no re-send at group_interval (dedup)...
    await vi.advanceTimersByTimeAsync(120_000);
    expect(got).toHaveLength(2);
    // ...until repeat_interval
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(got.filter((n) => n.groupKey.includes("Hot")).length).toBe(2);
    // a change (escalation) goes out at the next group_interval tick, not at once
    m.observe(sample("temp", 95, { gpu: "0" }));
    const before = got.length;
    await vi.advanceTimersByTimeAsync(60_000);
    const last = got.slice(before).find((n) => n.groupKey.includes("Hot"))!;
    expect(last.level).toBe("critical");
    // resolved notifications
    m.observe(sample("temp", 10, { gpu: "0" }));
    m.observe(sample("temp", 10, { gpu: "1" }));
    await vi.advanceTimersByTimeAsync(60_000);
    const resolved = got.at(-1)!;
    expect(resolved.status).toBe("resolved");
    expect(resolved.alerts.map((a) => a.status)).toEqual(["resolved", "resolved"]);
  });

  it("silences with matchers and expiry", async () => {
    const { got, handler } = recorder();
    const m = make({ rules, handlers: [handler], route: { groupWait: 0, groupInterval: "10s" } });
    const s = m.silence({ matchers: ['gpu="0"'], duration: "1m", comment: "maintenance" });
    m.observe(sample("temp", 85, { gpu: "0" }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(got).toHaveLength(0);
    expect(m.active()[0]!.muted).toBe("silenced");
    expect(m.history()[0]!.muted).toBe("silenced");
    await vi.advanceTimersByTimeAsync(60_000); // the silence expires; the next group tick notifies
    expect(got).toHaveLength(1);
    expect(m.silences().find((x) => x.id === s.id)!.state).toBe("expired");
    m.silence({ matchers: { alertname: "Hot" }, duration: "1h" });
    const s2 = m.silences().at(-1)!;
    expect(m.expireSilence(s2.id)).toBe(true);
    expect(m.silences().at(-1)!.state).toBe("expired");
  });

  it("inhibits warnings while a critical alert with equal labels fires", async () => {
    const { got, handler } = recorder();
    const m = make({
      rules: [
        { name: "Hot", metric: "temp", levels: { critical: 90 } },
        { name: "Throttled", metric: "thr", levels: { warning: 0 } },
      ],
      handlers: [handler],
      route: { groupWait: 0, groupBy: ["gpu"] },
      inhibit: [{ source: { severity: "critical" }, target: { severity: "warning" }, equal: ["gpu"] }],
    });
    m.observe(sample("temp", 95, { gpu: "0" }));
    m.observe(sample("thr", 1, { gpu: "0" }));
    m.observe(sample("thr", 1, { gpu: "1" }));
    await vi.advanceTimersByTimeAsync(1_000);
    const sent = got.flatMap((n) => n.alerts.map((a) => `${a.rule}/${a.labels.gpu}`)).sort();
    expect(sent).toEqual(["Hot/0", "Throttled/1"]);
    expect(m.active().find((a) => a.rule === "Throttled" && a.labels.gpu === "0")!.muted).toBe("inhibited");
  });

  it("never delays observe() while a handler hangs, times out and retries it, and reports the failure", async () => {
    const errors: unknown[] = [];
    const metrics: string[] = [];
    let calls = 0;
    const hanging = defineAlertHandler({
      name: "hang",
      timeoutMs: 1_000,
      retries: 2,
      backoffMs: 100,
      send: () => {
        calls++;
        return new Promise<void>(() => {}); // never settles, ignores its signal
      },
    });
    const { got, handler } = recorder("ok");
    manager = createAlertManager({
      rules,
      handlers: [hanging, handler],
      route: { groupWait: 0 },
      onError: (e) => errors.push(e),
      onMetric: (name, _v, l) => metrics.push(`${name}{${l.handler},${l.outcome}}`),
    });
    manager.observe(sample("temp", 85, { gpu: "0" }));
    await vi.advanceTimersByTimeAsync(10);
    expect(got).toHaveLength(1); // the healthy handler is not held up by the hanging one
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT",
      handler: "hang",
      attempts: 3,
    });
    expect(metrics).toEqual(
      expect.arrayContaining([
        "tapline_alert_notifications_total{hang,retried}",
        "tapline_alert_notifications_total{hang,failed}",
        "tapline_alert_notifications_total{ok,sent}",
      ]),
    );
    expect(manager.summary().handlers.find((h) => h.name === "hang")).toMatchObject({
      failed: 1,
      retries: 2,
    });
  });
});
