import { describe, expect, it } from "vitest";
import { isTaplineError, WrapStage } from "../src/index.ts";
import { plugin, quietApp, sleep } from "./helpers.ts";

describe("cancellation", () => {
  it("aborts the running step's signal with the run's reason and starts no later step", async () => {
    const app = quietApp();
    const controller = new AbortController();
    let seenReason: unknown;
    let laterStarted = false;
    const pipeline = app
      .pipeline("p")
      .step("slow", (_: void, ctx) => {
        setTimeout(() => controller.abort("user pressed stop"), 10);
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            seenReason = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        });
      })
      .step("later", () => {
        laterStarted = true;
      })
      .build();
    const report = await pipeline.run(undefined, { signal: controller.signal });
    expect(seenReason).toBe("user pressed stop");
    expect(laterStarted).toBe(false);
    expect(report.status).toBe("cancelled");
    expect(report.cancelReason).toBe("user pressed stop");
    expect(isTaplineError(report.error, "TAPLINE_ERR_CANCELLED")).toBe(true);
    expect(report.steps.map((s) => s.status)).toEqual(["cancelled", "skipped"]);
    expect(report.steps[0]!.abandoned).toBe(false);
    await app.close();
  });

  it("cancels between steps: the next step never starts", async () => {
    const app = quietApp();
    const controller = new AbortController();
    const started: string[] = [];
    const report = await app
      .pipeline("p")
      .step("a", () => {
        started.push("a");
        controller.abort(new Error("stop after a"));
      })
      .step("b", () => void started.push("b"))
      .build()
      .run(undefined, { signal: controller.signal });
    expect(started).toEqual(["a"]);
    expect(report.status).toBe("cancelled");
    expect((report.cancelReason as Error).message).toBe("stop after a");
    expect(report.steps.map((s) => s.status)).toEqual(["success", "skipped"]);
    await app.close();
  });

  it("does not call any step when the signal is already aborted", async () => {
    const app = quietApp();
    let called = false;
    const report = await app
      .pipeline("p")
      .step("a", () => {
        called = true;
      })
      .build()
      .run(undefined, { signal: AbortSignal.abort("too late") });
    expect(called).toBe(false);
    expect(report.status).toBe("cancelled");
    expect(report.steps[0]!.status).toBe("skipped");
    await app.close();
  });

  it("settles within the grace period when a step ignores its signal, marking it abandoned", async () => {
    const app = quietApp({ graceMs: 50 });
    const controller = new AbortController();
    let release!: () => void;
    const ignoring = new Promise<void>((r) => (release = r));
    setTimeout(() => controller.abort("stop"), 10);
    const t0 = performance.now();
    const report = await app
      .pipeline("p")
      .step("stubborn", () => ignoring)
      .build()
      .run(undefined, { signal: controller.signal });
    const elapsed = performance.now() - t0;
    release();
    expect(report.status).toBe("cancelled");
    expect(report.steps[0]!.abandoned).toBe(true);
    // Bounded, not timed: it did not wait for the step (which never settles on its own).
    expect(elapsed).toBeLessThan(5_000);
    await app.close();
  });

  it("wakes a wrapper's backoff: the run settles after the grace period even if the wrapper sleeps on", async () => {
    const sleepy = plugin("sleepy", ({ hooks }) => {
      hooks.wrapStep.tap({ name: "sleepy", stage: WrapStage.retry }, (next) => async (input, signal) => {
        try {
          return await next(input, signal);
        } catch {
          await sleep(60_000); // ignores the signal on purpose
          return next(input, signal);
        }
      });
    });
    const app = quietApp({ plugins: [sleepy], graceMs: 20 });
    const controller = new AbortController();
    const reportPromise = app
      .pipeline("p")
      .step("fail", () => {
        setTimeout(() => controller.abort("cancel during backoff"), 5);
        throw new Error("first attempt fails");
      })
      .build()
      .run(undefined, { signal: controller.signal });
    const report = await reportPromise;
    expect(report.status).toBe("cancelled");
    expect(report.steps[0]!.abandoned).toBe(true);
    await app.close();
  });

  it("never calls the step again once the signal is aborted, even if a wrapper retries", async () => {
    const retrier = plugin("retrier", ({ hooks }) => {
      hooks.wrapStep.tap({ name: "retrier", stage: WrapStage.retry }, (next) => async (input, signal) => {
        for (;;) {
          try {
            return await next(input, signal);
          } catch (e) {
            if (signal.aborted) throw e;
          }
        }
      });
    });
    const app = quietApp({ plugins: [retrier] });
    const controller = new AbortController();
    let calls = 0;
    const report = await app
      .pipeline("p")
      .step("s", () => {
        calls++;
        controller.abort("stop");
        throw new Error("fails");
      })
      .build()
      .run(undefined, { signal: controller.signal });
    expect(calls).toBe(1);
    expect(report.status).toBe("cancelled");
    await app.close();
  });

  it("fails a step that runs past its timeout option with a StepTimeoutError as the signal reason", async () => {
    const app = quietApp({ graceMs: 20 });
    let reason: unknown;
    let deadline: number | undefined;
    const report = await app
      .pipeline("p")
      .step(
        "slow",
        (_: void, ctx) =>
          new Promise((_r, reject) => {
            deadline = ctx.deadline;
            ctx.signal.addEventListener("abort", () => {
              reason = ctx.signal.reason;
              reject(reason);
            });
          }),
        { timeout: 20 },
      )
      .build()
      .run();
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_STEP_TIMEOUT")).toBe(true);
    expect(reason).toBe(report.error);
    const step = report.steps[0]!;
    expect(deadline).toBeCloseTo(step.startedAt + 20, 0);
    await app.close();
  });
});

describe("concurrency", () => {
  it("runs 100 pipelines at once with no cross-talk between their contexts, outputs or reports", async () => {
    const seenRuns = new Map<string, number[]>();
    const tracker = plugin("tracker", ({ hooks }) => {
      hooks.stepEnd.tapPromise("tracker", async ({ ctx, report }) => {
        const outputs = seenRuns.get(ctx.runId) ?? [];
        outputs.push(report.output as number);
        seenRuns.set(ctx.runId, outputs);
      });
    });
    const app = quietApp({ plugins: [tracker] });
    const pipeline = app
      .pipeline<number>("p")
      .step("double", async (n) => {
        await sleep(Math.random() * 5);
        return n * 2;
      })
      .step("plus", async (n, ctx) => {
        await sleep(Math.random() * 5);
        return n + ctx.outputs.double;
      })
      .build();
    const reports = await Promise.all(
      Array.from({ length: 100 }, (_, i) => pipeline.run(i, { runId: `run-${i}` })),
    );
    reports.forEach((report, i) => {
      expect(report.runId).toBe(`run-${i}`);
      expect(report.output).toBe(4 * i);
      expect(report.outputs).toEqual({ double: 2 * i, plus: 4 * i });
      expect(seenRuns.get(`run-${i}`)).toEqual([2 * i, 4 * i]);
    });
    await app.close();
  });
});
