import type { Span, TracerProvider } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";
import { TracerProvider as SdkTracerProvider } from "@opentelemetry/sdk-trace";
import { createTapline, isTaplineError, type TaplineApp } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it } from "vitest";
import { otel } from "../src/index.ts";
import { diagnostics, memoryTracing } from "./tracing.ts";

const apps: TaplineApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  diagnostics.length = 0;
});

const otelPart = (app: TaplineApp) => app.status().parts.find((p) => p.component === "otel")!;

function pipelineOf(app: TaplineApp) {
  return app
    .pipeline<number>("p")
    .step("a", async (n) => n + 1)
    .step("b", async (n, ctx) => {
      ctx.metric("tapline_test_total", 1, {}, { type: "counter" });
      return n * 2;
    })
    .build();
}

describe("options", () => {
  it("a misspelt option is a registration error with did-you-mean", () => {
    const t = memoryTracing();
    let error: unknown;
    try {
      createTapline({ logger: silentLogger, plugins: [otel({ tracerProvder: t.provider } as never)] });
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_PLUGIN_OPTIONS")).toBe(true);
    expect((error as Error).message).toMatch(/tracerProvder.*did you mean "tracerProvider"/);
  });

  it("a provider that is not one, and a bad flushTimeout, are named with what is expected", () => {
    let error: unknown;
    try {
      createTapline({
        logger: silentLogger,
        plugins: [otel({ tracerProvider: {} as TracerProvider, flushTimeout: -1 })],
      });
    } catch (e) {
      error = e;
    }
    const message = (error as Error).message;
    expect(message).toContain("tracerProvider");
    expect(message).toContain("must be an OpenTelemetry TracerProvider");
    expect(message).toContain("flushTimeout");
    expect((error as { issues: unknown[] }).issues).toHaveLength(2);
  });
});

describe("a misconfigured SDK never fails a run", () => {
  it("getTracer() throws: runs succeed, the status part says why", async () => {
    const errors: unknown[] = [];
    const broken = {
      getTracer() {
        throw new Error("SDK not initialised");
      },
    } as TracerProvider;
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: broken })] });
    apps.push(app);
    app.hooks.pluginError.tap("test", (e) => void errors.push(e.error));
    const r = await pipelineOf(app).run(1);
    expect(r.status).toBe("success");
    expect(r.output).toBe(4);
    expect(otelPart(app)).toMatchObject({ level: "degraded" });
    expect(otelPart(app).message).toContain("SDK not initialised");
  });

  it("a tracer whose every call throws: runs succeed with their outputs, the first error is reported once", async () => {
    const boom = () => {
      throw new Error("tracer exploded");
    };
    const brokenSpan = new Proxy({} as Span, { get: () => boom });
    let starts = 0;
    const provider = {
      getTracer: () => ({
        startSpan() {
          // Every other start gives a span whose methods all throw: both paths are covered.
          if (++starts % 2) throw new Error("startSpan exploded");
          return brokenSpan;
        },
        startActiveSpan: boom,
      }),
    } as unknown as TracerProvider;
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: provider })] });
    apps.push(app);
    const reported: unknown[] = [];
    app.hooks.pluginError.tap("test", (e) => void reported.push(e.error));
    const pipeline = pipelineOf(app);
    const reports = await Promise.all(Array.from({ length: 20 }, (_, i) => pipeline.run(i)));
    for (const [i, r] of reports.entries()) {
      expect(r.status).toBe("success");
      expect(r.output).toBe((i + 1) * 2);
      expect(r.pluginErrors).toEqual([]);
    }
    expect(reported).toHaveLength(1);
    expect(otelPart(app).level).toBe("degraded");
    expect(otelPart(app).details).toMatchObject({ runsInFlight: 0 });
  });

  it("a span processor that throws on start and end: runs succeed, nothing is left open", async () => {
    const throwing: SpanProcessor = {
      onStart() {
        throw new Error("onStart");
      },
      onEnd() {
        throw new Error("onEnd");
      },
      forceFlush: () => Promise.reject(new Error("flush failed")),
      shutdown: () => Promise.resolve(),
    };
    const provider = new SdkTracerProvider({ spanProcessors: [throwing] });
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: provider })] });
    apps.push(app);
    const r = await pipelineOf(app).run(1);
    expect(r.status).toBe("success");
    expect(otelPart(app).details).toMatchObject({ runsInFlight: 0 });
    await app.close(); // the rejected forceFlush is reported, not thrown
  });

  it("without a provider and without a registered SDK: the API's no-op, runs as usual", async () => {
    const app = createTapline({ logger: silentLogger, plugins: [otel()] });
    apps.push(app);
    const r = await pipelineOf(app).run(1);
    expect(r.status).toBe("success");
    expect(otelPart(app).level).toBe("ok");
  });

  it("many concurrent runs, failed and cancelled ones included, leave no run or span behind", async () => {
    const t = memoryTracing();
    const app = createTapline({
      logger: silentLogger,
      graceMs: 10,
      plugins: [otel({ tracerProvider: t.provider })],
    });
    apps.push(app);
    const pipeline = app
      .pipeline<number>("mixed")
      .step("work", async (n, ctx) => {
        if (n % 3 === 0) throw new Error("bad input");
        if (n % 3 === 1) await new Promise((r) => setTimeout(r, 2));
        else await new Promise((r) => ctx.signal.addEventListener("abort", r)); // cancelled below
        return n;
      })
      .build();
    // The cancelled ones are cancelled on purpose, not by a timer racing a loaded machine.
    const stop = new AbortController();
    const running = Array.from({ length: 60 }, (_, n) => pipeline.run(n, { signal: stop.signal }));
    const finished = running.filter((_, n) => n % 3 !== 2);
    await Promise.all(finished);
    stop.abort(new Error("stopped"));
    const reports = await Promise.all(running);
    expect(new Set(reports.map((r) => r.status))).toEqual(new Set(["success", "failed", "cancelled"]));
    expect(otelPart(app).details).toMatchObject({ runsInFlight: 0, failures: 0 });
    expect(t.spans()).toHaveLength(60 * 3);
    expect(diagnostics).toEqual([]);
  });
});

class TestReader extends MetricReader {
  protected onForceFlush = () => Promise.resolve();
  protected onShutdown = () => Promise.resolve();
}

describe("metrics bridge", () => {
  it("the metric hook's samples go to an OTel meter: counters summed, gauges last, labels as attributes", async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const app = createTapline({ logger: silentLogger, plugins: [otel({ meterProvider })] });
    apps.push(app);
    const pipeline = app
      .pipeline("p")
      .step("a", async (_: unknown, ctx) => {
        ctx.metric("tapline_tts_chars_total", 120, { voice: "en" }, { type: "counter" });
        ctx.metric("tapline_tts_chars_total", 30, { voice: "en" }, { type: "counter" });
        ctx.metric("tapline_queue_depth", 7, {}, { unit: "ratio" });
        ctx.metric("tapline_queue_depth", 3, {}, { unit: "ratio" });
        ctx.metric("bad name!", 1);
      })
      .build();
    await pipeline.run(undefined);
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const chars = metrics.find((m) => m.descriptor.name === "tapline_tts_chars_total")!;
    expect(chars.dataPoints).toHaveLength(1);
    expect(chars.dataPoints[0]!.value).toBe(150);
    expect(chars.dataPoints[0]!.attributes).toEqual({ pipeline: "p", step: "a", voice: "en" });
    const depth = metrics.find((m) => m.descriptor.name === "tapline_queue_depth")!;
    expect(depth.dataPoints[0]!.value).toBe(3);
    expect(depth.descriptor.unit).toBe("1");
    expect(metrics.map((m) => m.descriptor.name)).not.toContain("bad name!");
    expect(otelPart(app).details).toMatchObject({ instruments: 2, samplesSkipped: 1 });
    await meterProvider.shutdown();
  });
});

describe("run ids", () => {
  it("two concurrent runs given the same runId each end their own run span", async () => {
    const t = memoryTracing();
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    const pipeline = app
      .pipeline<number>("dup")
      .step("wait", (n) => new Promise((r) => setTimeout(() => r(n), n)))
      .build();
    await Promise.all([pipeline.run(5, { runId: "same" }), pipeline.run(10, { runId: "same" })]);
    expect(t.spans().filter((s) => s.name === "tapline.run dup")).toHaveLength(2);
    expect(otelPart(app).details).toMatchObject({ runsInFlight: 0 });
    expect(diagnostics).toEqual([]);
  });
});
