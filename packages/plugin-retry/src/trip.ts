/** Calls slower than `durationMs` are "slow"; the breaker trips when their share reaches `rateThreshold`. */
export interface SlowCallOptions {
  /** A call taking at least this long (ms, > 0) is slow, whether it succeeded or failed. */
  durationMs: number;
  /** Share of slow calls in the window, in (0, 1], that opens the breaker. */
  rateThreshold: number;
}

/**
 * When a closed breaker opens:
 * - `consecutive`: after `threshold` failures in a row;
 * - `count`: failure ratio ≥ `threshold` over the last `size` calls, once at least `minimumCalls` were made;
 * - `time`: failure ratio ≥ `threshold` over the last `windowMs`, once at least `minimumCalls` were made.
 * Windowed policies also trip on the slow-call rate when `slowCall` is set.
 */
export type TripPolicy =
  | { kind: "consecutive"; threshold: number }
  | { kind: "count"; threshold: number; size: number; minimumCalls?: number; slowCall?: SlowCallOptions }
  | {
      kind: "time";
      threshold: number;
      windowMs: number;
      minimumCalls?: number;
      /** Buckets the window is split into (default 10). */
      buckets?: number;
      slowCall?: SlowCallOptions;
    };

/** Serialised window state, part of a breaker snapshot. */
export type WindowSnapshot =
  | { kind: "consecutive"; failures: number }
  | { kind: "count"; outcomes: number[] }
  | { kind: "time"; buckets: [epoch: number, calls: number, failures: number, slow: number][] };

/** Why a window tripped. */
export type TripReason = "failures" | "slowCalls";

/** @internal Counts outcomes while the breaker is closed. */
export interface TripWindow {
  /** Slow-call threshold in ms, or Infinity. */
  readonly slowMs: number;
  /** Whether `record` needs the current time. */
  readonly needsClock: boolean;
  /** Records an outcome; returns why the breaker must open, or undefined. */
  record(failed: boolean, slow: boolean, now: number): TripReason | undefined;
  reset(): void;
  snapshot(): WindowSnapshot;
  restore(s: WindowSnapshot): void;
}

const FAILED = 1;
const SLOW = 2;

class Consecutive implements TripWindow {
  readonly slowMs = Number.POSITIVE_INFINITY;
  readonly needsClock = false;
  failures = 0;
  readonly threshold: number;
  constructor(threshold: number) {
    this.threshold = threshold;
  }
  record(failed: boolean): TripReason | undefined {
    if (!failed) {
      this.failures = 0;
      return undefined;
    }
    return ++this.failures >= this.threshold ? "failures" : undefined;
  }
  reset(): void {
    this.failures = 0;
  }
  snapshot(): WindowSnapshot {
    return { kind: "consecutive", failures: this.failures };
  }
  restore(s: WindowSnapshot): void {
    if (s.kind === "consecutive") this.failures = s.failures;
  }
}

class CountWindow implements TripWindow {
  readonly slowMs: number;
  readonly needsClock = false;
  readonly ring: Uint8Array;
  next = 0;
  total = 0;
  failures = 0;
  slows = 0;
  readonly threshold: number;
  readonly minimumCalls: number;
  readonly slow: SlowCallOptions | undefined;
  constructor(threshold: number, minimumCalls: number, slow: SlowCallOptions | undefined, size: number) {
    this.threshold = threshold;
    this.minimumCalls = minimumCalls;
    this.slow = slow;
    this.ring = new Uint8Array(size);
    this.slowMs = slow?.durationMs ?? Number.POSITIVE_INFINITY;
  }
  record(failed: boolean, slow: boolean): TripReason | undefined {
    const size = this.ring.length;
    if (this.total === size) {
      const old = this.ring[this.next]!;
      if (old & FAILED) this.failures--;
      if (old & SLOW) this.slows--;
    } else this.total++;
    this.ring[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    this.next = (this.next + 1) % size;
    if (failed) this.failures++;
    if (slow) this.slows++;
    return verdict(this.total, this.failures, this.slows, this.threshold, this.minimumCalls, this.slow);
  }
  reset(): void {
    this.ring.fill(0);
    this.next = this.total = this.failures = this.slows = 0;
  }
  snapshot(): WindowSnapshot {
    const outcomes: number[] = [];
    const size = this.ring.length;
    for (let i = 0; i < this.total; i++)
      outcomes.push(this.ring[(this.next - this.total + i + size) % size]!);
    return { kind: "count", outcomes };
  }
  restore(s: WindowSnapshot): void {
    if (s.kind !== "count") return;
    this.reset();
    for (const o of s.outcomes.slice(-this.ring.length)) this.record((o & FAILED) !== 0, (o & SLOW) !== 0);
  }
}

class TimeWindow implements TripWindow {
  readonly slowMs: number;
  readonly needsClock = true;
  readonly bucketMs: number;
  /** Per bucket: epoch (bucket index since 1970), calls, failures, slow. */
  readonly epochs: Float64Array;
  readonly calls: Uint32Array;
  readonly fails: Uint32Array;
  readonly slows: Uint32Array;
  readonly threshold: number;
  readonly minimumCalls: number;
  readonly slow: SlowCallOptions | undefined;
  constructor(
    threshold: number,
    minimumCalls: number,
    slow: SlowCallOptions | undefined,
    windowMs: number,
    buckets: number,
  ) {
    this.threshold = threshold;
    this.minimumCalls = minimumCalls;
    this.slow = slow;
    this.bucketMs = windowMs / buckets;
    this.epochs = new Float64Array(buckets).fill(-1);
    this.calls = new Uint32Array(buckets);
    this.fails = new Uint32Array(buckets);
    this.slows = new Uint32Array(buckets);
    this.slowMs = slow?.durationMs ?? Number.POSITIVE_INFINITY;
  }
  record(failed: boolean, slow: boolean, now: number): TripReason | undefined {
    const n = this.epochs.length;
    const epoch = Math.floor(now / this.bucketMs);
    const i = epoch % n;
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch;
      this.calls[i] = this.fails[i] = this.slows[i] = 0;
    }
    this.calls[i]!++;
    if (failed) this.fails[i]!++;
    if (slow) this.slows[i]!++;
    let total = 0;
    let failures = 0;
    let slows = 0;
    for (let j = 0; j < n; j++) {
      if (this.epochs[j]! > epoch - n) {
        total += this.calls[j]!;
        failures += this.fails[j]!;
        slows += this.slows[j]!;
      }
    }
    return verdict(total, failures, slows, this.threshold, this.minimumCalls, this.slow);
  }
  reset(): void {
    this.epochs.fill(-1);
    this.calls.fill(0);
    this.fails.fill(0);
    this.slows.fill(0);
  }
  snapshot(): WindowSnapshot {
    const buckets: [number, number, number, number][] = [];
    for (let j = 0; j < this.epochs.length; j++) {
      if (this.epochs[j]! >= 0)
        buckets.push([this.epochs[j]!, this.calls[j]!, this.fails[j]!, this.slows[j]!]);
    }
    return { kind: "time", buckets };
  }
  restore(s: WindowSnapshot): void {
    if (s.kind !== "time") return;
    this.reset();
    const n = this.epochs.length;
    for (const [epoch, calls, fails, slows] of s.buckets) {
      const i = epoch % n;
      this.epochs[i] = epoch;
      this.calls[i] = calls;
      this.fails[i] = fails;
      this.slows[i] = slows;
    }
  }
}

function verdict(
  total: number,
  failures: number,
  slows: number,
  threshold: number,
  minimumCalls: number,
  slow: SlowCallOptions | undefined,
): TripReason | undefined {
  if (total < minimumCalls || total === 0) return undefined;
  if (failures / total >= threshold) return "failures";
  if (slow && slows / total >= slow.rateThreshold) return "slowCalls";
  return undefined;
}

/** @internal Builds the window factory of a trip policy already checked by `TripSchema`. */
export function compileTrip(trip: TripPolicy): () => TripWindow {
  switch (trip.kind) {
    case "consecutive":
      return () => new Consecutive(trip.threshold);
    case "count":
      return () => new CountWindow(trip.threshold, trip.minimumCalls ?? 1, trip.slowCall, trip.size);
    case "time":
      return () =>
        new TimeWindow(
          trip.threshold,
          trip.minimumCalls ?? 1,
          trip.slowCall,
          trip.windowMs,
          trip.buckets ?? 10,
        );
  }
}
