// Test helpers: a real SDK TracerProvider with an in-memory exporter, the AsyncLocalStorage context manager
// registered globally (what an app's SDK setup does), and a span-tree view of what was exported.
import { context, DiagLogLevel, diag, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

/** Warnings and errors the OpenTelemetry API/SDK logged (ending a span twice, a failed export...). */
export const diagnostics: string[] = [];
diag.setLogger(
  {
    error: (m: string, ...a: unknown[]) => void diagnostics.push(`error: ${m} ${a.map(String).join(" ")}`),
    warn: (m: string, ...a: unknown[]) => void diagnostics.push(`warn: ${m} ${a.map(String).join(" ")}`),
    info() {},
    debug() {},
    verbose() {},
  },
  DiagLogLevel.WARN,
);

const manager = new AsyncLocalStorageContextManager();
manager.enable();
context.setGlobalContextManager(manager);

export function memoryTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return {
    provider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    tracer: provider.getTracer("test"),
  };
}

export const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
export const idOf = (s: ReadableSpan) => s.spanContext().spanId;

/** The children of `span` among `spans`, in start order. */
export function childrenOf(spans: readonly ReadableSpan[], span: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => parentOf(s) === idOf(span)).sort((a, b) => hr(a.startTime) - hr(b.startTime));
}

const hr = (t: [number, number]) => t[0] * 1e9 + t[1];

/** The tree below `span` as indented names, for readable assertions. */
export function tree(spans: readonly ReadableSpan[], span: ReadableSpan, depth = 0): string[] {
  return [
    `${"  ".repeat(depth)}${span.name}`,
    ...childrenOf(spans, span).flatMap((c) => tree(spans, c, depth + 1)),
  ];
}

export const roots = (spans: readonly ReadableSpan[]) =>
  spans.filter((s) => !spans.some((p) => idOf(p) === parentOf(s)));

export const eventNames = (s: ReadableSpan) => s.events.map((e) => e.name);

export { trace };
