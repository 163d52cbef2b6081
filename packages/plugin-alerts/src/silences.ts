import type { Labels } from "@tapline/core";
import { type Duration, parseDuration } from "./duration.ts";
import { AlertConfigError, type AlertConfigIssue } from "./errors.ts";
import { compileMatchers, type LabelMatcher, type MatcherInput, parseMatchers } from "./matchers.ts";

/** A silence to add: alerts matching every matcher are not notified between `startsAt` and `endsAt`. */
export interface SilenceInput {
  /** Label matchers (object or Prometheus-style strings); at least one. */
  readonly matchers: MatcherInput;
  /** Epoch ms or ISO date; default now. */
  readonly startsAt?: number | string;
  /** Epoch ms or ISO date; give this or `duration`. */
  readonly endsAt?: number | string;
  /** Length from `startsAt`, e.g. `"2h"`. */
  readonly duration?: Duration;
  readonly comment?: string;
  readonly createdBy?: string;
}

/** A silence as the manager holds it. */
export interface Silence {
  readonly id: string;
  readonly matchers: readonly LabelMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly comment?: string;
  readonly createdBy?: string;
  /** `active`, `pending` (not started yet) or `expired`. */
  readonly state: "active" | "pending" | "expired";
}

/** An inhibition rule (Alertmanager's): while a `source` alert fires, `target` alerts sharing the `equal` labels are muted. */
export interface InhibitRuleInput {
  readonly source: MatcherInput;
  readonly target: MatcherInput;
  /** Labels whose values must be equal on source and target. Default none (any source mutes every target). */
  readonly equal?: readonly string[];
}

/** @internal */
export interface InhibitRule {
  readonly source: (labels: Labels) => boolean;
  readonly target: (labels: Labels) => boolean;
  readonly equal: readonly string[];
}

/** @internal Validates silences, pushing issues with their paths. */
export function parseSilence(
  input: unknown,
  path: string,
  issues: AlertConfigIssue[],
  now: number,
  id: string,
): Silence | undefined {
  if (typeof input !== "object" || input === null) {
    issues.push({ path, message: "expected { matchers, endsAt | duration, comment? }" });
    return undefined;
  }
  const s = input as Record<string, unknown>;
  const start = issues.length;
  const matchers = parseMatchers(s.matchers, `${path}.matchers`, issues);
  if (matchers.length === 0 && issues.length === start)
    issues.push({
      path: `${path}.matchers`,
      message: "required: at least one matcher (a silence matching everything is almost always a mistake)",
    });
  const startsAt = s.startsAt === undefined ? now : toTime(s.startsAt, `${path}.startsAt`, issues);
  let endsAt: number | undefined;
  if (s.endsAt !== undefined) endsAt = toTime(s.endsAt, `${path}.endsAt`, issues);
  else if (s.duration !== undefined) {
    const d = parseDuration(s.duration);
    if (d === undefined)
      issues.push({
        path: `${path}.duration`,
        message: `expected a duration such as "2h", got ${JSON.stringify(s.duration)}`,
      });
    else endsAt = startsAt + d;
  } else
    issues.push({ path: `${path}.endsAt`, message: "required: endsAt or duration (silences always expire)" });
  if (endsAt !== undefined && endsAt <= startsAt)
    issues.push({ path: `${path}.endsAt`, message: "must be after startsAt" });
  if (issues.length > start) return undefined;
  return {
    id,
    matchers,
    startsAt,
    endsAt: endsAt!,
    ...(typeof s.comment === "string" && { comment: s.comment }),
    ...(typeof s.createdBy === "string" && { createdBy: s.createdBy }),
    state: startsAt > now ? "pending" : "active",
  };
}

function toTime(v: unknown, path: string, issues: AlertConfigIssue[]): number {
  const t = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t))
    issues.push({ path, message: `expected epoch ms or an ISO date, got ${JSON.stringify(v)}` });
  return t;
}

/** @internal Validates inhibition rules. */
export function parseInhibitRules(input: unknown, path: string, issues: AlertConfigIssue[]): InhibitRule[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) {
    issues.push({ path, message: "expected a list of { source, target, equal? }" });
    return [];
  }
  const out: InhibitRule[] = [];
  input.forEach((raw, i) => {
    const p = `${path}[${i}]`;
    if (typeof raw !== "object" || raw === null) {
      issues.push({ path: p, message: "expected { source, target, equal? }" });
      return;
    }
    const r = raw as Record<string, unknown>;
    const start = issues.length;
    if (r.source === undefined)
      issues.push({ path: `${p}.source`, message: "required: matchers of the muting alerts" });
    if (r.target === undefined)
      issues.push({ path: `${p}.target`, message: "required: matchers of the muted alerts" });
    const source = parseMatchers(r.source, `${p}.source`, issues);
    const target = parseMatchers(r.target, `${p}.target`, issues);
    const equal = r.equal ?? [];
    if (!Array.isArray(equal) || equal.some((e) => typeof e !== "string"))
      issues.push({ path: `${p}.equal`, message: "expected a list of label names" });
    if (issues.length > start) return;
    out.push({ source: compileMatchers(source), target: compileMatchers(target), equal: equal as string[] });
  });
  return out;
}

/** @internal The silences of one manager, with expiry. */
export class SilenceStore {
  readonly #silences = new Map<string, Silence & { test: (l: Labels) => boolean }>();
  #next = 1;

  add(input: SilenceInput, now: number): Silence {
    const issues: AlertConfigIssue[] = [];
    const id = `silence-${this.#next++}`;
    const silence = parseSilence(input, "silence", issues, now, id);
    if (!silence) throw new AlertConfigError(issues);
    this.#silences.set(id, { ...silence, test: compileMatchers(silence.matchers) });
    return silence;
  }

  /** Ends a silence now; returns false when the id is unknown. */
  expire(id: string, now: number): boolean {
    const s = this.#silences.get(id);
    if (!s) return false;
    this.#silences.set(id, { ...s, endsAt: Math.min(s.endsAt, now), state: "expired" });
    return true;
  }

  /** True when an active silence matches the labels. */
  silenced(labels: Labels, now: number): boolean {
    for (const s of this.#silences.values())
      if (s.startsAt <= now && now < s.endsAt && s.test(labels)) return true;
    return false;
  }

  /** Every silence with its state at `now`; expired ones older than a day are forgotten. */
  list(now: number): Silence[] {
    const out: Silence[] = [];
    for (const [id, { test: _test, ...s }] of this.#silences) {
      if (s.endsAt < now - 86_400_000) {
        this.#silences.delete(id);
        continue;
      }
      out.push({ ...s, state: now < s.startsAt ? "pending" : now < s.endsAt ? "active" : "expired" });
    }
    return out;
  }
}
