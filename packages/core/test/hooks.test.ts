import { describe, expect, it } from "vitest";
import { isTaplineError, type MetricSample, type PluginError, WrapStage } from "../src/index.ts";
import { StepValidationError } from "../src/kit.ts";
import { plugin, quietApp } from "./helpers.ts";

describe("hook order", () => {
  it("fires every lifecycle hook in order, once per run and once per step", async () => {
    const seen: string[] = [];
    const recorder = plugin("recorder", ({ hooks }) => {
      hooks.runStart.tapPromise("recorder", async () => void seen.push("runStart"));
      hooks.stepStart.tapPromise("recorder", async (e) => void seen.push(`stepStart:${e.ctx.step}`));
      hooks.validateStepInput.tapPromise(
        "recorder",
        async (e) => void seen.push(`validateStepInput:${e.ctx.step}`),
      );
      hooks.wrapStep.tap("recorder", (next, info) => async (input, signal) => {
        seen.push(`wrap:${info.step}`);
        return next(input, signal);
      });
      hooks.stepAttempt.tap("recorder", (e) => void seen.push(`stepAttempt:${e.ctx.step}:${e.phase}`));
      hooks.validateStepOutput.tapPromise(
        "recorder",
        async (e) => void seen.push(`validateStepOutput:${e.ctx.step}`),
      );
      hooks.stepEnd.tapPromise(
        "recorder",
        async (e) => void seen.push(`stepEnd:${e.ctx.step}:${e.report.status}`),
      );
      hooks.runEnd.tapPromise("recorder", async (e) => void seen.push(`runEnd:${e.report.status}`));
    });
    const app = quietApp({ plugins: [recorder] });
    const report = await app
      .pipeline<number>("p")
      .step("a", (n) => n + 1)
      .step("b", (n) => n * 2)
      .build()
      .run(1);
    expect(report.output).toBe(4);
    expect(seen).toEqual([
      "runStart",
      "stepStart:a",
      "validateStepInput:a",
      "wrap:a",
      "stepAttempt:a:start",
      "validateStepOutput:a",
      "stepAttempt:a:end",
      "stepEnd:a:success",
      "stepStart:b",
      "validateStepInput:b",
      "wrap:b",
      "stepAttempt:b:start",
      "validateStepOutput:b",
      "stepAttempt:b:end",
      "stepEnd:b:success",
      "runEnd:success",
    ]);
    await app.close();
  });

  it("nests wrapStep taps by stage, lower stage closest to the call, whatever the tap order", async () => {
    const trace: string[] = [];
    const wrap = (name: string, stage: number) =>
      plugin(name, ({ hooks }) => {
        hooks.wrapStep.tap({ name, stage }, (next) => async (input, signal) => {
          trace.push(`>${name}`);
          try {
            return await next(input, signal);
          } finally {
            trace.push(`<${name}`);
          }
        });
      });
    // registered in scrambled order on purpose
    const app = quietApp({
      plugins: [
        wrap("retry", WrapStage.retry),
        wrap("timing", WrapStage.timing),
        wrap("timeout", WrapStage.timeout),
        wrap("breaker", WrapStage.breaker),
      ],
    });
    await app
      .pipeline("p")
      .step("s", () => trace.push("call"))
      .build()
      .run();
    expect(trace).toEqual([
      ">timing",
      ">retry",
      ">breaker",
      ">timeout",
      "call",
      "<timeout",
      "<breaker",
      "<retry",
      "<timing",
    ]);
    await app.close();
  });

  it("lets a wrapStep tap call next many times; each call is a new attempt", async () => {
    const retry = plugin("retry", ({ hooks }) => {
      hooks.wrapStep.tap({ name: "retry", stage: WrapStage.retry }, (next) => async (input, signal) => {
        let last: unknown;
        for (let i = 0; i < 5; i++) {
          try {
            return await next(input, signal);
          } catch (e) {
            last = e;
          }
        }
        throw last;
      });
    });
    const attempts: number[] = [];
    const app = quietApp({ plugins: [retry] });
    let calls = 0;
    const report = await app
      .pipeline("p")
      .step("flaky", (_: void, ctx) => {
        attempts.push(ctx.attempt);
        if (++calls < 3) throw new Error(`fail ${calls}`);
        return "ok";
      })
      .build()
      .run();
    expect(report.status).toBe("success");
    expect(attempts).toEqual([1, 2, 3]);
    expect(
      report.steps[0]!.attempts.map((a) => [a.attempt, a.status, (a.error as Error | undefined)?.message]),
    ).toEqual([
      [1, "failed", "fail 1"],
      [2, "failed", "fail 2"],
      [3, "success", undefined],
    ]);
    await app.close();
  });

  it("treats a failed output validation as a failed attempt that a wrapper can retry", async () => {
    const retryOnce = plugin("retry", ({ hooks }) => {
      hooks.wrapStep.tap({ name: "retry", stage: WrapStage.retry }, (next) => async (input, signal) => {
        try {
          return await next(input, signal);
        } catch {
          return next(input, signal);
        }
      });
    });
    const validator = plugin("validator", ({ hooks }) => {
      hooks.validateStepOutput.tapPromise("validator", async ({ output }) => {
        if (output === "bad") {
          throw new StepValidationError({
            why: "output is bad",
            findings: [{ check: "x", severity: "error", message: "bad" }],
            retryable: true,
          });
        }
      });
    });
    const app = quietApp({ plugins: [retryOnce, validator] });
    const outputs = ["bad", "good"];
    const report = await app
      .pipeline("p")
      .step("tts", () => outputs.shift())
      .build()
      .run();
    expect(report.status).toBe("success");
    expect(report.output).toBe("good");
    expect(report.steps[0]!.attempts[0]!.error).toBeInstanceOf(StepValidationError);
    await app.close();
  });
});

describe("error policy", () => {
  it("reports observe-hook errors through pluginError with plugin and hook, and the run succeeds", async () => {
    const errors: PluginError[] = [];
    const broken = plugin("broken", ({ hooks }) => {
      hooks.stepStart.tapPromise("broken", async () => {
        throw new Error("observer bug");
      });
      hooks.stepEnd.tap("broken", () => {
        throw new Error("sync observer bug");
      });
      hooks.runEnd.tapAsync("broken", (_e, cb) => cb(new Error("callback observer bug")));
      hooks.stepAttempt.tap("broken", () => {
        throw new Error("attempt observer bug");
      });
    });
    const after = plugin("after", ({ hooks }) => {
      hooks.stepEnd.tapPromise("after", async ({ report }) => {
        report.extensions.after = "still ran";
      });
    });
    const listener = plugin("listener", ({ hooks }) => {
      hooks.pluginError.tap("listener", (e) => void errors.push(e.error));
    });
    const app = quietApp({ plugins: [listener, broken, after] });
    const report = await app
      .pipeline("p")
      .step("s", () => 42)
      .build()
      .run();
    expect(report.status).toBe("success");
    expect(report.steps[0]!.extensions.after).toBe("still ran");
    expect(errors.map((e) => [e.plugin, e.hook, (e.cause as Error).message]).sort()).toEqual(
      [
        ["broken", "runEnd", "callback observer bug"],
        ["broken", "stepAttempt", "attempt observer bug"],
        ["broken", "stepAttempt", "attempt observer bug"],
        ["broken", "stepEnd", "sync observer bug"],
        ["broken", "stepStart", "observer bug"],
      ].sort(),
    );
    expect(report.pluginErrors).toHaveLength(5);
    expect(errors.every((e: unknown) => isTaplineError(e, "TAPLINE_ERR_PLUGIN_HOOK"))).toBe(true);
    await app.close();
  });

  it("fails the step when a decide hook throws, attributed to the plugin", async () => {
    const strict = plugin("strict", ({ hooks }) => {
      hooks.validateStepInput.tapPromise("strict", async ({ input }) => {
        if (typeof input !== "string") throw new TypeError("input must be a string");
      });
    });
    const app = quietApp({ plugins: [strict] });
    let called = false;
    const report = await app
      .pipeline<unknown>("p")
      .step("s", () => {
        called = true;
      })
      .build()
      .run(42);
    expect(called).toBe(false);
    expect(report.status).toBe("failed");
    expect(report.failedStep).toBe("s");
    const error = report.error as PluginError;
    expect(isTaplineError(error, "TAPLINE_ERR_PLUGIN_HOOK")).toBe(true);
    expect([error.plugin, error.hook, (error.cause as Error).message]).toEqual([
      "strict",
      "validateStepInput",
      "input must be a string",
    ]);
    await app.close();
  });

  it("passes a StepValidationError from a validator through unwrapped", async () => {
    const v = plugin("v", ({ hooks }) => {
      hooks.validateStepOutput.tapPromise("v", async () => {
        throw new StepValidationError({
          why: "too quiet",
          findings: [{ check: "audio.loudness", severity: "error", message: "-40 LUFS" }],
          retryable: false,
        });
      });
    });
    const app = quietApp({ plugins: [v] });
    const report = await app
      .pipeline("p")
      .step("s", () => 1)
      .build()
      .run();
    expect(report.status).toBe("failed");
    expect(report.error).toBeInstanceOf(StepValidationError);
    expect((report.error as StepValidationError).findings[0]!.check).toBe("audio.loudness");
    await app.close();
  });

  it("attributes a throwing wrapStep tap and fails the step", async () => {
    const bad = plugin("bad-wrap", ({ hooks }) => {
      hooks.wrapStep.tap("bad-wrap", () => {
        throw new Error("cannot wrap");
      });
    });
    const app = quietApp({ plugins: [bad] });
    const report = await app
      .pipeline("p")
      .step("s", () => 1)
      .build()
      .run();
    expect(report.status).toBe("failed");
    expect((report.error as PluginError).plugin).toBe("bad-wrap");
    expect((report.error as PluginError).hook).toBe("wrapStep");
    await app.close();
  });

  it("keeps a step's own error unwrapped", async () => {
    const app = quietApp();
    const boom = new Error("step failed");
    const report = await app
      .pipeline("p")
      .step("s", () => {
        throw boom;
      })
      .step("never", () => 1)
      .build()
      .run();
    expect(report.error).toBe(boom);
    expect(report.steps.map((s) => s.status)).toEqual(["failed", "skipped"]);
    await app.close();
  });

  it("turns a throwing status tap into an unknown part instead of throwing", async () => {
    const bad = plugin("bad-status", ({ hooks }) => {
      hooks.status.tap("bad-status", () => {
        throw new Error("no status");
      });
    });
    const good = plugin("good-status", ({ hooks }) => {
      hooks.status.tap("good-status", (parts) => [
        ...parts,
        { component: "good", level: "ok", message: "fine" },
      ]);
    });
    const app = quietApp({ plugins: [bad, good] });
    const status = app.status();
    expect(status.level).toBe("healthy");
    expect(status.message).toBe("healthy (unknown: bad-status: status failed: Error: no status)");
    expect(status.parts.map((p) => [p.component, p.level])).toEqual([
      ["bad-status", "unknown"],
      ["good", "ok"],
    ]);
    await app.close();
  });

  it("takes the worst level of the parts and names the non-ok ones, worst first", async () => {
    const parts = plugin("parts", ({ hooks }) => {
      hooks.status.tap("parts", (list) => [
        ...list,
        { component: "gpu", level: "unknown", message: "starting nvidia-smi" },
        { component: "metrics", level: "degraded", message: "disk full" },
        { component: "alerts", level: "critical", message: "step tts failing 62% over 5m" },
        { component: "retry", level: "ok", message: "breakers closed" },
      ]);
    });
    const app = quietApp({ plugins: [parts] });
    expect(app.status()).toMatchObject({
      level: "critical",
      message:
        "critical: alerts: step tts failing 62% over 5m; degraded: metrics: disk full; unknown: gpu: starting nvidia-smi",
    });
    await app.close();
  });

  it("keeps the same policy on tapable's compiled path (a user interceptor, a callback tap)", async () => {
    const errors: string[] = [];
    const calls: string[] = [];
    const broken = plugin("broken", ({ hooks }) => {
      hooks.stepStart.intercept({ call: () => void calls.push("intercepted") });
      hooks.stepStart.tapPromise("broken", async () => {
        throw new Error("observer bug");
      });
      hooks.stepStart.tapAsync("broken", (_e, cb) => {
        calls.push("callback tap");
        cb();
      });
      hooks.validateStepInput.tapAsync("broken", (_e, cb) => cb(new Error("rejected by callback")));
      hooks.pluginError.tap("broken", (e) => void errors.push(`${e.error.plugin}/${e.error.hook}`));
    });
    const app = quietApp({ plugins: [broken] });
    const report = await app
      .pipeline("p")
      .step("s", () => 1)
      .build()
      .run();
    expect(calls).toEqual(["intercepted", "callback tap"]);
    expect(errors).toEqual(["broken/stepStart"]);
    expect(report.status).toBe("failed");
    expect((report.error as PluginError).hook).toBe("validateStepInput");
    await app.close();
  });

  it("labels ctx.metric() samples with pipeline, step, run and step labels", async () => {
    const samples: MetricSample[] = [];
    const sink = plugin("sink", ({ hooks }) => {
      hooks.metric.tap("sink", (sample) => void samples.push(sample));
    });
    const app = quietApp({ plugins: [sink] });
    const report = await app
      .pipeline("story")
      .step(
        "tts",
        (_: void, ctx) => {
          ctx.metric("tts_chars_total", 42, { voice: "en" }, { unit: "chars", type: "counter" });
        },
        { labels: { provider: "local" } },
      )
      .build()
      .run(undefined, { labels: { tenant: "t1" } });
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({
      name: "tts_chars_total",
      value: 42,
      unit: "chars",
      type: "counter",
      runId: report.runId,
      labels: { pipeline: "story", step: "tts", tenant: "t1", provider: "local", voice: "en" },
    });
    await app.close();
  });
});
