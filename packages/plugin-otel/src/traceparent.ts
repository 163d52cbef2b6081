import {
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from "@opentelemetry/api";

// W3C Trace Context, level 1: version-traceid-parentid-flags. A later version may append fields after the
// four we read; version ff is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\s]*)?$/;

/**
 * The remote span context a W3C `traceparent` (and optional `tracestate`) names, or `undefined` when the
 * header is malformed (wrong length, version `ff`, all-zero ids, extra fields on version `00`).
 * Parsed here, so no propagator has to be registered.
 *
 * @example
 * const sc = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 */
export function parseTraceparent(traceparent: string, tracestate?: string): SpanContext | undefined {
  if (typeof traceparent !== "string") return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const sc: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16),
    isRemote: true,
  };
  if (tracestate) {
    try {
      sc.traceState = createTraceState(tracestate);
    } catch {
      // A malformed tracestate is dropped, as propagators do; the traceparent still holds.
    }
  }
  return isSpanContextValid(sc) ? sc : undefined;
}

/**
 * A context whose parent is the remote span a `traceparent` names (undefined when it is malformed): run
 * code inside it with `context.with()`, or pass it as a parent to `tracer.startSpan()`.
 */
export function contextFromTraceparent(
  traceparent: string,
  tracestate?: string,
  base: Context = ROOT_CONTEXT,
): Context | undefined {
  const sc = parseTraceparent(traceparent, tracestate);
  return sc ? trace.setSpanContext(base, sc) : undefined;
}

/**
 * The W3C `traceparent` of the span active in `ctx` (default: the active context), or `undefined` when no
 * valid span is active. Give it to a run in another process, e.g. a queued job's labels:
 *
 * @example
 * await queue.add(input, { labels: { traceparent: traceparentOf() ?? "" } });
 */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}
