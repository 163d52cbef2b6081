import {
  type AlertEvent,
  createTapline,
  definePlugin,
  isTaplineError,
  type MetricSample,
} from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it } from "vitest";
import { getRetryHooks, type RetryReport, retry } from "../src/index.ts";

/** A plugin that records every metric sample and alert event, as plugin-metrics and plugin-alerts would see them. */
const recorder = () => {
  const metrics: MetricSample[] = [];
  const alerts: AlertEvent[] = [];
  const plugin = definePlugin({
    name: "recorder",
    version: "1.0.0",
    core: "^1.0.0",
    setup(api) {
      api.hooks.metric.tap("recorder", (s) => void metrics.push(s));
      api.hooks.alert.tapPromise("recorder", async (e) => void alerts.push(e));
    },
  });
  return { plugin: plugin(), metrics, alerts };
};

const sum = (metrics: MetricSample[], name: string) =>
  metrics.filter((m) => m.name === name).reduce((a, m) => a + m.value, 0);
const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe("retry plugin in a pipeline", () => {
  it("retries a failing step, records attempts and delays, and publishes metrics", async () => {
    const rec = recorder();
    const app = createTapline({
      logger: silentLogger,
      plugins: [rec.plugin, retry({ defaults: { maxAttempts: 4, backoff: { kind: "constant", delay: 5 } } })],
    });
    apps.push(app);
    const scheduled: number[] = [];
    getRetryHooks(app).retryScheduled.tap("test", (e) => void scheduled.push(e.delayMs));
    let calls = 0;
    const pipeline = app
      .pipeline<string>("story")
      .step("script", async (idea) => {
        if (++calls < 3) throw Object.assign(new Error(`503 #${calls}`), { status: 503 });
        return `${idea}!`;
      })
      .build();
    const report = await pipeline.run("idea");
    expect(report.status).toBe("success");
    expect(report.output).toBe("idea!");
    const step = report.steps[0]!;
    expect(step.attempts.map((a) => a.status)).toEqual(["failed", "failed", "success"]);
    const ext = step.extensions.retry as RetryReport;
    expect(ext.attempts).toEqual([
      { attempt: 1, outcome: "retryable", error: "Error: 503 #1", delayMs: 5 },
      { attempt: 2, outcome: "retryable", error: "Error: 503 #2", delayMs: 5 },
      { attempt: 3, outcome: "success" },
    ]);
    expect(ext.totalDelayMs).toBe(10);
    expect(scheduled).toEqual([5, 5]);
    expect(sum(rec.metrics, "tapline_retry_attempts_total")).toBe(3);
    expect(sum(rec.metrics, "tapline_retries_total")).toBe(2);
    expect(sum(rec.metrics, "tapline_retry_sleep_seconds_total")).toBeCloseTo(0.01);
    expect(sum(rec.metrics, "tapline_retry_giveups_total")).toBe(0);
    const sample = rec.metrics.find((m) => m.name === "tapline_retries_total")!;
    expect(sample.labels).toMatchObject({ pipeline: "story", step: "script" });
    expect(sample.type).toBe("counter");
  });

  it("gives up on a non-retryable failure and reports why", async () => {
    const rec = recorder();
    const app = createTapline({ logger: silentLogger, plugins: [rec.plugin, retry()] });
    apps.push(app);
    const reasons: string[] = [];
    getRetryHooks(app).gaveUp.tap("test", (e) => void reasons.push(e.reason));
    let calls = 0;
    const report = await app
      .pipeline("p")
      .step("s", async () => {
        calls++;
        throw Object.assign(new Error("unauthorised"), { status: 401 });
      })
      .build()
      .run();
    expect(report.status).toBe("failed");
    expect(calls).toBe(1);
    expect(reasons).toEqual(["ignored"]);
    expect((report.steps[0]!.extensions.retry as RetryReport).gaveUp).toBe("ignored");
    expect(sum(rec.metrics, "tapline_retry_giveups_total")).toBe(1);
  });

  it("shares a named breaker across steps, raises breaker_open alerts and gauges, then resolves", async () => {
    const rec = recorder();
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        rec.plugin,
        retry({
          defaults: { maxAttempts: 1 },
          breakers: { openai: { trip: { kind: "consecutive", threshold: 2 }, openDuration: 40 } },
        }),
      ],
    });
    apps.push(app);
    const transitions: string[] = [];
    getRetryHooks(app).breakerTransition.tap("test", (t) => void transitions.push(`${t.from}>${t.to}`));
    let healthy = false;
    const call = async () => {
      if (!healthy) throw new Error("provider down");
      return "ok";
    };
    const a = app
      .pipeline("a")
      .step("script", call, { retry: { breaker: "openai" } })
      .build();
    const b = app
      .pipeline("b")
      .step("title", call, { retry: { breaker: "openai" } })
      .build();
    await a.run();
    await b.run();
    const rejected = await a.run();
    expect(isTaplineError(rejected.error, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
    expect(app.status().message).toMatch(/openai open/);
    await new Promise((r) => setTimeout(r, 50));
    healthy = true;
    expect((await b.run()).status).toBe("success");
    expect(transitions).toEqual(["closed>open", "open>halfOpen", "halfOpen>closed"]);
    await new Promise((r) => setImmediate(r));
    expect(rec.alerts.map((e) => `${e.rule}:${e.state}:${e.level}:${e.labels.breaker}`)).toEqual([
      "breaker_open:firing:error:openai",
      "breaker_open:resolved:error:openai",
    ]);
    const gauge = rec.metrics.filter((m) => m.name === "tapline_breaker_state").map((m) => m.value);
    expect(gauge).toEqual([0, 2, 1, 0]); // 0 published at setup, then open, half-open, closed
    expect(sum(rec.metrics, "tapline_breaker_rejections_total")).toBe(1);
  });

  it("bounds each attempt at stage 100 and retries with a fresh signal", async () => {
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        retry({ defaults: { maxAttempts: 3, attemptTimeout: 20, backoff: { kind: "constant", delay: 1 } } }),
      ],
    });
    apps.push(app);
    const signals: AbortSignal[] = [];
    const report = await app
      .pipeline("p")
      .step("tts", (_input, ctx) => {
        signals.push(ctx.signal);
        return ctx.attempt === 1 ? new Promise(() => {}) : Promise.resolve("audio");
      })
      .build()
      .run();
    expect(report.status).toBe("success");
    expect(signals[0]!.aborted).toBe(true);
    expect(isTaplineError(signals[0]!.reason, "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT")).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
  });

  it("retry: false turns retries off for a step", async () => {
    const app = createTapline({ logger: silentLogger, plugins: [retry({ defaults: { maxAttempts: 5 } })] });
    apps.push(app);
    let calls = 0;
    const report = await app
      .pipeline("p")
      .step(
        "once",
        async () => {
          calls++;
          throw new Error("x");
        },
        { retry: false },
      )
      .build()
      .run();
    expect(report.status).toBe("failed");
    expect(calls).toBe(1);
  });

  it("cancelling a run wakes the backoff sleep and keeps the reason", async () => {
    const app = createTapline({
      logger: silentLogger,
      plugins: [retry({ defaults: { backoff: { kind: "constant", delay: 60_000 } } })],
    });
    apps.push(app);
    const controller = new AbortController();
    let calls = 0;
    const running = app
      .pipeline("p")
      .step("s", async () => {
        calls++;
        throw new Error("flaky");
      })
      .build()
      .run(undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    controller.abort("user pressed stop");
    const report = await running;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(report.status).toBe("cancelled");
    expect(report.cancelReason).toBe("user pressed stop");
    expect(calls).toBe(1);
  });

  it("rejects a step naming an unknown breaker when the pipeline is built", () => {
    const app = createTapline({ logger: silentLogger, plugins: [retry({ breakers: { openai: {} } })] });
    apps.push(app);
    let error: unknown;
    try {
      app
        .pipeline("p")
        .step("s", async () => 1, { retry: { breaker: "anthropic" } })
        .build();
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
    expect((error as Error).message).toMatch(/unknown breaker "anthropic"; declared breakers: openai/);
  });

  it("rejects bad plugin options at registration, listing each", () => {
    let error: unknown;
    try {
      createTapline({
        logger: silentLogger,
        plugins: [
          retry({
            defaults: { maxAttempts: -1, deadline: Number.POSITIVE_INFINITY },
            breakers: { x: { openDuration: Number.NaN } },
          }),
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(
      isTaplineError(error, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ]),
    ).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      "defaults.maxAttempts",
      "defaults.deadline",
      "breakers.x.openDuration",
    ]);
  });

  it("budgets retries on what is left of the step's timeout after slow hooks (ctx.deadline)", async () => {
    // A stepStart hook eats 200 ms of a 300 ms step timeout: ~100 ms are left, so a 150 ms backoff sleep
    // cannot fit and the policy gives up at once (reason: deadline), instead of sleeping into core's timeout.
    const slowHook = definePlugin({
      name: "slow-hook",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.stepStart.tapPromise("slow-hook", () => new Promise((r) => setTimeout(r, 200)));
      },
    });
    const app = createTapline({
      logger: silentLogger,
      graceMs: 50,
      plugins: [
        slowHook(),
        retry({ defaults: { maxAttempts: 10, backoff: { kind: "constant", delay: 150 } } }),
      ],
    });
    apps.push(app);
    let calls = 0;
    const report = await app
      .pipeline("p")
      .step(
        "flaky",
        async () => {
          calls++;
          throw Object.assign(new Error("503"), { status: 503 });
        },
        { timeout: 300 },
      )
      .build()
      .run();
    expect(report.status).toBe("failed");
    expect(calls).toBe(1);
    // It gives up with the last real error, and says why.
    expect((report.error as Error).message).toBe("503");
    expect((report.steps[0]!.extensions.retry as RetryReport).gaveUp).toBe("deadline");
  });
});

describe("retry plugin with flow shapes", () => {
  it("retries each map item on its own, through one breaker, and checks the items' options when the pipeline is built", async () => {
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        retry({
          defaults: { backoff: { kind: "constant", delay: 1 } },
          breakers: { images: { trip: { kind: "consecutive", threshold: 50 } } },
        }),
      ],
    });
    apps.push(app);
    const calls = new Map<number, number>();
    const report = await app
      .pipeline("scenes")
      .map(
        "draw",
        () => [0, 1, 2, 3],
        async (i: number) => {
          const n = (calls.get(i) ?? 0) + 1;
          calls.set(i, n);
          if (n <= i % 3) throw Object.assign(new Error("image API 503"), { status: 503 });
          return `scene ${i}`;
        },
        { concurrency: 2, retry: { maxAttempts: 3, breaker: "images" } },
      )
      .build()
      .run(undefined);
    expect(report.status).toBe("success");
    const items = report.steps[0]!.children!;
    expect(items.map((c) => c.attempts.length)).toEqual([1, 2, 3, 1]);
    expect(items.map((c) => (c.extensions.retry as RetryReport).breaker)).toEqual([
      "images",
      "images",
      "images",
      "images",
    ]);
    expect(() =>
      app
        .pipeline("bad")
        .map(
          "draw",
          () => [1],
          async (i: number) => i,
          { retry: { breaker: "imagez" } },
        )
        .build(),
    ).toThrow(/imagez/);
  });
});
