import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { otel } from "../src/index.ts";
import "./tracing.ts";

/** OTLP/JSON as the collector receives it (the parts we check). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: {
    key: string;
    value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
  }[];
  events?: { name: string }[];
  status?: { code?: number; message?: string };
}
interface OtlpPayload {
  resourceSpans: { scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[] }[];
}

// A local OTLP/HTTP receiver on 127.0.0.1: stores every decoded /v1/traces payload.
let server: Server;
let endpoint: string;
const payloads: OtlpPayload[] = [];
const contentTypes: string[] = [];
const body = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
};
beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.method === "POST" && req.url === "/v1/traces") {
      contentTypes.push(String(req.headers["content-type"]));
      payloads.push(JSON.parse((await body(req)).toString("utf8")) as OtlpPayload);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.boolValue;
};

describe("OTLP/HTTP export", () => {
  it("a run's spans reach a collector over OTLP/HTTP JSON; app.close() flushes the batch", async () => {
    const provider = new TracerProvider({
      spanProcessors: [
        // A long delay: only the plugin's flush on close sends the batch.
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: endpoint }),
          scheduledDelayMillis: 60_000,
        }),
      ],
    });
    const app = createTapline({ logger: silentLogger, plugins: [otel({ tracerProvider: provider })] });
    let calls = 0;
    const pipeline = app
      .pipeline("story")
      .step("script", async () => "s")
      .step("voice", async () => {
        if (++calls === 1) throw new Error("first try fails");
        return "v";
      })
      .build();
    const first = await pipeline.run(undefined);
    expect(first.status).toBe("failed");
    const second = await pipeline.run(undefined);
    expect(second.status).toBe("success");
    expect(payloads).toHaveLength(0);
    await app.close();
    await provider.shutdown();

    expect(contentTypes[0]).toContain("application/json");
    const spans = payloads.flatMap((p) =>
      p.resourceSpans.flatMap((r) =>
        r.scopeSpans.filter((s) => s.scope.name === "@tapline/plugin-otel").flatMap((s) => s.spans),
      ),
    );
    expect(spans.map((s) => s.name).sort()).toEqual(
      [
        "tapline.run story",
        "tapline.step script",
        "tapline.attempt script",
        "tapline.step voice",
        "tapline.attempt voice",
        "tapline.run story",
        "tapline.step script",
        "tapline.attempt script",
        "tapline.step voice",
        "tapline.attempt voice",
      ].sort(),
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const run of spans.filter((s) => s.name === "tapline.run story")) {
      const members = spans.filter((s) => s.traceId === run.traceId);
      expect(members).toHaveLength(5);
      for (const s of members) {
        if (s === run) continue;
        const parent = byId.get(s.parentSpanId!)!;
        expect(parent.name).toBe(
          s.name.startsWith("tapline.attempt") ? s.name.replace("attempt", "step") : run.name,
        );
      }
      const status = attr(run, "tapline.run.status");
      const voice = members.find((s) => s.name === "tapline.step voice")!;
      if (status === "failed") {
        expect(run.status?.code).toBe(2); // STATUS_CODE_ERROR
        expect(voice.status?.code).toBe(2);
        expect(voice.status?.message).toContain("first try fails");
        expect(attr(voice, "error.type")).toBe("Error");
        const attempt = members.find((s) => s.name === "tapline.attempt voice")!;
        expect(attempt.events?.map((e) => e.name)).toContain("exception");
      } else {
        expect(status).toBe("success");
        expect(attr(voice, "tapline.unit.attempts")).toBe(1);
      }
      expect(attr(run, "tapline.pipeline")).toBe("story");
    }
  });

  it("a collector that hangs costs the runs nothing, and close() waits at most flushTimeout", async () => {
    // Accepts every export and never answers: a flush would wait for the exporter's 10 s timeout.
    const hanging = createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", r));
    const port = (hanging.address() as AddressInfo).port;
    const provider = new TracerProvider({
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({
            url: `http://127.0.0.1:${port}/v1/traces`,
            timeoutMillis: 10_000,
          }),
          scheduledDelayMillis: 60_000,
        }),
      ],
    });
    const app = createTapline({
      logger: silentLogger,
      plugins: [otel({ tracerProvider: provider, flushTimeout: 200 })],
    });
    const pipeline = app
      .pipeline("story")
      .step("script", async () => "s")
      .build();
    for (let i = 0; i < 20; i++) expect((await pipeline.run(undefined)).status).toBe("success");
    const t0 = performance.now();
    await app.close();
    // Bounded by flushTimeout (200 ms), not by the exporter's 10 s: a generous bound, not a speed figure.
    expect(performance.now() - t0).toBeLessThan(3_000);
    hanging.closeAllConnections();
    await new Promise<void>((r) => hanging.close(() => r()));
  });
});
