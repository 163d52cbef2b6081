import type { Labels } from "@tapline/core";
import type { CompiledRule } from "./rule-engine.ts";

/**
 * @internal
 * The rules of one metric name, indexed like an inverted index: the label most rules match by equality (often
 * `step`) maps each value to its rules, so a sample is only label-matched against the rules that can match it
 * (plus the rules without such a matcher). Rules come back in definition order.
 */
export class MetricRules {
  readonly #label: string | undefined;
  readonly #buckets = new Map<string, CompiledRule[]>();
  readonly #rest: CompiledRule[] = [];
  readonly #all: CompiledRule[];

  constructor(rules: readonly CompiledRule[]) {
    this.#all = [...rules];
    const counts = new Map<string, number>();
    for (const rule of rules)
      for (const m of rule.rule.matchers) if (m.op === "=") counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
    let best: string | undefined;
    for (const [name, count] of counts) if (count > (best === undefined ? 1 : counts.get(best)!)) best = name;
    this.#label = best;
    for (const rule of rules) {
      const eq =
        best === undefined ? undefined : rule.rule.matchers.find((m) => m.op === "=" && m.name === best);
      if (!eq) {
        this.#rest.push(rule);
        continue;
      }
      const bucket = this.#buckets.get(eq.value) ?? [];
      bucket.push(rule);
      this.#buckets.set(eq.value, bucket);
    }
  }

  /** Every rule of the metric. */
  get all(): readonly CompiledRule[] {
    return this.#all;
  }

  /** The rules that may match `labels`, in definition order (each still has to pass its own matchers). */
  candidates(labels: Labels): readonly CompiledRule[] {
    if (this.#label === undefined) return this.#rest;
    const bucket = this.#buckets.get(labels[this.#label] ?? "");
    if (bucket === undefined) return this.#rest;
    if (this.#rest.length === 0) return bucket;
    return merge(bucket, this.#rest, this.#all);
  }
}

function merge(
  a: readonly CompiledRule[],
  b: readonly CompiledRule[],
  order: readonly CompiledRule[],
): CompiledRule[] {
  const set = new Set<CompiledRule>([...a, ...b]);
  return order.filter((r) => set.has(r));
}
