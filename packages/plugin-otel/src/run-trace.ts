import { type Context, createContextKey, type Span, trace } from "@opentelemetry/api";
import type { Redactor, StepContext } from "@tapline/core";
import { abandonSpan } from "./span-record.ts";

// @internal What the plugin holds per run. Everything hangs off the run's RunTrace, which the plugin drops at
// the run's end: no span-keyed maps (they cost a hash insert and delete per span), and the run travels in its
// context for the events that need to find their span.
export interface RunTrace {
  readonly span: Span;
  readonly context: Context;
  /** Units not ended yet; the run's end closes any left (abandoned) ones, and their attempts. */
  readonly units: Set<UnitTrace>;
  /** Open units by top-level step name, for samples that carry only `runId` and `step`. */
  readonly byStep: Map<string, UnitTrace>;
  ended: boolean;
}

export interface UnitTrace {
  readonly run: RunTrace;
  readonly ctx: StepContext;
  readonly span: Span;
  readonly context: Context;
  ended: boolean;
  /** `tapline.attempt <definition path>`, built once per unit. */
  readonly attemptName: string;
  /** Attempt spans of this unit in flight (one, but for hedging wrappers). */
  attempts: Span[] | undefined;
}

/** What a span of ours belongs to, for events that find their span through the active context. */
export type Owner = RunTrace | UnitTrace;

/** The context key under which a run's context (and every context derived from it) carries its run. */
export const OWNER = createContextKey("@tapline/plugin-otel owner");

/**
 * The run or unit an event produced in `active` belongs to. Only the run's context carries its owner (one
 * context copy per run, not per unit): the unit is found among the run's open units by the active span.
 * Events are rare; units are not.
 */
export function ownerOf(active: Context): Owner | undefined {
  const run = active.getValue(OWNER) as RunTrace | undefined;
  if (!run || run.ended) return undefined;
  const span = trace.getSpan(active);
  if (span !== undefined && span !== run.span) {
    for (const unit of run.units) {
      if (unit.span === span || unit.attempts?.includes(span)) return unit;
    }
  }
  return run;
}

/** Takes `span` out of the unit's attempts in flight; false when it was not there (already closed). */
export function takeAttempt(unit: UnitTrace, span: Span): boolean {
  const list = unit.attempts;
  if (!list) return false;
  if (list.length === 1) {
    if (list[0] !== span) return false;
    list.pop();
    return true;
  }
  const i = list.indexOf(span);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** Ends the unit's attempts still in flight as abandoned. */
export function abandonAttempts(unit: UnitTrace, reason: unknown, redact: Redactor): void {
  const list = unit.attempts;
  if (!list) return;
  unit.attempts = undefined;
  for (const a of list) abandonSpan(a, reason, redact);
}

/** Closes what a run never finished: units that did not reach stepEnd, and their attempts. */
export function abandonUnits(
  run: RunTrace,
  reason: unknown,
  units: WeakMap<StepContext, UnitTrace>,
  redact: Redactor,
): void {
  for (const unit of run.units) {
    unit.ended = true;
    units.delete(unit.ctx);
    abandonAttempts(unit, reason, redact);
    abandonSpan(unit.span, reason, redact);
  }
  run.units.clear();
}
