// Per-unit overhead of @tapline/plugin-otel (issue #20): the same 10-step pipeline (a) without the plugin and
// (b) with it, on the real SDK: TracerProvider + BatchSpanProcessor to a no-op exporter, with the
// AsyncLocalStorage context manager registered (what an app's SDK setup does). Each unit makes two spans (the
// unit's and its attempt's) plus the run's span per run. (c) the plugin with the SDK sampling nothing
// (AlwaysOffSampler), and (e) with the API's no-op provider (no SDK): what Tapline's hooks and the plugin's
// bookkeeping cost when spans are not recorded. (d) the floor: the
// same SDK calls written by hand around a plain loop of the same steps (3 spans' worth of startSpan/setSpan/
// context.with/end per unit), so (b - d) is what Tapline's hooks and the plugin's bookkeeping add to the SDK.
import { context, ProxyTracerProvider, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { createTapline, type TaplinePlugin } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { otel } from "@tapline/plugin-otel";
import { compare, note } from "./harness.ts";

const STEPS = 10;
const step = (n: number) => n + 1;

/** Accepts every batch at once and counts its spans, so the figure is the SDK's and ours, not an exporter's. */
class NoopExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function build(plugins: TaplinePlugin[]) {
  const app = createTapline({ plugins, logger: silentLogger });
  let builder = app.pipeline<number>("bench") as any;
  for (let i = 0; i < STEPS; i++) builder = builder.step(`s${i}`, step);
  return { app, pipeline: builder.build() as { run(n: number): Promise<{ status: string }> } };
}

export default async function otelBench(): Promise<void> {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  const exporter = new NoopExporter();
  // A queue large enough that no span is dropped between exports (a dropped span would cost less).
  const provider = new TracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 1 << 16,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 50,
      }),
    ],
  });
  const unsampled = new TracerProvider({
    sampler: new AlwaysOffSampler(),
    spanProcessors: [new BatchSpanProcessor({ exporter: new NoopExporter() })],
  });
  const bare = build([]);
  const traced = build([otel({ tracerProvider: provider, flushTimeout: 0 })]);
  const off = build([otel({ tracerProvider: unsampled, flushTimeout: 0 })]);
  // The API's no-op provider (no SDK at all): what Tapline's hooks and the plugin's bookkeeping cost alone.
  const noop = build([otel({ tracerProvider: new ProxyTracerProvider(), flushTimeout: 0 })]);
  for (const p of [bare, traced, off, noop]) {
    if ((await p.pipeline.run(0)).status !== "success") throw new Error("bench pipeline failed");
  }
  const tracer = provider.getTracer("floor");
  const floor = async (input: number) => {
    const run = tracer.startSpan(
      "tapline.run bench",
      { attributes: { "tapline.pipeline": "bench", "tapline.run.id": "r" } },
      ROOT_CONTEXT,
    );
    const runCtx = trace.setSpan(ROOT_CONTEXT, run);
    let v = input;
    for (let i = 0; i < STEPS; i++) {
      const unit = tracer.startSpan(
        "tapline.step s",
        {
          attributes: { "tapline.step": "s", "tapline.unit.path": "s", "tapline.unit.definition_path": "s" },
        },
        runCtx,
      );
      const unitCtx = trace.setSpan(runCtx, unit);
      const attempt = tracer.startSpan(
        "tapline.attempt s",
        { attributes: { "tapline.attempt": 1 } },
        unitCtx,
      );
      const attemptCtx = trace.setSpan(unitCtx, attempt);
      v = await context.with(unitCtx, () => context.with(attemptCtx, async () => step(v)));
      attempt.end();
      unit.setAttributes({ "tapline.unit.status": "success", "tapline.unit.attempts": 1 });
      unit.end();
    }
    run.end();
    return v;
  };
  let runs = 1;
  const rows = await compare(
    `otel: per-unit overhead, ns per unit (${STEPS}-step pipeline; real SDK, BatchSpanProcessor, no-op exporter)`,
    [
      { name: "(a) core, no plugin", fn: () => bare.pipeline.run(0) },
      {
        name: "(b) core + otel, SDK recording",
        fn: () => {
          runs++;
          return traced.pipeline.run(0);
        },
      },
      { name: "(c) core + otel, SDK sampling off", fn: () => off.pipeline.run(0) },
      { name: "(e) core + otel, API no-op (no SDK)", fn: () => noop.pipeline.run(0) },
      {
        name: "(d) floor: the same SDK calls by hand",
        fn: () => {
          runs++;
          return floor(0);
        },
      },
    ],
    { opsPerCall: STEPS },
  );
  await provider.forceFlush();
  const [a, b, c, e, d] = rows.map((r) => r.nsPerOp) as [number, number, number, number, number];
  note(`(b - a) = ${((b - a) / 1000).toFixed(2)} us per unit, 2 spans per unit + 1 per run (target <= 5 us)`);
  note(`b / a = ${(b / a).toFixed(2)} (ratio from this run)`);
  note(`(c - a) = ${((c - a) / 1000).toFixed(2)} us per unit with the SDK sampling nothing`);
  note(
    `(e - a) = ${((e - a) / 1000).toFixed(2)} us per unit with the API's no-op tracer (hooks + bookkeeping alone)`,
  );
  note(`(b - d) = ${((b - d) / 1000).toFixed(2)} us per unit above the SDK's own cost (hooks + bookkeeping)`);
  const expected = runs * (2 * STEPS + 1);
  note(`spans exported: ${exporter.spans} of ${expected} made (${expected - exporter.spans} dropped)`);
  for (const p of [bare, traced, off, noop]) await p.app.close();
  await provider.shutdown();
  await unsampled.shutdown();
  context.disable();
}
