import type { AnomalyDirection, RegressionCompare } from "./kinds.ts";
import { Ring, SortedValues } from "./sorted-window.ts";

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
