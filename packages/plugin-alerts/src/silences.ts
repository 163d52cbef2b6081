import type { Labels } from "@tapline/core";
import { type Duration, parseDuration } from "./duration.ts";
import { compileMatchers, type LabelMatcher, type MatcherInput, toMatchers } from "./matchers.ts";
import { parseConfig, SilenceSchema } from "./schemas.ts";

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

/** @internal Builds a silence that passed {@link SilenceSchema} (which checks its matchers and times). */
export function parseSilence(s: SilenceInput, now: number, id: string): Silence {
  const startsAt = s.startsAt === undefined ? now : toTime(s.startsAt);
  const endsAt = s.endsAt !== undefined ? toTime(s.endsAt) : startsAt + (parseDuration(s.duration ?? 0) ?? 0);
  return {
    id,
    matchers: toMatchers(s.matchers),
    startsAt,
    endsAt,
    ...(s.comment !== undefined && { comment: s.comment }),
    ...(s.createdBy !== undefined && { createdBy: s.createdBy }),
    state: startsAt > now ? "pending" : "active",
  };
}

function toTime(v: number | string): number {
  return typeof v === "number" ? v : Date.parse(v);
}

/** @internal Builds inhibition rules that passed {@link InhibitSchema}. */
export function parseInhibitRules(input: readonly InhibitRuleInput[] | undefined): InhibitRule[] {
  return (input ?? []).map((r) => ({
    source: compileMatchers(toMatchers(r.source)),
    target: compileMatchers(toMatchers(r.target)),
    equal: [...(r.equal ?? [])],
  }));
}

/** @internal The silences of one manager, with expiry. */
export class SilenceStore {
  readonly #silences = new Map<string, Silence & { test: (l: Labels) => boolean }>();
  #next = 1;

  add(input: SilenceInput, now: number, subject = "manager.silence()"): Silence {
    const valid = parseConfig(SilenceSchema, input, { subject }) as SilenceInput;
    return this.insert(parseSilence(valid, now, ""));
  }

  /** Keeps a silence built by {@link parseSilence} (its id is replaced by the store's next one). */
  insert(silence: Silence): Silence {
    const id = `silence-${this.#next++}`;
    const kept = { ...silence, id };
    this.#silences.set(id, { ...kept, test: compileMatchers(kept.matchers) });
    return kept;
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
