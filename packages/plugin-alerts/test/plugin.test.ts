import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline, definePlugin, isTaplineError, type PluginErrorEvent } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertNotification,
  alertManagerOf,
  alerts,
  defineAlertHandler,
  presets,
  readAlertHistory,
} from "../src/index.ts";

let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function tempDir(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "tapline-alerts-plugin-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in for plugin-retry: publishes breaker state and raises its own breaker_open alert. */
const fakeRetry = definePlugin({
  name: "fake-retry",
  version: "1.0.0",
  core: "^1.0.0",
  setup(api) {
    api.hooks.stepEnd.tapPromise("fake-retry", async ({ ctx, report }) => {
      if (report.status !== "failed") return;
      api.metric("tapline_breaker_state", 2, { breaker: ctx.step });
      api.raiseAlert({
        rule: "breaker_open",
        level: "error",
        state: "firing",
        labels: { breaker: ctx.step },
        message: `breaker ${ctx.step} open`,
      });
    });
  },
});

describe("alerts plugin in a pipeline", () => {
  it("alerts on step failures from stepEnd, takes other plugins' alerts, reports status and persists history", async () => {
    await tempDir();
    const got: AlertNotification[] = [];
    const seenByOthers: string[] = [];
    const listener = definePlugin({
      name: "listener",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.alert.tapPromise(
          "listener",
          async (e) => void seenByOthers.push(`${e.source}:${e.rule}:${e.state}`),
        );
      },
    });
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [
        fakeRetry(),
        alerts({
          rules: [presets.stepFailureRate({ minSamples: 2, warning: 0.2, critical: 0.5 })],
          handlers: [defineAlertHandler({ name: "rec", send: (n) => void got.push(n) })],
          route: { groupWait: 0, groupInterval: 50 },
        }),
        listener(),
      ],
    });
    cleanups.push(() => app.close());
    let fail = true;
    const p = app
      .pipeline<string>("story")
      .step("script", (s) => s.toUpperCase())
      .step("tts", (s) => {
        if (fail) throw new Error("provider 503");
        return `${s}.wav`;
      })
      .build();
    await p.run("a");
    await p.run("b");
    const status = app.status();
    expect(status.level).toBe("critical");
    expect(status.message).toContain("critical: alerts: critical: step tts failing 100% over 5m");
    const manager = alertManagerOf(app)!;
    expect(
      manager
        .active()
        .map((a) => a.rule)
        .sort(),
    ).toEqual(["StepFailureRate", "breaker_open"]);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.flatMap((n) => n.alerts.map((a) => a.rule)).sort()).toEqual([
      "StepFailureRate",
      "breaker_open",
    ]);
    expect(seenByOthers).toContain("@tapline/plugin-alerts:StepFailureRate:firing");
    expect(seenByOthers.filter((s) => s.startsWith("@tapline/plugin-alerts:breaker_open"))).toEqual([]); // not re-published
    fail = false;
    for (let i = 0; i < 8; i++) await p.run("c"); // 2 failures in 10 = 20%: under critical's clear (40%), above warning's (15%)
    expect(manager.active().find((a) => a.rule === "StepFailureRate")!.level).toBe("warning");
    await app.close();
    const history = await readAlertHistory(dir);
    expect(history.map((h) => `${h.rule}:${h.state}:${h.level}`)).toEqual([
      "breaker_open:firing:error",
      "StepFailureRate:firing:critical",
      "StepFailureRate:firing:warning",
    ]);
    expect((await readAlertHistory(dir, { active: true })).map((h) => h.rule).sort()).toEqual([
      "StepFailureRate",
      "breaker_open",
    ]);
  });

  it("fires a stuck-step alert while a step runs too long and resolves it when the run ends", async () => {
    await tempDir();
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [
        alerts({ rules: [presets.stuckStep({ after: 100 })], evaluationInterval: 20, persist: false }),
      ],
    });
    cleanups.push(() => app.close());
    const p = app
      .pipeline("video")
      .step("render", () => new Promise((r) => setTimeout(r, 300)))
      .build();
    const run = p.run();
    await new Promise((r) => setTimeout(r, 200));
    expect(alertManagerOf(app)!.active()).toMatchObject([
      { rule: "StepStuck", labels: { pipeline: "video", step: "render" }, state: "firing" },
    ]);
    expect(app.status().level).toBe("degraded");
    await run;
    expect(alertManagerOf(app)!.active()).toEqual([]);
    expect(
      alertManagerOf(app)!
        .history()
        .map((h) => h.state),
    ).toEqual(["firing", "resolved"]);
  });

  it("never delays a step while a handler hangs, and reports the handler's failure through pluginError", async () => {
    await tempDir();
    const errors: PluginErrorEvent[] = [];
    const sink = definePlugin({
      name: "sink",
      version: "1.0.0",
      core: "^1.0.0",
      setup: (api) => void api.hooks.pluginError.tap("sink", (e) => void errors.push(e)),
    });
    const metrics: string[] = [];
    const metricsSpy = definePlugin({
      name: "spy",
      version: "1.0.0",
      core: "^1.0.0",
      setup: (api) =>
        void api.hooks.metric.tap(
          "spy",
          (s) =>
            void (
              s.name.startsWith("tapline_alert_") &&
              metrics.push(`${s.name}{${s.labels.handler},${s.labels.outcome}}`)
            ),
        ),
    });
    const hang = defineAlertHandler({
      name: "hang",
      timeoutMs: 200,
      retries: 0,
      send: () => new Promise(() => {}),
    });
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [
        sink(),
        metricsSpy(),
        alerts({
          rules: [presets.stepFailureRate({ minSamples: 1 })],
          handlers: [hang],
          route: { groupWait: 0 },
          closeTimeout: 50,
        }),
      ],
    });
    cleanups.push(() => app.close());
    const p = app
      .pipeline("p")
      .step("bad", () => {
        throw new Error("x");
      })
      .build();
    const t0 = performance.now();
    const report = await p.run();
    const took = performance.now() - t0;
    expect(report.status).toBe("failed");
    expect(took).toBeLessThan(100); // the hanging handler costs the run nothing
    await new Promise((r) => setTimeout(r, 350));
    const handlerError = errors.find((e) => e.error.plugin === "@tapline/plugin-alerts");
    expect(handlerError?.error.hook).toBe("handler:hang");
    expect(String(handlerError?.error.message)).toMatch(/did not finish within 200 ms/);
    expect(metrics).toContain("tapline_alert_notifications_total{hang,failed}");
    expect(app.status().parts.find((x) => x.component === "alerts")!.details).toMatchObject({
      failingHandlers: ["hang"],
    });
  });

  it("alerts on other plugins' errors (pluginError) with the pluginErrors preset", async () => {
    await tempDir();
    const broken = definePlugin({
      name: "broken",
      version: "1.0.0",
      core: "^1.0.0",
      setup: (api) =>
        void api.hooks.stepEnd.tapPromise("broken", async () => {
          throw new Error("disk full");
        }),
    });
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [broken(), alerts({ rules: [presets.pluginErrors({ warning: 2 })], persist: false })],
    });
    cleanups.push(() => app.close());
    const p = app
      .pipeline("p")
      .step("a", () => 1)
      .build();
    await p.run();
    expect(alertManagerOf(app)!.active()).toEqual([]);
    const report = await p.run();
    expect(report.status).toBe("success"); // observe-hook errors never fail a run
    expect(alertManagerOf(app)!.active()).toMatchObject([
      { rule: "PluginErrors", labels: { plugin: "broken", hook: "stepEnd" }, level: "warning" },
    ]);
  });

  it("rejects bad rules at registration with every path", () => {
    try {
      createTapline({
        logger: silentLogger,
        plugins: [
          alerts({
            rules: [
              { name: "x", metric: "m", levels: { warning: { threshold: 1, clear: 2 } }, window: "later" },
            ],
          }),
        ],
      });
      expect.unreachable();
    } catch (error) {
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
      expect((error as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
        "rules[0].levels.warning.clear",
        "rules[0].window",
      ]);
    }
  });
});

describe("regression rules in a pipeline", () => {
  it("a map's items share one baseline, each duration divided by the size its unit reported", async () => {
    await tempDir();
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [
        alerts({
          rules: [
            {
              name: "SceneSlower",
              kind: "regression",
              match: { step: "scenes[]" },
              normalize: true,
              levels: { warning: 2 },
            },
          ],
        }),
      ],
    });
    const p = app
      .pipeline("story")
      .map(
        "scenes",
        () => [1, 2, 4],
        async (seconds: number, ctx) => {
          await new Promise((r) => setTimeout(r, 40 * seconds)); // 40 ms of work per second of audio
          ctx.annotate("size", { value: seconds, unit: "seconds" });
          return seconds;
        },
      )
      .build();
    expect((await p.run()).status).toBe("success");
    await app.close();
    const { readFile } = await import("node:fs/promises");
    const file = JSON.parse(await readFile(join(dir, "alerts", "baselines.json"), "utf8"));
    const [series] = file.rules.SceneSlower;
    expect(series.labels).toEqual({ pipeline: "story", step: "scenes[]" });
    const values = [...series.state.baseline, ...series.state.recent.map((r: [number, number]) => r[1])];
    expect(values).toHaveLength(3);
    for (const v of values) expect(v).toBeGreaterThan(0.035); // ≈ 0.04 s per second of audio, whatever the length
    for (const v of values) expect(v).toBeLessThan(0.08);
  });
});
