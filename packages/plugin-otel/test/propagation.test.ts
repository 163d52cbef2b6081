import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { createTapline, type TaplineApp } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OTEL_ATTRIBUTES as A, otel, traceparentOf } from "../src/index.ts";
import { childrenOf, diagnostics, idOf, memoryTracing, parentOf, roots } from "./tracing.ts";

const apps: TaplineApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  diagnostics.length = 0;
});

// A real HTTP server on 127.0.0.1; it records the traceparent header each request carried.
let server: Server;
let url: string;
const received: (string | undefined)[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(req.headers.traceparent as string | undefined);
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/voice`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("context propagation", () => {
  it("an instrumented fetch inside a step is a child of its attempt span, with no code in the step", async () => {
    const t = memoryTracing();
    // The real undici instrumentation (Node's global fetch), as an app's SDK setup would register it.
    const undici = new UndiciInstrumentation();
    undici.setTracerProvider(t.provider);
    undici.enable();
    try {
      const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
      apps.push(app);
      const pipeline = app
        .pipeline("story")
        .step("voice", async () => (await fetch(url)).text())
        .build();
      const report = await pipeline.run(undefined);
      expect(report.status).toBe("success");
      expect(report.output).toBe("ok");

      const all = t.spans();
      const attempt = all.find((s) => s.name === "tapline.attempt voice")!;
      const client = all.find((s) => s.kind === SpanKind.CLIENT)!;
      expect(client, "the undici instrumentation made a span").toBeDefined();
      expect(parentOf(client)).toBe(idOf(attempt));
      expect(client.spanContext().traceId).toBe(attempt.spanContext().traceId);
      expect(client.attributes["http.request.method"]).toBe("GET");
      expect(childrenOf(all, attempt)).toEqual([client]);
    } finally {
      undici.disable();
    }
  });

  it("a step's own spans (startActiveSpan, no parent given) land under the attempt span", async () => {
    const t = memoryTracing();
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    const pipeline = app
      .pipeline("story")
      .step("script", async () => {
        await new Promise((r) => setTimeout(r, 1));
        return t.tracer.startActiveSpan("llm.call", (span) => {
          span.end();
          return traceparentOf();
        });
      })
      .build();
    const report = await pipeline.run(undefined);
    const all = t.spans();
    const attempt = all.find((s) => s.name === "tapline.attempt script")!;
    const llm = all.find((s) => s.name === "llm.call")!;
    expect(parentOf(llm)).toBe(idOf(attempt));
    expect(report.output).toBe(`00-${llm.spanContext().traceId}-${idOf(llm)}-01`);
  });

  it("continues the caller's trace: the context active where run() is called", async () => {
    const t = memoryTracing();
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    const pipeline = app
      .pipeline("story")
      .step("script", async () => 1)
      .build();
    await t.tracer.startActiveSpan("http.server POST /stories", async (caller) => {
      await pipeline.run(undefined);
      caller.end();
    });
    const all = t.spans();
    const caller = all.find((s) => s.name === "http.server POST /stories")!;
    const run = all.find((s) => s.name === "tapline.run story")!;
    expect(roots(all)).toEqual([caller]);
    expect(parentOf(run)).toBe(idOf(caller));
  });

  it("continues a trace from another process: a W3C traceparent run label (and tracestate)", async () => {
    const t = memoryTracing();
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    const pipeline = app
      .pipeline("story")
      .step("script", async () => 1)
      .build();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parent = "00f067aa0ba902b7";
    // Even inside another active span, the carried traceparent wins: the job says whose trace it is.
    await t.tracer.startActiveSpan("worker.poll", async (poll) => {
      await pipeline.run(undefined, {
        labels: {
          traceparent: `00-${traceId}-${parent}-01`,
          tracestate: "vendor=abc",
          team: "media",
          apiKey: "sk-live-abcdefghijklmnopqrstuvwx",
        },
      });
      poll.end();
    });
    const run = t.spans().find((s) => s.name === "tapline.run story")!;
    expect(run.spanContext().traceId).toBe(traceId);
    expect(run.parentSpanContext?.spanId).toBe(parent);
    expect(run.parentSpanContext?.isRemote).toBe(true);
    expect(run.spanContext().traceState?.get("vendor")).toBe("abc");
    // The carrier labels are not span attributes; the others are.
    expect(run.attributes[`${A.labelPrefix}team`]).toBe("media");
    expect(run.attributes[`${A.labelPrefix}traceparent`]).toBeUndefined();
    // Secret-named labels are redacted, as everywhere else.
    expect(run.attributes[`${A.labelPrefix}apiKey`]).toBeDefined();
    expect(JSON.stringify(run.attributes)).not.toContain("sk-live-abcdefghijklmnopqrstuvwx");
  });

  it("a malformed traceparent label starts a trace of its own and warns once", async () => {
    const t = memoryTracing();
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      child: () => ({ ...silentLogger, warn: (_o: unknown, m?: string) => void warnings.push(m ?? "") }),
    };
    const app = createTapline({ logger: logger as any, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    const pipeline = app
      .pipeline("story")
      .step("script", async () => 1)
      .build();
    for (let i = 0; i < 2; i++) {
      const r = await pipeline.run(undefined, { labels: { traceparent: "00-zz-00f067aa0ba902b7-01" } });
      expect(r.status).toBe("success");
    }
    const runs = t.spans().filter((s) => s.name === "tapline.run story");
    expect(runs).toHaveLength(2);
    for (const r of runs) expect(r.parentSpanContext).toBeUndefined();
    expect(warnings.filter((w) => w.includes("not a W3C traceparent"))).toHaveLength(1);
  });

  it("continues the trace given as run(input, { traceparent }), which never becomes a label or metric series", async () => {
    const t = memoryTracing();
    const samples: string[] = [];
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    app.hooks.metric.tap("spy", (s) => void samples.push(JSON.stringify(s.labels)));
    const pipeline = app
      .pipeline("story")
      .step("script", async (_i, ctx) => {
        ctx.metric("x", 1);
        return ctx.traceparent;
      })
      .build();
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const report = await pipeline.run(undefined, { traceparent });
    expect(report.output).toBe(traceparent);
    const run = t.spans().find((s) => s.name === "tapline.run story")!;
    expect(run.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(run.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(samples.some((l) => l.includes("traceparent"))).toBe(false);
  });

  it("traceparentLabel: false ignores the label", async () => {
    const t = memoryTracing();
    const app = createTapline({
      logger: silentLogger,
      plugins: [otel({ tracerProvider: t.provider, traceparentLabel: false })],
    });
    apps.push(app);
    const pipeline = app
      .pipeline("story")
      .step("script", async () => 1)
      .build();
    await pipeline.run(undefined, {
      labels: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    });
    const run = t.spans().find((s) => s.name === "tapline.run story")!;
    expect(run.parentSpanContext).toBeUndefined();
  });

  it("the step's outgoing requests carry the attempt's trace (traceparentOf inside the step)", async () => {
    const t = memoryTracing();
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: t.provider })] });
    apps.push(app);
    const pipeline = app
      .pipeline("story")
      .step("voice", async () => {
        const traceparent = traceparentOf();
        await fetch(url, { headers: traceparent ? { traceparent } : {} });
        return trace.getSpan(context.active())?.spanContext().spanId;
      })
      .build();
    received.length = 0;
    const report = await pipeline.run(undefined);
    const attempt = t.spans().find((s) => s.name === "tapline.attempt voice")!;
    expect(report.output).toBe(idOf(attempt));
    expect(received[0]).toBe(`00-${attempt.spanContext().traceId}-${idOf(attempt)}-01`);
  });
});
