import type { AnomalyDirection, RegressionCompare } from "./kinds.ts";

/**
 * @internal
 * The per-series models of the statistical rule kinds (`anomaly`, `predict`, `regression`). Each keeps a bounded
 * amount of state per series (stated in the README's Performance section) and turns its samples into one value
 * that the rule's levels are compared with, through the same state machine as a threshold rule:
 * - anomaly: the newest sample's robust z-score (median and MAD of the window before it);
 * - predict: the value a least-squares line over the window predicts at `now + horizon` (Prometheus' `predict_linear`);
 * - regression: the recent median against a baseline's median, as a ratio or in MADs.
 */

/** What the rule engine needs from a series' state. */
export interface SeriesModel {
  /** Samples held (0 lets an idle series be forgotten). */
  readonly size: number;
  /** Epoch ms of the newest sample. */
  readonly lastTime: number;
  push(time: number, value: number): void;
  /** Drops what the window no longer covers. */
  evict(now: number): void;
  /** The value the levels compare with, or `undefined` when there is not enough data to judge. */
  value(now: number): number | undefined;
  /** Placeholders for messages (`{{baseline}}`, `{{crossesAt}}`...). */
  vars(now: number): Record<string, string>;
}

/** MAD → σ for normal data. */
const MAD_SCALE = 1.4826;
/** Mean absolute deviation → σ, used when more than half the values are equal (MAD is 0). */
const MEAN_AD_SCALE = 1.2533;

/** A ring of (time, value) samples bounded by age and count; `onDrop` sees each sample that leaves. */
class Ring {
  times: Float64Array;
  values: Float64Array;
  head = 0;
  size = 0;
  lastTime = Number.NEGATIVE_INFINITY;
  readonly #max: number;

  constructor(max: number) {
    this.#max = Math.max(1, max);
    const initial = Math.min(this.#max, 16);
    this.times = new Float64Array(initial);
    this.values = new Float64Array(initial);
  }

  at(i: number): number {
    return this.values[(this.head + i) % this.values.length]!;
  }

  timeAt(i: number): number {
    return this.times[(this.head + i) % this.times.length]!;
  }

  /** Adds a sample; when the ring is full its oldest sample goes to `onDrop` first. */
  push(time: number, value: number, onDrop: (t: number, v: number) => void): void {
    if (this.size === this.times.length) {
      if (this.size >= this.#max) this.dropOldest(onDrop);
      else this.#grow();
    }
    const at = (this.head + this.size) % this.times.length;
    this.times[at] = time;
    this.values[at] = value;
    this.size++;
    if (time > this.lastTime) this.lastTime = time;
  }

  evictBefore(cutoff: number, onDrop: (t: number, v: number) => void): void {
    while (this.size > 0 && this.times[this.head]! < cutoff) this.dropOldest(onDrop);
  }

  dropOldest(onDrop: (t: number, v: number) => void): void {
    const t = this.times[this.head]!;
    const v = this.values[this.head]!;
    this.head = (this.head + 1) % this.times.length;
    this.size--;
    onDrop(t, v);
  }

  #grow(): void {
    const cap = this.times.length;
    const next = Math.min(this.#max, cap * 2);
    const times = new Float64Array(next);
    const values = new Float64Array(next);
    for (let i = 0; i < this.size; i++) {
      times[i] = this.times[(this.head + i) % cap]!;
      values[i] = this.values[(this.head + i) % cap]!;
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}

/** A multiset of numbers kept sorted (binary search + `copyWithin`), for O(1) medians and O(n) MADs. */
export class SortedValues {
  #a: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.#a = new Float64Array(Math.max(16, Math.min(capacity, 64)));
  }

  insert(v: number): void {
    if (this.size === this.#a.length) {
      const next = new Float64Array(this.#a.length * 2);
      next.set(this.#a);
      this.#a = next;
    }
    const i = this.#lowerBound(v);
    this.#a.copyWithin(i + 1, i, this.size);
    this.#a[i] = v;
    this.size++;
  }

  remove(v: number): void {
    const i = this.#lowerBound(v);
    if (i >= this.size || this.#a[i] !== v) return;
    this.#a.copyWithin(i, i + 1, this.size);
    this.size--;
  }

  /** Removes `old` and inserts `v` in one move (the steady state of a sliding window: one out, one in). */
  replace(old: number, v: number): void {
    const a = this.#a;
    const i = this.#lowerBound(old);
    if (i >= this.size || a[i] !== old) {
      this.insert(v);
      return;
    }
    const j = this.#lowerBound(v);
    if (j > i) {
      a.copyWithin(i, i + 1, j);
      a[j - 1] = v;
    } else {
      a.copyWithin(j + 1, j, i);
      a[j] = v;
    }
  }

  median(): number {
    const n = this.size;
    const a = this.#a;
    const mid = n >> 1;
    return n % 2 === 1 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
  }

  /**
   * The spread as a σ estimate: 1.4826 × MAD, or 1.2533 × the mean absolute deviation when MAD is 0 (more than
   * half the values equal). The deviations from the median are two sorted runs (walking out from the middle,
   * left and right), so their median is a k-th smallest of two sorted arrays: O(log n), with no sort and no copy.
   */
  sigma(median: number): number {
    const n = this.size;
    if (n < 2) return 0;
    const mid = n >> 1;
    const odd = n % 2 === 1;
    // left deviations: median - a[mid-1-i], i < mid; right: a[rBase+j] - median, j < mid
    const rBase = odd ? mid + 1 : mid;
    // odd: the middle element's deviation 0 is the smallest, so the median of all n is the (mid-1)-th of the rest
    const mad = odd
      ? this.#kthDeviation(mid - 1, median, mid, rBase)
      : (this.#kthDeviation(mid - 1, median, mid, rBase) + this.#kthDeviation(mid, median, mid, rBase)) / 2;
    if (mad > 0) return MAD_SCALE * mad;
    const a = this.#a;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.abs(a[i]! - median);
    return (MEAN_AD_SCALE * sum) / n;
  }

  /** The k-th smallest (0-based) of the left and right deviation runs, each `len` long. */
  #kthDeviation(k: number, median: number, len: number, rBase: number): number {
    const a = this.#a;
    const lTop = len - 1; // left run: L(i) = median - a[lTop - i]
    let lo = Math.max(0, k + 1 - len);
    let hi = Math.min(k + 1, len);
    while (lo < hi) {
      const i = (lo + hi) >> 1; // i from the left run, j = k + 1 - i from the right
      const j = k + 1 - i;
      if (j > 0 && median - a[lTop - i]! < a[rBase + j - 1]! - median) lo = i + 1;
      else hi = i;
    }
    const j = k + 1 - lo;
    const fromL = lo > 0 ? median - a[lTop - lo + 1]! : Number.NEGATIVE_INFINITY;
    const fromR = j > 0 ? a[rBase + j - 1]! - median : Number.NEGATIVE_INFINITY;
    return Math.max(fromL, fromR);
  }

  #lowerBound(v: number): number {
    let lo = 0;
    let hi = this.size;
    const a = this.#a;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Robust z-score of each new sample against the window before it. */
export class AnomalyModel implements SeriesModel {
  readonly #ring: Ring;
  readonly #sorted: SortedValues;
  readonly #windowMs: number;
  readonly #minSamples: number;
  readonly #warmupMs: number;
  readonly #direction: AnomalyDirection;
  /** The first sample leaving the window on a push: replaced by the new one in a single move. */
  #leaving: number | undefined;
  readonly #drop = (_t: number, v: number) => {
    if (this.#collect && this.#leaving === undefined) this.#leaving = v;
    else this.#sorted.remove(v);
  };
  #collect = false;
  #firstTime = Number.NaN;
  #z: number | undefined;
  #median = Number.NaN;
  #sigma = Number.NaN;
  #last = Number.NaN;

  constructor(
    windowMs: number,
    maxSamples: number,
    minSamples: number,
    warmupMs: number,
    direction: AnomalyDirection,
  ) {
    this.#ring = new Ring(maxSamples);
    this.#sorted = new SortedValues(maxSamples);
    this.#windowMs = windowMs;
    this.#minSamples = minSamples;
    this.#warmupMs = warmupMs;
    this.#direction = direction;
  }

  get size(): number {
    return this.#ring.size;
  }

  get lastTime(): number {
    return this.#ring.lastTime;
  }

  push(time: number, value: number): void {
    if (Number.isNaN(this.#firstTime)) this.#firstTime = time;
    this.#collect = true;
    this.#leaving = undefined;
    this.#ring.evictBefore(time - this.#windowMs, this.#drop);
    this.#collect = false;
    this.#z = undefined;
    this.#last = value;
    // Judged against the window before it (with the one sample leaving it, swapped out below in the same move as
    // the new one comes in), and only once the series is old and full enough: its first minutes never fire.
    if (this.#sorted.size >= this.#minSamples && time - this.#firstTime >= this.#warmupMs) {
      const median = this.#sorted.median();
      const sigma = this.#sorted.sigma(median);
      const z = sigma > 0 ? (value - median) / sigma : value === median ? 0 : Math.sign(value - median) * 1e9;
      this.#z = this.#direction === "up" ? z : this.#direction === "down" ? -z : Math.abs(z);
      this.#median = median;
      this.#sigma = sigma;
    }
    this.#ring.push(time, value, this.#drop); // a full ring drops its oldest through #drop: removed at once
    if (this.#leaving === undefined) this.#sorted.insert(value);
    else this.#sorted.replace(this.#leaving, value);
    this.#leaving = undefined;
  }

  evict(now: number): void {
    this.#ring.evictBefore(now - this.#windowMs, this.#drop);
  }

  value(): number | undefined {
    return this.#z;
  }

  vars(): Record<string, string> {
    return {
      median: fmt(this.#median),
      sigma: fmt(this.#sigma),
      sample: fmt(this.#last),
      samples: String(this.#sorted.size),
    };
  }
}

/** A least-squares line over the window (running sums, O(1) per sample), extrapolated to `now + horizon`. */
export class PredictModel implements SeriesModel {
  readonly #ring: Ring;
  readonly #windowMs: number;
  readonly #horizonMs: number;
  readonly #minSamples: number;
  /** Time origin (ms) of the sums, so t² stays small and precise. */
  #origin = Number.NaN;
  #n = 0;
  #st = 0;
  #sv = 0;
  #stt = 0;
  #stv = 0;
  readonly #drop = (t: number, v: number) => this.#remove(t, v);

  constructor(windowMs: number, horizonMs: number, maxSamples: number, minSamples: number) {
    this.#ring = new Ring(maxSamples);
    this.#windowMs = windowMs;
    this.#horizonMs = horizonMs;
    this.#minSamples = Math.max(2, minSamples);
  }

  get size(): number {
    return this.#ring.size;
  }

  get lastTime(): number {
    return this.#ring.lastTime;
  }

  push(time: number, value: number): void {
    if (Number.isNaN(this.#origin)) this.#origin = time;
    this.#ring.push(time, value, this.#drop);
    const t = (time - this.#origin) / 1000;
    this.#n++;
    this.#st += t;
    this.#sv += value;
    this.#stt += t * t;
    this.#stv += t * value;
    this.evict(time);
  }

  evict(now: number): void {
    this.#ring.evictBefore(now - this.#windowMs, this.#drop);
  }

  /**
   * Slope (per second) and intercept at the origin, or `undefined` with too few samples, or samples spanning
   * less than half the window (a line through a series' first minutes extrapolates noise).
   */
  line(): { slope: number; intercept: number } | undefined {
    const n = this.#n;
    if (n < this.#minSamples) return undefined;
    const ring = this.#ring;
    if (ring.timeAt(ring.size - 1) - ring.timeAt(0) < this.#windowMs / 2) return undefined;
    const denom = n * this.#stt - this.#st * this.#st;
    if (!(Math.abs(denom) > 1e-12)) return undefined;
    const slope = (n * this.#stv - this.#st * this.#sv) / denom;
    return { slope, intercept: (this.#sv - slope * this.#st) / n };
  }

  value(now: number): number | undefined {
    const line = this.line();
    if (!line) return undefined;
    return line.intercept + line.slope * ((now + this.#horizonMs - this.#origin) / 1000);
  }

  /** Epoch ms when the line reaches `threshold`, or `undefined` when it never does (flat, or moving away). */
  crossing(threshold: number, now: number): number | undefined {
    const line = this.line();
    if (!line || line.slope === 0) return undefined;
    const at = this.#origin + ((threshold - line.intercept) / line.slope) * 1000;
    return Number.isFinite(at) ? Math.max(at, now) : undefined;
  }

  vars(): Record<string, string> {
    const line = this.line();
    return { slope: line ? String(line.slope * 3600) : "n/a" };
  }

  #remove(t: number, v: number): void {
    const x = (t - this.#origin) / 1000;
    this.#n--;
    this.#st -= x;
    this.#sv -= v;
    this.#stt -= x * x;
    this.#stv -= x * v;
    if (this.#n === 0) this.#st = this.#sv = this.#stt = this.#stv = 0; // no float drift once empty
  }
}

/** What a regression model keeps on disk: the recent window's samples and the baseline's values. */
export interface RegressionState {
  /** `[epoch ms, value]` of the recent window, oldest first. */
  readonly recent: readonly (readonly [number, number])[];
  /** The baseline's values, oldest first. */
  readonly baseline: readonly number[];
  /** Epoch ms of the oldest sample the baseline ever took (for "against what"). */
  readonly since: number | undefined;
}

/**
 * Recent durations against a baseline: samples stay in the recent window for `window`, then move into the
 * baseline, a FIFO of the last `baseline` samples. The value is median(recent) / median(baseline), or
 * (median(recent) − median(baseline)) / σ(baseline) in MADs.
 */
export class RegressionModel implements SeriesModel {
  readonly #recent: Ring;
  readonly #recentSorted: SortedValues;
  readonly #base: Ring;
  readonly #baseSorted: SortedValues;
  readonly #windowMs: number;
  readonly #minSamples: number;
  readonly #compare: RegressionCompare;
  #since: number | undefined;
  /** Set on every change, cleared by the store once written. */
  dirty = false;
  readonly #toBaseline = (t: number, v: number) => {
    this.#recentSorted.remove(v);
    this.#base.push(t, v, this.#dropBase);
    this.#baseSorted.insert(v);
    this.#since ??= t;
    this.dirty = true;
  };
  readonly #dropBase = (_t: number, v: number) => this.#baseSorted.remove(v);

  constructor(
    windowMs: number,
    recentMax: number,
    baselineSize: number,
    minSamples: number,
    compare: RegressionCompare,
  ) {
    this.#recent = new Ring(recentMax);
    this.#recentSorted = new SortedValues(recentMax);
    this.#base = new Ring(baselineSize);
    this.#baseSorted = new SortedValues(baselineSize);
    this.#windowMs = windowMs;
    this.#minSamples = minSamples;
    this.#compare = compare;
  }

  get size(): number {
    return this.#recent.size + this.#base.size;
  }

  get lastTime(): number {
    return Math.max(this.#recent.lastTime, this.#base.lastTime);
  }

  push(time: number, value: number): void {
    this.#recent.evictBefore(time - this.#windowMs, this.#toBaseline);
    this.#recent.push(time, value, this.#toBaseline);
    this.#recentSorted.insert(value);
    this.dirty = true;
  }

  evict(now: number): void {
    this.#recent.evictBefore(now - this.#windowMs, this.#toBaseline);
  }

  value(): number | undefined {
    if (this.#recentSorted.size < this.#minSamples || this.#baseSorted.size < this.#minSamples)
      return undefined;
    const recent = this.#recentSorted.median();
    const base = this.#baseSorted.median();
    if (this.#compare === "ratio") return base > 0 ? recent / base : undefined;
    const sigma = this.#baseSorted.sigma(base);
    return sigma > 0 ? (recent - base) / sigma : recent === base ? 0 : Math.sign(recent - base) * 1e9;
  }

  vars(): Record<string, string> {
    const has = this.#recentSorted.size > 0 && this.#baseSorted.size > 0;
    const recent = has ? this.#recentSorted.median() : Number.NaN;
    const base = has ? this.#baseSorted.median() : Number.NaN;
    return {
      recent: fmt(recent),
      recentSamples: String(this.#recent.size),
      recentSince: this.#recent.size > 0 ? iso(this.#recent.timeAt(0)) : "n/a",
      baseline: fmt(base),
      baselineSamples: String(this.#base.size),
      baselineSince: this.#since === undefined ? "n/a" : iso(this.#since),
      ratio: has && base > 0 ? `${fmt(recent / base)}×` : "n/a",
    };
  }

  /** The state to persist. */
  save(): RegressionState {
    const recent: [number, number][] = [];
    for (let i = 0; i < this.#recent.size; i++) recent.push([this.#recent.timeAt(i), this.#recent.at(i)]);
    const baseline: number[] = [];
    for (let i = 0; i < this.#base.size; i++) baseline.push(this.#base.at(i));
    return { recent, baseline, since: this.#since };
  }

  /** Restores a persisted state (already shape-checked), keeping only what today's limits allow. */
  load(state: RegressionState): void {
    for (const v of state.baseline) {
      this.#base.push(0, v, this.#dropBase);
      this.#baseSorted.insert(v);
    }
    this.#since = state.since;
    for (const [t, v] of state.recent) {
      this.#recent.push(t, v, this.#toBaseline);
      this.#recentSorted.insert(v);
    }
    this.dirty = false;
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const f = 10 ** digits;
  return String(Math.round(v * f) / f);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
