import { describe, expect, it } from "vitest";
import { isTaplineError, type MetricSample, WrapStage } from "../src/index.ts";
import { plugin, quietApp } from "./helpers.ts";

describe("cost", () => {
  it("is recorded per attempt (a billed failed attempt still costs), summed per unit, step and run", async () => {
    const samples: MetricSample[] = [];
    const spy = plugin("spy", ({ hooks }) => {
      hooks.metric.tap("spy", (s) => void samples.push(s));
      // Retry once, as a retry plugin would.
      hooks.wrapStep.tap({ name: "spy", stage: WrapStage.retry }, (next) => async (input, signal) => {
        try {
          return await next(input, signal);
        } catch {
          return next(input, signal);
        }
      });
    });
    const app = quietApp({ plugins: [spy] });
    let calls = 0;
    const p = app
      .pipeline("story")
      .step("script", async (_input, ctx) => {
        ctx.cost(0.002, { unit: "usd" });
        ctx.cost(1200, { unit: "tokens", labels: { model: "m1" } });
        if (++calls === 1) throw new Error("503 after billing");
        return "text";
      })
      .map(
        "scenes",
        () => [1, 2, 3],
        async (n: number, ctx) => {
          ctx.cost(0.01 * n, { unit: "usd" });
          return n;
        },
      )
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("success");
    const [script, scenes] = report.steps;
    expect(script!.attempts.map((a) => a.cost)).toEqual([
      { usd: 0.002, tokens: 1200 },
      { usd: 0.002, tokens: 1200 },
    ]);
    expect(script!.cost).toEqual({ usd: 0.004, tokens: 2400 });
    expect(scenes!.children!.map((c) => c.cost.usd)).toEqual([0.01, 0.02, 0.03]);
    expect(scenes!.cost.usd).toBeCloseTo(0.06, 10);
    expect(report.cost.usd).toBeCloseTo(0.064, 10);
    expect(report.cost.tokens).toBe(2400);
    const costSamples = samples.filter((s) => s.name === "tapline_cost_total");
    expect(costSamples).toHaveLength(7);
    expect(costSamples[1]).toMatchObject({
      value: 1200,
      type: "counter",
      labels: { pipeline: "story", step: "script", unit: "tokens", model: "m1" },
    });
    expect(costSamples.at(-1)!.labels.step).toBe("scenes[]");
    await app.close();
  });

  it("rejects a bad amount or a missing unit with a message naming the unit of work", async () => {
    const app = quietApp();
    const report = await app
      .pipeline("p")
      .step("a", (_i, ctx) => {
        ctx.cost(Number.NaN, { unit: "usd" });
      })
      .build()
      .run(undefined);
    expect(String((report.error as Error).message)).toBe(
      'ctx.cost() in "a" needs a finite amount >= 0, got NaN',
    );
    await app.close();
  });
});

describe("budget", () => {
  it("stops the run before the unit whose estimate would pass it, naming spend, limit and unit", async () => {
    const app = quietApp();
    const started: string[] = [];
    const p = app
      .pipeline<number>("story", { budget: { usd: 0.05 } })
      .step("script", (_n, ctx) => {
        started.push("script");
        ctx.cost(0.03, { unit: "usd" });
        return "s";
      })
      .step(
        "render",
        () => {
          started.push("render");
          return "video";
        },
        { estimate: { usd: 0.03 } },
      )
      .build();
    const report = await p.run(1);
    expect(report.status).toBe("failed");
    expect(started).toEqual(["script"]);
    expect(report.failedStep).toBe("render");
    expect(isTaplineError(report.error, "TAPLINE_ERR_BUDGET_EXCEEDED")).toBe(true);
    expect((report.error as Error).message).toBe(
      'budget: "render" would cost 0.03 usd on top of 0.03 spent, past the run\'s limit of 0.05 usd; it did not start',
    );
    expect(report.steps[1]!.attempts).toEqual([]);
    expect(report.budget).toEqual({ usd: 0.05 });
    // A run's own budget overrides the pipeline's.
    const roomy = await p.run(1, { budget: { usd: 1 } });
    expect(roomy.status).toBe("success");
    await app.close();
  });

  it("a spend that passes the budget during a unit is reported, and no later unit starts", async () => {
    const app = quietApp();
    const started: string[] = [];
    const p = app
      .pipeline("p")
      .map(
        "scenes",
        () => [0, 1, 2],
        async (i: number, ctx) => {
          started.push(`scene ${i}`);
          ctx.cost(0.02, { unit: "usd" });
          return i;
        },
        { concurrency: 1 },
      )
      .step("render", () => started.push("render"))
      .build();
    const report = await p.run(undefined, { budget: { usd: 0.03 } });
    expect(report.status).toBe("failed");
    expect(started).toEqual(["scene 0", "scene 1"]);
    expect(report.failedStep).toBe("scenes[2]");
    expect(isTaplineError(report.budgetExceeded, "TAPLINE_ERR_BUDGET_EXCEEDED")).toBe(true);
    expect((report.budgetExceeded as Error).message).toContain(
      '"scenes[1]" brought the run\'s spend to 0.04 usd',
    );
    await app.close();
  });

  it("checks the estimate and the pipeline budget when they are defined", () => {
    const app = quietApp();
    expect(() => app.pipeline("p").step("a", () => 1, { estimate: { usd: -1 } })).toThrow(
      /option "estimate.usd" must be a finite number >= 0, got -1/,
    );
    expect(() => app.pipeline("p", { budjet: { usd: 1 } } as never)).toThrow(/did you mean "budget"/);
  });
});
