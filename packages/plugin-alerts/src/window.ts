/** The aggregations a rule accepts. */
export const AGGREGATIONS = ["last", "mean", "min", "max", "sum", "rate", "count", "p95"] as const;
/** How a rule reduces the samples of its window to one value. */
export type Aggregation = (typeof AGGREGATIONS)[number];

/**
 * @internal
 * The samples of one series inside a sliding time window: a growable ring of (time, value) pairs, evicted by
 * age on every push and read, and capped at `maxSamples` (oldest dropped first) so memory stays bounded.
 */
export class SampleWindow {
  #times: Float64Array;
  #values: Float64Array;
  #head = 0;
  #size = 0;
  #sum = 0;
  readonly #windowMs: number;
  readonly #max: number;
  /** Epoch ms of the newest sample. */
  lastTime = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number, maxSamples: number) {
    this.#windowMs = windowMs;
    this.#max = Math.max(1, maxSamples);
    const initial = Math.min(this.#max, 8);
    this.#times = new Float64Array(initial);
    this.#values = new Float64Array(initial);
  }

  get size(): number {
    return this.#size;
  }

  push(time: number, value: number): void {
    if (this.#size === this.#times.length) {
      if (this.#size >= this.#max) this.#dropOldest();
      else this.#grow();
    }
    const cap = this.#times.length;
    const at = (this.#head + this.#size) % cap;
    this.#times[at] = time;
    this.#values[at] = value;
    this.#size++;
    this.#sum += value;
    if (time > this.lastTime) this.lastTime = time;
    this.evict(time);
  }

  /** Drops samples older than `now - window` (a window of 0 keeps only the newest sample). */
  evict(now: number): void {
    const cutoff = now - this.#windowMs;
    while (this.#size > 1 && this.#times[this.#head]! < cutoff) this.#dropOldest();
    if (this.#size === 1 && this.#times[this.#head]! < cutoff && this.#windowMs > 0) this.#dropOldest();
  }

  /** The aggregate of the samples in the window, or `undefined` when it is empty. */
  aggregate(kind: Aggregation): number | undefined {
    const n = this.#size;
    if (n === 0) return kind === "count" ? 0 : kind === "rate" || kind === "sum" ? 0 : undefined;
    const cap = this.#times.length;
    const values = this.#values;
    const head = this.#head;
    switch (kind) {
      case "last":
        return values[(head + n - 1) % cap];
      case "sum":
        return this.#sum;
      case "mean":
        return this.#sum / n;
      case "count":
        return n;
      case "rate":
        // Counter samples carry increments (core's MetricSample contract): increase per second over the window.
        return this.#windowMs > 0 ? this.#sum / (this.#windowMs / 1000) : this.#sum;
      case "min": {
        let m = Number.POSITIVE_INFINITY;
        for (let i = 0; i < n; i++) m = Math.min(m, values[(head + i) % cap]!);
        return m;
      }
      case "max": {
        let m = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < n; i++) m = Math.max(m, values[(head + i) % cap]!);
        return m;
      }
      case "p95": {
        const sorted = new Float64Array(n);
        for (let i = 0; i < n; i++) sorted[i] = values[(head + i) % cap]!;
        sorted.sort();
        // Nearest-rank percentile: the smallest value with at least 95% of samples at or below it.
        return sorted[Math.max(0, Math.ceil(0.95 * n) - 1)];
      }
    }
  }

  #dropOldest(): void {
    this.#sum -= this.#values[this.#head]!;
    this.#head = (this.#head + 1) % this.#times.length;
    this.#size--;
    if (this.#size === 0) this.#sum = 0; // no drift from float error once empty
  }

  #grow(): void {
    const cap = this.#times.length;
    const next = Math.min(this.#max, cap * 2);
    const times = new Float64Array(next);
    const values = new Float64Array(next);
    for (let i = 0; i < this.#size; i++) {
      times[i] = this.#times[(this.#head + i) % cap]!;
      values[i] = this.#values[(this.#head + i) % cap]!;
    }
    this.#times = times;
    this.#values = values;
    this.#head = 0;
  }
}
