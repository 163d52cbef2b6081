// Without a context manager registered (an SDK set up without one), nothing propagates through async code:
// the plugin still builds the tree (it passes parents explicitly) and finds each event's unit by the
// sample's runId and step. This file registers no context manager on purpose (see ./tracing.ts for the rest).
import { context, createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { retry } from "@tapline/plugin-retry";
import { describe, expect, it } from "vitest";
import { otel } from "../src/index.ts";

describe("without a context manager", () => {
  it("still one tree per run, with retry events on their unit", async () => {
    const key = createContextKey("probe");
    expect(context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key))).toBeUndefined();

    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        otel({ tracerProvider: provider }),
        retry({ defaults: { maxAttempts: 2, backoff: { kind: "constant", delay: 1 } } }),
      ],
    });
    let calls = 0;
    const report = await app
      .pipeline("p")
      .step("first", async () => 1)
      .step("flaky", async () => {
        if (++calls === 1) throw new Error("once");
        return 2;
      })
      .build()
      .run(undefined);
    await app.close();
    expect(report.status).toBe("success");
    const spans = exporter.getFinishedSpans();
    const run = spans.find((s) => s.name === "tapline.run p")!;
    const flaky = spans.find((s) => s.name === "tapline.step flaky")!;
    expect(flaky.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    const attempts = spans.filter((s) => s.name === "tapline.attempt flaky");
    expect(attempts.map((a) => a.parentSpanContext?.spanId)).toEqual([
      flaky.spanContext().spanId,
      flaky.spanContext().spanId,
    ]);
    expect(flaky.events.map((e) => e.name)).toEqual(["tapline.retry"]);
    expect(run.events).toEqual([]);
  });
});
