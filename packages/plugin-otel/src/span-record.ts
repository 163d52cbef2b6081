import { type Attributes, type Span, SpanStatusCode } from "@opentelemetry/api";
import {
  type AlertEvent,
  describeError,
  isTaplineError,
  type MetricSample,
  type Redactor,
  type StepContext,
  type StepReport,
} from "@tapline/core";
import { OTEL_ATTRIBUTES as A, OTEL_EVENTS as E } from "./attributes.ts";

// @internal What the plugin writes on spans, as plain functions of a span and Tapline's vocabulary. Every
// message passes through the app's redactor: secrets never reach a trace.

/** Findings written as events per span at most; a span with more says how many were left out. */
const MAX_FINDING_EVENTS = 32;

/** Breaker states as plugin-retry publishes them in `tapline_breaker_state`. */
const BREAKER_STATES = ["closed", "half_open", "open", "isolated"];

/** plugin-retry's samples (core's shared vocabulary) that become span events, by sample name. */
export const SAMPLE_EVENTS: ReadonlyMap<string, string> = new Map([
  ["tapline_retries_total", E.retry],
  ["tapline_retry_giveups_total", E.giveUp],
  ["tapline_breaker_state", E.breaker],
  ["tapline_breaker_rejections_total", E.breakerRejected],
]);

/** A failure: `recordException` (message and stack redacted), `error.type`, status ERROR. */
export function recordError(span: Span, error: unknown, redact: Redactor): void {
  const e = error instanceof Error ? error : undefined;
  const message = redact.text(e ? e.message : describeError(error));
  span.recordException({
    name: e?.name ?? typeof error,
    message,
    ...(e?.stack && { stack: redact.text(e.stack) }),
    ...(isTaplineError(error) && { code: error.code }),
  });
  span.setAttribute(A.errorType, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** A `tapline.finding` event per finding (32 at most, the rest counted in `tapline.findings.dropped`). */
export function findingEvents(span: Span, findings: unknown, redact: Redactor): void {
  if (!Array.isArray(findings) || findings.length === 0) return;
  const n = Math.min(findings.length, MAX_FINDING_EVENTS);
  for (let i = 0; i < n; i++) {
    const f = findings[i] as Record<string, unknown>;
    span.addEvent(E.finding, {
      "tapline.finding.check": String(f.check),
      "tapline.finding.severity": String(f.severity),
      "tapline.finding.message": redact.text(String(f.message)),
      ...(typeof f.file === "string" && { "tapline.finding.file": f.file }),
    });
  }
  if (findings.length > n) span.setAttribute("tapline.findings.dropped", findings.length - n);
}

/** Ends a span the run stopped waiting for: a `tapline.abandoned` event, status ERROR. */
export function abandonSpan(span: Span, reason: unknown, redact: Redactor): void {
  span.addEvent(E.abandoned);
  span.setAttribute(A.errorType, "TAPLINE_ERR_CANCELLED");
  span.setStatus({ code: SpanStatusCode.ERROR, message: redact.text(describeError(reason)) });
  span.end();
}

/** A cancelled run or unit: a `tapline.cancel` event with the reason, status ERROR. */
export function markCancelled(span: Span, error: unknown, redact: Redactor): void {
  const reason = (error as { reason?: unknown } | undefined)?.reason ?? error;
  const message = redact.text(describeError(reason));
  span.addEvent(E.cancel, { "tapline.cancel.reason": message });
  span.setAttribute(A.errorType, "TAPLINE_ERR_CANCELLED");
  span.setStatus({ code: SpanStatusCode.ERROR, message: `cancelled: ${message}` });
}

/** The unit's outcome, in one `setAttributes` call; cost and GPU energy when plugins annotated them. */
export function unitAttributes(span: Span, report: StepReport): void {
  const attributes: Attributes = { [A.unitStatus]: report.status, [A.attempts]: report.attempts.length };
  if (report.abandoned) attributes[A.abandoned] = true;
  // Read by shape, never declared: the cost and gpu plugins own their extensions' types.
  const usd = (report.extensions.cost as { usd?: unknown } | undefined)?.usd;
  if (typeof usd === "number" && Number.isFinite(usd)) attributes[A.costUsd] = usd;
  const energy = (report.extensions.gpu as { energyJoules?: unknown } | undefined)?.energyJoules;
  if (typeof energy === "number" && Number.isFinite(energy)) attributes[A.gpuEnergy] = energy;
  span.setAttributes(attributes);
}

/** The run's labels as `tapline.label.*` (redacted), without the trace-context carriers. */
export function labelAttributes(labels: Readonly<Record<string, string>>, redact: Redactor): Attributes {
  const out: Attributes = {};
  const keys = Object.keys(labels);
  if (keys.length === 0) return out;
  const safe = redact.fields(labels);
  for (const key of keys) {
    if (key === "traceparent" || key === "tracestate") continue;
    out[A.labelPrefix + key] = safe[key];
  }
  return out;
}

/** Attributes of the event a plugin-retry sample becomes; the unit's context gives the attempt that failed. */
export function sampleAttributes(
  event: string,
  sample: MetricSample,
  unit: StepContext | undefined,
): Attributes {
  const attributes: Attributes = {};
  if (event === E.retry || event === E.giveUp) {
    if (unit) attributes[A.attempt] = unit.attempt;
    return attributes;
  }
  if (sample.labels.breaker !== undefined) attributes["tapline.breaker.name"] = sample.labels.breaker;
  if (sample.labels.key !== undefined) attributes["tapline.breaker.key"] = sample.labels.key;
  if (event === E.breaker)
    attributes["tapline.breaker.state"] = BREAKER_STATES[sample.value] ?? String(sample.value);
  return attributes;
}

/** Attributes of a `tapline.alert` event (the message redacted). */
export function alertAttributes(alert: AlertEvent, redact: Redactor): Attributes {
  return {
    "tapline.alert.rule": alert.rule,
    "tapline.alert.level": alert.level,
    "tapline.alert.state": alert.state,
    "tapline.alert.message": redact.text(alert.message),
  };
}

/** Semantic convention `error.type`: the Tapline error code, else the class name, else `_OTHER`. */
export function errorType(error: unknown): string {
  if (isTaplineError(error)) return error.code;
  if (error instanceof Error) return error.name;
  return "_OTHER";
}

/** The `tapline.timeout` event's attributes when `error` is a step or attempt timeout. */
export function timeoutOf(error: unknown): Attributes | undefined {
  if (isTaplineError(error, ["TAPLINE_ERR_STEP_TIMEOUT", "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT"])) {
    const ms = (error as { timeoutMs?: unknown }).timeoutMs;
    return {
      [A.errorType]: error.code,
      ...(typeof ms === "number" && { "tapline.timeout.ms": ms }),
    };
  }
  return undefined;
}
