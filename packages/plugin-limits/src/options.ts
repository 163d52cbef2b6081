import type { Duration } from "./duration.ts";
import type { LimitStore } from "./store.ts";

/** One rate window: at most `limit` of `unit` in any `per`. */
export interface RateWindow {
  /** How many `unit`s the window allows. */
  limit: number;
  /** The window's length: ms or `"1m"`, `"10s"`, `"1h"`... */
  per: Duration;
  /**
   * What is counted: `"requests"` (the default: one per call, each retry attempt included) or a cost unit
   * (`"characters"`, `"tokens"`) that units declare with `cost`.
   */
  unit?: string;
}

/**
 * A concurrency that follows a gauge published through core's `metric` hook (by plugin-gpu, plugin-metrics
 * or your own code): the key's capacity becomes `floor(value / per)`, kept within `min` and `max`. Waiting
 * units start as soon as capacity grows.
 *
 * @example
 * // one render per 8 GB of free memory on GPU 0
 * { gauge: { name: "tapline_gpu_memory_free_bytes", labels: { gpu: "0" } }, per: 8e9, max: 4 }
 * // or capacity in bytes, each render declaring its own weight: limit: { key: "gpu0", weight: 6e9 }
 * { gauge: { name: "tapline_gpu_memory_free_bytes", labels: { gpu: "0" } } }
 */
export interface GaugeConcurrency {
  /** The gauge: a sample name, and labels the sample must carry (others are ignored). */
  gauge: { name: string; labels?: Record<string, string> };
  /** The gauge value one unit of capacity takes. Default 1 (capacity = the value, floored). */
  per?: number;
  /** Lowest capacity, whatever the gauge says. Default 0 (a gauge at 0 stops new units). */
  min?: number;
  /** Highest capacity. Default unbounded. */
  max?: number;
  /** Capacity until the first sample arrives. Default `min`, or 1 when `min` is 0. */
  initial?: number;
}

/** The limits of one key. A key may have a concurrency, a rate, or both. */
export interface LimitKeyOptions {
  /**
   * Units (or weight) in flight at once: a number, or a {@link GaugeConcurrency}. A unit holds its slot from
   * before its first attempt to after its last (retries and backoff included).
   */
  concurrency?: number | GaugeConcurrency;
  /** How many units may wait for a slot; one more is rejected with `LimitQueueFullError`. Default 1000. */
  queue?: number;
  /** How long a unit may wait for a slot before `LimitQueueTimeoutError`. Default: no limit (the step's timeout and cancellation still apply). */
  queueTimeout?: Duration;
  /** Rate windows, all enforced together: each attempt waits until every window has room. */
  rate?: RateWindow | readonly RateWindow[];
  /** Longest a unit waits for the rate (or a 429 pause) before `LimitWaitExceededError`. Default 60 s. */
  maxWait?: Duration;
  /**
   * Pause the key when an attempt fails with HTTP 429 and a retry hint (`Retry-After`, `retry-after-ms`,
   * `error.retryAfterMs`): no unit of the key starts an attempt until the hint has passed. Default true for a
   * key with a `rate`, false for a plain bulkhead.
   */
  pauseOn429?: boolean;
}

/** Time source (tests pass a fake one; vitest's fake timers work with the default). */
export interface LimitClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link createLimiter}. */
export interface LimiterOptions {
  /** The keys and their limits. Steps refer to them by name. */
  keys: Record<string, LimitKeyOptions>;
  /** Where state lives. Default: {@link createMemoryStore} (this process). */
  store?: LimitStore;
  /** Time source. Default: `Date.now` and unref'd timers. */
  clock?: LimitClock;
}

/** @internal The default clock: reads the globals at call time, so fake timers installed later apply. */
export const systemClock: LimitClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Costs of one unit by cost unit: `{ characters: 1200 }`, `{ tokens: 3000 }`. */
export type Costs = Readonly<Record<string, number>>;

/**
 * What a step (or each item of a map, or a branch) takes from a key: `limit: "gpu"`, or an object, or a
 * list of them (`[{ key: "gpu" }, { key: "llm", cost }]`).
 */
export interface LimitStepOptions {
  /** The key, declared in `limits({ keys })`; or a function of the unit's input (`(job) => \`gpu${job.gpu}\``). */
  key: string | ((input: any, ctx: import("@tapline/core").StepContext) => string);
  /** How much of the key's concurrency the unit holds (bytes of GPU memory, say). Default 1. */
  weight?: number | ((input: any) => number);
  /**
   * What one attempt spends of the key's cost windows, known before it starts so it can wait for room:
   * `{ characters: 1200 }` or `(input) => ({ characters: input.text.length })`.
   */
  cost?: Costs | ((input: any, ctx: import("@tapline/core").StepContext) => Costs);
}

/** The value of the `limit` step option. */
export type LimitStepOption = string | LimitStepOptions | readonly (string | LimitStepOptions)[];
