import { SpanStatusCode } from "@opentelemetry/api";
import { createTapline, definePlugin, type TaplineApp } from "@tapline/core";
import { StepValidationError, silentLogger } from "@tapline/core/kit";
import { retry } from "@tapline/plugin-retry";
import { afterEach, describe, expect, it } from "vitest";
import { OTEL_ATTRIBUTES as A, otel } from "../src/index.ts";
import { childrenOf, diagnostics, eventNames, idOf, memoryTracing, roots, tree } from "./tracing.ts";

const apps: TaplineApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  diagnostics.length = 0;
});

function setup(extra: Parameters<typeof createTapline>[0] = {}) {
  const t = memoryTracing();
  const app = createTapline({
    logger: silentLogger,
    ...extra,
    plugins: [otel({ tracerProvider: t.provider }), ...(extra.plugins ?? [])],
  });
  apps.push(app);
  return { ...t, app };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("span tree", () => {
  it("a run is one trace: a run span, a span per unit, a span per attempt, retries as events", async () => {
    const { app, spans } = setup({
      plugins: [retry({ defaults: { maxAttempts: 3, backoff: { kind: "constant", delay: 1 } } })],
    });
    let calls = 0;
    let builder = app
      .pipeline<string>("story")
      .step("script", async (idea) => `script of ${idea}`)
      .step("voice", async (script, ctx) => {
        calls++;
        if (calls === 1) throw new Error("tts 503 (token=sk-abcdefghijklmnopqrstuvwxyz123456)");
        ctx.finding({ check: "audio.loudness", severity: "warning", message: "quiet" });
        return `${script} voiced`;
      }) as any;
    // Five units, as the five items of a map would be (the .map() version follows below).
    for (let i = 0; i < 5; i++) builder = builder.step(`scene${i}`, async (v: string) => v);
    const pipeline = builder.build();
    const report = await pipeline.run("a lighthouse");
    expect(report.status).toBe("success");

    const all = spans();
    const [root] = roots(all);
    expect(roots(all)).toHaveLength(1);
    expect(new Set(all.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(tree(all, root!)).toEqual([
      "tapline.run story",
      "  tapline.step script",
      "    tapline.attempt script",
      "  tapline.step voice",
      "    tapline.attempt voice",
      "    tapline.attempt voice",
      ...[0, 1, 2, 3, 4].flatMap((i) => [`  tapline.step scene${i}`, `    tapline.attempt scene${i}`]),
    ]);
    expect(root!.attributes).toMatchObject({
      [A.pipeline]: "story",
      [A.runId]: report.runId,
      [A.runStatus]: "success",
    });

    const voice = childrenOf(all, root!)[1]!;
    expect(voice.attributes).toMatchObject({
      [A.step]: "voice",
      [A.unitPath]: "voice",
      [A.definitionPath]: "voice",
      [A.unitStatus]: "success",
      [A.attempts]: 2,
    });
    expect(voice.status.code).toBe(SpanStatusCode.UNSET);
    expect(eventNames(voice)).toEqual(["tapline.retry", "tapline.finding"]);
    expect(voice.events[0]!.attributes).toEqual({ [A.attempt]: 1 });
    expect(voice.events[1]!.attributes).toMatchObject({
      "tapline.finding.check": "audio.loudness",
      "tapline.finding.severity": "warning",
    });

    const [first, second] = childrenOf(all, voice);
    expect(first!.attributes[A.attempt]).toBe(1);
    expect(second!.attributes[A.attempt]).toBe(2);
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(first!.attributes["error.type"]).toBe("Error");
    const exception = first!.events.find((e) => e.name === "exception")!;
    expect(exception.attributes?.["exception.message"]).toContain("tts 503");
    // Secrets never reach the trace: the message and the stack are redacted.
    expect(JSON.stringify(first!.events)).not.toContain("sk-abcdefghijklmnopqrstuvwxyz123456");
    expect(second!.status.code).toBe(SpanStatusCode.UNSET);

    // Every span ended exactly once (the SDK warns on a second end), and the plugin holds no run.
    expect(new Set(all.map(idOf)).size).toBe(all.length);
    expect(diagnostics).toEqual([]);
    expect(app.status().parts.find((p) => p.component === "otel")?.details).toMatchObject({
      runsInFlight: 0,
      failures: 0,
    });
  });

  it("a map of 5 items: one unit span per item under the map step, named by the definition path", async () => {
    const { app, spans } = setup();
    const pipeline = app
      .pipeline<number[]>("render")
      .map(
        "scenes",
        (list) => list,
        async (n: number) => n * 2,
      )
      .build();
    const report = await pipeline.run([1, 2, 3, 4, 5]);
    expect(report.status).toBe("success");
    const all = spans();
    const [root] = roots(all);
    const [scenes] = childrenOf(all, root!);
    expect(scenes!.name).toBe("tapline.step scenes");
    const items = childrenOf(all, scenes!).filter((s) => s.name === "tapline.step scenes[]");
    expect(items.map((s) => s.attributes[A.unitPath])).toEqual([0, 1, 2, 3, 4].map((i) => `scenes[${i}]`));
    for (const item of items) {
      expect(item.attributes[A.definitionPath]).toBe("scenes[]");
      expect(childrenOf(all, item).map((s) => s.name)).toEqual(["tapline.attempt scenes[]"]);
    }
    expect(diagnostics).toEqual([]);
  });

  it("a breaker opening: transitions, the alert, the rejection and the give-up are events of the unit", async () => {
    const { app, spans } = setup({
      plugins: [
        retry({
          defaults: { maxAttempts: 5, backoff: { kind: "constant", delay: 1 } },
          breakers: { tts: { trip: { kind: "consecutive", threshold: 2 }, openDuration: 60_000 } },
        }),
      ],
    });
    const pipeline = app
      .pipeline("voice")
      .step(
        "tts",
        async () => {
          throw new Error("tts down");
        },
        { retry: { breaker: "tts" } },
      )
      .build();
    const report = await pipeline.run(undefined);
    expect(report.status).toBe("failed");

    const all = spans();
    const [root] = roots(all);
    const [tts] = childrenOf(all, root!);
    expect(childrenOf(all, tts!).map((s) => s.name)).toEqual(["tapline.attempt tts", "tapline.attempt tts"]);
    const names = eventNames(tts!);
    expect(names).toEqual([
      "tapline.retry",
      "tapline.breaker.transition",
      "tapline.alert",
      "tapline.retry",
      "tapline.breaker.rejected",
      "tapline.retry.give_up",
      "exception",
    ]);
    const transition = tts!.events.find((e) => e.name === "tapline.breaker.transition")!;
    expect(transition.attributes).toMatchObject({
      "tapline.breaker.name": "tts",
      "tapline.breaker.state": "open",
    });
    const alert = tts!.events.find((e) => e.name === "tapline.alert")!;
    expect(alert.attributes).toMatchObject({
      "tapline.alert.rule": "breaker_open",
      "tapline.alert.state": "firing",
    });
    expect(tts!.status.code).toBe(SpanStatusCode.ERROR);
    expect(tts!.attributes["error.type"]).toBe("TAPLINE_ERR_RETRY_BROKEN_CIRCUIT");
    expect(root!.status.code).toBe(SpanStatusCode.ERROR);
    expect(root!.attributes).toMatchObject({ [A.runStatus]: "failed", [A.failedUnit]: "tts" });
    expect(diagnostics).toEqual([]);
  });

  it("timeouts become events; the step's error is the span's status", async () => {
    const { app, spans } = setup();
    const pipeline = app
      .pipeline("slow")
      .step(
        "render",
        (_: unknown, ctx) =>
          new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
        { timeout: 20 },
      )
      .build();
    const report = await pipeline.run(undefined);
    expect(report.status).toBe("failed");
    const all = spans();
    const render = all.find((s) => s.name === "tapline.step render")!;
    const attempt = all.find((s) => s.name === "tapline.attempt render")!;
    for (const s of [render, attempt]) {
      expect(eventNames(s)).toContain("tapline.timeout");
      expect(s.events.find((e) => e.name === "tapline.timeout")!.attributes).toMatchObject({
        "error.type": "TAPLINE_ERR_STEP_TIMEOUT",
        "tapline.timeout.ms": 20,
      });
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.attributes["error.type"]).toBe("TAPLINE_ERR_STEP_TIMEOUT");
    }
  });

  it("cost and GPU energy that plugins annotate (after otel in the list) become unit attributes", async () => {
    // Registered after otel, tapping stepEnd at the default stage: otel's stepEnd (stage 1000) still sees them.
    const annotator = definePlugin({
      name: "annotator",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.stepEnd.tap("annotator", ({ ctx }) => {
          ctx.annotate("gpu", { energyJoules: 12.5 } as never);
          ctx.annotate("cost", { usd: 0.031 });
        });
      },
    });
    const { app, spans } = setup({ plugins: [annotator()] });
    await app
      .pipeline("render")
      .step("encode", async () => 1)
      .build()
      .run(undefined);
    const encode = spans().find((s) => s.name === "tapline.step encode")!;
    expect(encode.attributes).toMatchObject({ [A.gpuEnergy]: 12.5, [A.costUsd]: 0.031 });
  });

  it("a rejected attempt's findings are events of that attempt span", async () => {
    const rejecting = definePlugin({
      name: "rejecting",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.validateStepOutput.tap("rejecting", () => {
          throw new StepValidationError({
            why: "audio too quiet",
            retryable: false,
            findings: [
              { check: "audio.loudness", severity: "error", message: "-40 LUFS", file: "/tmp/a.wav" },
            ],
          });
        });
      },
    });
    const { app, spans } = setup({ plugins: [rejecting()] });
    const report = await app
      .pipeline("voice")
      .step("tts", async () => "/tmp/a.wav")
      .build()
      .run(undefined);
    expect(report.status).toBe("failed");
    const attempt = spans().find((s) => s.name === "tapline.attempt tts")!;
    expect(eventNames(attempt)).toEqual(["tapline.finding", "exception"]);
    expect(attempt.events[0]!.attributes).toEqual({
      "tapline.finding.check": "audio.loudness",
      "tapline.finding.severity": "error",
      "tapline.finding.message": "-40 LUFS",
      "tapline.finding.file": "/tmp/a.wav",
    });
    expect(attempt.attributes["error.type"]).toBe("TAPLINE_ERR_STEP_VALIDATION");
  });

  it("a cancellation ends every span once, with a cancel event and status ERROR", async () => {
    const { app, spans } = setup();
    const controller = new AbortController();
    const pipeline = app
      .pipeline("long")
      .step("script", async () => "s")
      .step("voice", async (_: string, ctx) => {
        setTimeout(() => controller.abort(new Error("user pressed stop")), 5);
        await new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        );
      })
      .step("never", async () => "n")
      .build();
    const report = await pipeline.run(undefined, { signal: controller.signal });
    expect(report.status).toBe("cancelled");
    const all = spans();
    const [root] = roots(all);
    expect(tree(all, root!)).toEqual([
      "tapline.run long",
      "  tapline.step script",
      "    tapline.attempt script",
      "  tapline.step voice",
      "    tapline.attempt voice",
    ]);
    const voice = all.find((s) => s.name === "tapline.step voice")!;
    for (const s of [root!, voice]) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.status.message).toContain("user pressed stop");
      expect(s.attributes["error.type"]).toBe("TAPLINE_ERR_CANCELLED");
      expect(eventNames(s)).toContain("tapline.cancel");
    }
    expect(root!.attributes[A.runStatus]).toBe("cancelled");
    expect(new Set(all.map(idOf)).size).toBe(all.length);
    expect(diagnostics).toEqual([]);
  });

  it("an abandoned run (a step ignoring its signal) ends its spans at the run's end, and never twice", async () => {
    const { app, spans } = setup({ graceMs: 20 });
    const controller = new AbortController();
    let release!: () => void;
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    const pipeline = app
      .pipeline("stubborn")
      .step("ignore", async () => {
        setTimeout(() => controller.abort(new Error("stop")), 5);
        await stuck; // ignores ctx.signal
        return "late";
      })
      .build();
    const report = await pipeline.run(undefined, { signal: controller.signal });
    expect(report.status).toBe("cancelled");
    expect(report.steps[0]!.abandoned).toBe(true);
    const before = spans();
    expect(before.map((s) => s.name).sort()).toEqual([
      "tapline.attempt ignore",
      "tapline.run stubborn",
      "tapline.step ignore",
    ]);
    const attempt = before.find((s) => s.name === "tapline.attempt ignore")!;
    expect(eventNames(attempt)).toContain("tapline.abandoned");
    expect(before.find((s) => s.name === "tapline.step ignore")!.attributes[A.abandoned]).toBe(true);
    release();
    await sleep(10);
    expect(spans()).toHaveLength(3);
    expect(diagnostics).toEqual([]);
  });

  it("a run without a caller's signal that is detached at close still ends all its spans", async () => {
    const { app, spans } = setup({ graceMs: 20 });
    const pipeline = app
      .pipeline("detached")
      .step("hang", () => new Promise(() => {}))
      .build();
    const running = pipeline.run(undefined);
    await sleep(5);
    await app.close();
    const report = await running;
    expect(report.status).toBe("cancelled");
    expect(
      spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(["tapline.attempt hang", "tapline.run detached", "tapline.step hang"]);
    expect(diagnostics).toEqual([]);
  });
});
