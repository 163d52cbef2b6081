import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AlertEvent,
  createTapline,
  definePlugin,
  isTaplineError,
  type Logger,
  type StepContext,
  type TaplineApp,
} from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LimitsPluginOptions, limits, WindowBudgetExceededError } from "../src/index.ts";

let dir: string;
let apps: TaplineApp[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline-spend-"));
});
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
  rmSync(dir, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
const manualClock = (start: number) => {
  const c = {
    t: start,
    now: () => c.t,
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  return c;
};

const open = (options: LimitsPluginOptions, warnings?: string[]) => {
  const logger: Logger = warnings
    ? {
        ...silentLogger,
        warn: (_: unknown, msg?: string) => void warnings.push(String(msg)),
        child: () => logger,
      }
    : silentLogger;
  const app = createTapline({ dir, logger, plugins: [limits(options)] });
  apps.push(app);
  return app;
};

/** One step that bills `usd`, with an estimate of the same. */
const paying = (app: TaplineApp, usd: number, estimate = true) =>
  app
    .pipeline<string>("pay")
    .step(
      "call",
      (x: string, ctx: StepContext) => {
        ctx.cost(usd, { unit: "usd" });
        return x;
      },
      estimate ? { estimate: { usd } } : {},
    )
    .build();

const DAY = Date.UTC(2026, 11, 1, 12);

describe("the app's window budget", () => {
  it("keeps the spend across a restart: a new app on the same dir stops the unit that would pass it", async () => {
    const first = open({ budget: { daily: { usd: 1 } } });
    expect((await paying(first, 0.6).run("a")).status).toBe("success");
    await first.close();

    const second = open({ budget: { daily: { usd: 1 } } });
    const report = await paying(second, 0.6).run("b");
    expect(report.status).toBe("failed");
    const error = report.error;
    expect(isTaplineError(error, "TAPLINE_ERR_BUDGET_EXCEEDED")).toBe(true);
    expect(error).toBeInstanceOf(WindowBudgetExceededError);
    expect(error).toMatchObject({
      spent: 0.6,
      estimate: 0.6,
      limit: 1,
      costUnit: "usd",
      unit: "call",
      window: "daily",
    });
    expect((error as Error).message).toMatch(
      /"call" would cost 0\.6 usd on top of the app's daily spend .* of 0\.6 usd, past its limit of 1 usd/,
    );
    expect(report.budgetExceeded).toBe(error);
    expect(report.steps[0]!.status).toBe("failed");
  });

  it("counts every run's cost, also of units with no estimate, and then starts nothing more", async () => {
    const app = open({ budget: { daily: { usd: 1 } } });
    const free = paying(app, 0.7, false);
    expect((await free.run("a")).status).toBe("success");
    // 0.7 + 0.7 passes the limit during the unit: it is not stopped (no estimate), but counted.
    expect((await free.run("b")).status).toBe("success");
    const third = await free.run("c");
    expect(third.status).toBe("failed");
    expect(third.error).toMatchObject({ spent: 1.4, estimate: 0, window: "daily" });
    expect((third.error as Error).message).toMatch(
      /daily spend .* is 1\.4 usd, past its limit of 1 usd; "call" did not start/,
    );
  });

  it("a torn write never loses earlier spend: the torn line is skipped with a warning, later ones count", async () => {
    const clock = manualClock(DAY);
    const first = open({ budget: { daily: { usd: 1 } }, clock });
    await paying(first, 0.5, false).run("a");
    await first.close();
    const file = join(dir, "limits", "spend-daily-2026-12-01.jsonl");
    appendFileSync(file, '{"t":1,"unit":"usd","amo'); // a crash in the middle of a write

    const warnings: string[] = [];
    const second = open({ budget: { daily: { usd: 1 } }, clock }, warnings);
    await paying(second, 0.3, false).run("b");
    await second.close();

    const third = open({ budget: { daily: { usd: 1 } }, clock }, warnings);
    const report = await paying(third, 0.3).run("c");
    expect(report.error).toMatchObject({ spent: 0.8, estimate: 0.3 });
    expect(warnings.some((w) => w.includes("torn line"))).toBe(true);
    // Every whole record is a line of its own: the torn one did not swallow the one appended after it.
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(lines.filter((l) => l.includes('"amount"'))).toHaveLength(2);
  });

  it("rolls over to a new window when the clock passes midnight (in the budget's time zone)", async () => {
    const clock = manualClock(Date.UTC(2026, 11, 1, 23, 59));
    const app = open({ budget: { daily: { usd: 1 } }, clock });
    const p = paying(app, 0.9);
    expect((await p.run("a")).status).toBe("success");
    const stopped = await p.run("b");
    expect(stopped.error).toMatchObject({ period: "2026-12-01", spent: 0.9 });
    clock.t = Date.UTC(2026, 11, 2, 0, 0, 1);
    expect((await p.run("c")).status).toBe("success");
    expect(readdirSync(join(dir, "limits")).sort()).toEqual([
      "spend-daily-2026-12-01.jsonl",
      "spend-daily-2026-12-02.jsonl",
    ]);

    // In Paris (UTC+1 in December) 23:30 UTC is already the next day.
    const paris = open({
      budget: { daily: { usd: 1 }, timeZone: "Europe/Paris" },
      clock: manualClock(Date.UTC(2026, 11, 2, 23, 30)),
    });
    const r = await paying(paris, 2).run("d");
    expect(r.error).toMatchObject({ period: "2026-12-03", timeZone: "Europe/Paris", spent: 0 });
  });

  it("concurrent runs: in-flight estimates count, so never more start than the window holds", async () => {
    const app = open({ budget: { daily: { usd: 1 } } });
    let inFlight = 0;
    let maxInFlight = 0;
    const gate = Promise.withResolvers<void>();
    const p = app
      .pipeline<number>("render")
      .step(
        "render",
        async (x: number, ctx: StepContext) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await gate.promise;
          ctx.cost(0.3, { unit: "usd" });
          inFlight--;
          return x;
        },
        { estimate: { usd: 0.3 } },
      )
      .build();
    const runs = Array.from({ length: 5 }, (_, i) => p.run(i));
    // Wait on state: the three that fit have started.
    while (inFlight < 3) await new Promise((r) => setImmediate(r));
    gate.resolve();
    const reports = await Promise.all(runs);
    expect(reports.filter((r) => r.status === "success")).toHaveLength(3);
    expect(reports.filter((r) => isTaplineError(r.error, "TAPLINE_ERR_BUDGET_EXCEEDED"))).toHaveLength(2);
    expect(maxInFlight).toBe(3);
    // Spent 0.9: the reservations are gone, so a 0.1 unit still fits and a 0.2 one does not.
    const small = paying(app, 0.1);
    expect((await small.run("x")).status).toBe("success");
    const over = (await paying(app, 0.2).run("y")).error as WindowBudgetExceededError;
    expect(over.spent).toBeCloseTo(1, 9);
  });

  it("a spend is not counted twice while its unit is still running", async () => {
    const app = open({ budget: { daily: { usd: 1 } } });
    const spent = Promise.withResolvers<void>();
    const finish = Promise.withResolvers<void>();
    const slow = app
      .pipeline<number>("slow")
      .step(
        "s",
        async (x: number, ctx: StepContext) => {
          ctx.cost(0.5, { unit: "usd" });
          spent.resolve();
          await finish.promise;
          return x;
        },
        { estimate: { usd: 0.5 } },
      )
      .build();
    const running = slow.run(1);
    await spent.promise;
    // 0.5 spent (the estimate is used up), so 0.5 more fits.
    expect((await paying(app, 0.5).run("x")).status).toBe("success");
    finish.resolve();
    expect((await running).status).toBe("success");
  });

  it("two apps (two processes) on one data dir add up each other's spend", async () => {
    const a = open({ budget: { daily: { usd: 1 } } });
    const b = open({ budget: { daily: { usd: 1 } } });
    expect((await paying(a, 0.9).run("a")).status).toBe("success");
    // b re-reads the journal at most every 100 ms: poll until it has seen a's spend (its probe spends nothing).
    const probe = b
      .pipeline<string>("probe")
      .step("p", (x: string) => x, { estimate: { usd: 0.2 } })
      .build();
    let report = await probe.run("x");
    for (let i = 0; i < 200 && report.status === "success"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      report = await probe.run("x");
    }
    expect(report.error).toMatchObject({ spent: 0.9, estimate: 0.2, window: "daily" });
  });

  it("publishes each window's spend as a gauge, and alerts once when a window is spent (resolved the next day)", async () => {
    const clock = manualClock(DAY);
    const alerts: AlertEvent[] = [];
    const gauges: number[] = [];
    const watcher = definePlugin({
      name: "watcher",
      version: "1.0.0",
      core: "^1.0.0",
      setup({ hooks }) {
        hooks.alert.tap("watcher", (e) => void alerts.push(e));
        hooks.metric.tap("watcher", (m) => {
          if (m.name === "tapline_budget_spent") gauges.push(m.value);
        });
      },
    })();
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [watcher, limits({ budget: { daily: { usd: 1 } }, clock })],
    });
    apps.push(app);
    const p = paying(app, 0.6, false);
    await p.run("a");
    await p.run("b"); // 1.2: past the limit
    await p.run("c"); // stopped: no second alert
    const part = app.status().parts.find((x) => x.component === "limits")!;
    expect(part.level).toBe("degraded");
    expect(part.message).toContain("daily budget spent: 1.2 of 1 usd (2026-12-01); no unit starts");
    clock.t = DAY + 86_400_000;
    await p.run("d");
    await expect.poll(() => alerts.length).toBe(2);
    expect(alerts.map((e) => [e.rule, e.state, e.labels])).toEqual([
      ["budget_exhausted", "firing", { window: "daily", unit: "usd" }],
      ["budget_exhausted", "resolved", { window: "daily", unit: "usd" }],
    ]);
    expect(alerts[0]!.message).toMatch(
      /daily spend \(2026-12-01\) reached 1\.2 usd, past its limit of 1 usd/,
    );
    expect(gauges).toEqual([0.6, 1.2, 0.6]);
    expect(app.status().parts.find((x) => x.component === "limits")?.level).toBe("ok");
  });

  it("checks its options once, with did-you-mean", () => {
    expect(() => open({ budget: { daly: { usd: 1 } } as never })).toThrow(/daly.*did you mean "daily"/s);
    expect(() => open({ budget: { daily: { usd: 1 }, timeZone: "Mars/Olympus" } })).toThrow(/IANA time zone/);
    expect(() => open({ budget: { timeZone: "UTC" } })).toThrow(/needs a window/);
    expect(() => open({})).toThrow(/at least one key, or a budget/);
  });
});
