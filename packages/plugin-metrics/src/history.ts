import type { MetricSample } from "@tapline/core";
import { parseFactoryOptions } from "./options.ts";
import { HistoryOptionsSchema } from "./schemas.ts";

/** Summary statistics of one metric's recent history. */
export interface HistoryStats {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Points kept (≤ capacity). */
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly last: number;
  /** Epoch ms of the last point. */
  readonly lastTime: number;
  /** Least-squares slope over the kept points, in units per second (trend: > 0 rising). */
  readonly slope: number;
}

/** Options of {@link MetricHistory}. */
export interface MetricHistoryOptions {
  /** Points kept per series (a ring buffer). Default 300 (5 minutes at 1 s). */
  capacity?: number;
  /** Series kept; samples of new series past it are dropped and counted. Default 2000. */
  maxSeries?: number;
}

class Ring {
  readonly times: Float64Array;
  readonly values: Float64Array;
  next = 0;
  size = 0;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  constructor(name: string, labels: Readonly<Record<string, string>>, capacity: number) {
    this.name = name;
    this.labels = labels;
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }
}

/**
 * Bounded history per metric series (name + labels): a fixed ring of (time, value) points, with min, max,
 * mean, last and slope over what it holds. Counters are stored as their increments.
 */
export class MetricHistory {
  readonly #series = new Map<string, Ring>();
  readonly #capacity: number;
  readonly #maxSeries: number;
  #dropped = 0;

  constructor(options: MetricHistoryOptions = {}) {
    options = parseFactoryOptions(HistoryOptionsSchema, options, "new MetricHistory()");
    this.#capacity = options.capacity ?? 300;
    this.#maxSeries = options.maxSeries ?? 2000;
  }

  /** Adds one sample. */
  add(sample: MetricSample): void {
    const id = seriesId(sample.name, sample.labels);
    let ring = this.#series.get(id);
    if (!ring) {
      if (this.#series.size >= this.#maxSeries) {
        this.#dropped++;
        return;
      }
      ring = new Ring(sample.name, sample.labels, this.#capacity);
      this.#series.set(id, ring);
    }
    ring.times[ring.next] = sample.time;
    ring.values[ring.next] = sample.value;
    ring.next = (ring.next + 1) % this.#capacity;
    if (ring.size < this.#capacity) ring.size++;
  }

  /** Statistics of one series, or undefined when it has no points. */
  stats(name: string, labels: Readonly<Record<string, string>> = {}): HistoryStats | undefined {
    const ring = this.#series.get(seriesId(name, labels));
    return ring ? statsOf(ring, this.#capacity) : undefined;
  }

  /** Statistics of every series (optionally only those whose name starts with `prefix`). */
  all(prefix = ""): HistoryStats[] {
    const out: HistoryStats[] = [];
    for (const ring of this.#series.values())
      if (ring.name.startsWith(prefix)) out.push(statsOf(ring, this.#capacity));
    return out;
  }

  /** Samples dropped because `maxSeries` was reached. */
  get dropped(): number {
    return this.#dropped;
  }
}

/** @internal A stable id for a name and a label set (labels sorted by key). */
export function seriesId(name: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return name;
  if (keys.length > 1) keys.sort();
  let id = name;
  for (const k of keys) id += `\u0000${k}\u0001${labels[k]}`;
  return id;
}

function statsOf(ring: Ring, capacity: number): HistoryStats {
  const n = ring.size;
  const first = (ring.next - n + capacity) % capacity;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let sumT = 0;
  let sumTT = 0;
  let sumTV = 0;
  const t0 = ring.times[first]!;
  for (let i = 0; i < n; i++) {
    const j = (first + i) % capacity;
    const v = ring.values[j]!;
    const t = (ring.times[j]! - t0) / 1000;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumT += t;
    sumTT += t * t;
    sumTV += t * v;
  }
  const lastIndex = (ring.next - 1 + capacity) % capacity;
  const denominator = n * sumTT - sumT * sumT;
  const slope = n >= 2 && denominator > 0 ? (n * sumTV - sumT * sum) / denominator : 0;
  return {
    name: ring.name,
    labels: ring.labels,
    count: n,
    min,
    max,
    mean: sum / n,
    last: ring.values[lastIndex]!,
    lastTime: ring.times[lastIndex]!,
    slope,
  };
}
