import { parseOptions } from "@tapline/core";
import { ConcurrencyGate } from "./concurrency-gate.ts";
import { parseDuration } from "./duration.ts";
import { LimitCostTooLargeError, LimitKeyError } from "./errors.ts";
import {
  type Costs,
  type GaugeConcurrency,
  type LimitClock,
  type LimiterOptions,
  type LimitKeyOptions,
  systemClock,
} from "./options.ts";
import { RateGate } from "./rate-gate.ts";
import { pauseFor429 } from "./retry-after.ts";
import { KeyOptionsSchema, LimiterSchema } from "./schemas.ts";
import { createMemoryStore, type LimitStore, type RateWindowSpec } from "./store.ts";

/** Options of one limited call. */
export interface LimitRunOptions {
  /** Aborting it takes the call out of any queue at once, rejecting with the signal's reason. Passed to the function. */
  signal?: AbortSignal;
  /** How much of the key's concurrency the call holds. Default 1. */
  weight?: number;
  /** What the call spends of the key's cost windows: `{ characters: 1200 }`. */
  cost?: Costs;
}

/** Where a key stands, for status pages and tests. */
export interface LimitKeyStats {
  /** Current capacity (`undefined` for a key without concurrency). */
  readonly concurrency: number | undefined;
  /** Weight held by calls of this process. */
  readonly inFlight: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /** Calls waiting for the rate (or a 429 pause). */
  readonly waitingForRate: number;
}

/** One key of a limiter, bound: what {@link bulkhead} and {@link rateLimit} return. */
export interface KeyLimiter {
  /** The key's name, as errors name it. */
  readonly key: string;
  /** Runs `fn` once it has a slot and room in every window; a 429 from it pauses the key. */
  run<T>(fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>, options?: LimitRunOptions): Promise<T>;
  /** Admits nothing for `ms` (what a 429's `Retry-After` does). */
  pause(ms: number): void;
  /** Sets the concurrency (what a gauge does). */
  setConcurrency(capacity: number): void;
  stats(): LimitKeyStats;
  /** Rejects every waiter with `LimitKeyError` (closed) and clears timers. */
  close(): Promise<void>;
}

/** A set of keyed limits: bulkheads, rate windows and adaptive concurrencies (see {@link createLimiter}). */
export interface Limiter {
  /** The declared keys. */
  readonly keys: readonly string[];
  /** Runs `fn` under `key`'s limits: a slot first (held until `fn` settles), then room in every window. */
  run<T>(
    key: string,
    fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
    options?: LimitRunOptions,
  ): Promise<T>;
  /** One key, bound. Throws `LimitKeyError` for an undeclared key. */
  key(name: string): KeyLimiter;
  /** Admits nothing on `key` for `ms`. */
  pause(key: string, ms: number): void;
  /** Sets `key`'s concurrency by hand. */
  setConcurrency(key: string, capacity: number): void;
  /**
   * Feeds a metric sample: keys whose concurrency follows this gauge (name and labels) take a new capacity.
   * The plugin calls it from core's `metric` hook; returns whether any key used the sample.
   */
  observe(sample: {
    readonly name: string;
    readonly value: number;
    readonly labels: Readonly<Record<string, string>>;
  }): boolean;
  stats(key: string): LimitKeyStats;
  /** Rejects every waiter with `LimitKeyError` (closed), clears timers and closes the store. */
  close(): Promise<void>;
}

interface Gauge {
  readonly name: string;
  readonly labels: readonly (readonly [string, string])[];
  readonly per: number;
  readonly min: number;
  readonly max: number;
}

/** @internal One key, normalised. */
export interface KeyState {
  readonly name: string;
  readonly gate: ConcurrencyGate | undefined;
  readonly rate: RateGate | undefined;
  readonly windows: readonly RateWindowSpec[];
  /** The amounts of a call that declares no cost: 1 per requests window, 0 per cost window. */
  readonly plain: readonly number[];
  readonly gauge: Gauge | undefined;
  readonly pauseOn429: boolean;
}

const call = <T>(
  fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
  signal: AbortSignal | undefined,
) => {
  try {
    return Promise.resolve(fn(signal));
  } catch (error) {
    return Promise.reject(error);
  }
};

/** @internal The limiter; the plugin uses its slot and rate halves at two wrapStep stages. */
export class LimiterImpl implements Limiter {
  readonly keys: readonly string[];
  readonly states = new Map<string, KeyState>();
  private readonly byGauge = new Map<string, KeyState[]>();
  private closed = false;
  private readonly store: LimitStore;

  readonly clock: LimitClock;

  constructor(options: LimiterOptions) {
    this.clock = options.clock ?? systemClock;
    const store = options.store ?? createMemoryStore();
    this.store = store;
    for (const [name, o] of Object.entries(options.keys)) {
      const state = buildKey(name, o, store, this.clock);
      this.states.set(name, state);
      if (state.gauge) {
        const list = this.byGauge.get(state.gauge.name) ?? [];
        list.push(state);
        this.byGauge.set(state.gauge.name, list);
      }
    }
    this.keys = Object.freeze([...this.states.keys()]);
  }
  /** The key's state, or a `LimitKeyError`. */
  get(key: string): KeyState {
    const state = this.states.get(key);
    if (state && !this.closed) return state;
    throw new LimitKeyError({ key, known: this.keys, ...(this.closed && { closed: true }) });
  }

  run<T>(
    key: string,
    fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
    options?: LimitRunOptions,
  ): Promise<T> {
    let k: KeyState;
    try {
      k = this.get(key);
    } catch (error) {
      return Promise.reject(error);
    }
    const gate = k.gate;
    const signal = options?.signal;
    if (!gate) return this.rated(k, fn, options);
    const weight = options?.weight ?? 1;
    if (gate.tryTake(weight)) return this.holding(k, gate, weight, fn, options);
    const tooHeavy = this.tooHeavy(k, weight);
    if (tooHeavy) return Promise.reject(tooHeavy);
    return gate.acquire(weight, signal).then(() => this.holding(k, gate, weight, fn, options));
  }

  /** @internal A static capacity smaller than the weight can never admit the unit. */
  tooHeavy(k: KeyState, weight: number): Error | undefined {
    if (k.gauge || weight <= k.gate!.capacity) return undefined;
    return new LimitCostTooLargeError({
      key: k.name,
      unit: "concurrency",
      cost: weight,
      limit: k.gate!.capacity,
    });
  }

  private async holding<T>(
    k: KeyState,
    gate: ConcurrencyGate,
    weight: number,
    fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
    options: LimitRunOptions | undefined,
  ): Promise<T> {
    try {
      return await this.rated(k, fn, options);
    } finally {
      gate.release(weight);
    }
  }

  private rated<T>(
    k: KeyState,
    fn: (signal: AbortSignal | undefined) => T | PromiseLike<T>,
    options: LimitRunOptions | undefined,
  ): Promise<T> {
    const rate = k.rate;
    const signal = options?.signal;
    if (!rate) return call(fn, signal);
    const amounts = options?.cost ? amountsFor(k, options.cost) : k.plain;
    const run = k.pauseOn429 ? () => this.watch(k, call(fn, signal)) : () => call(fn, signal);
    if (rate.tryTake(amounts)) return run();
    return rate.acquire(amounts, signal).then(run);
  }

  /** @internal Pauses the key when `pending` fails with a 429 carrying a hint. */
  watch<T>(k: KeyState, pending: Promise<T>): Promise<T> {
    return pending.catch((error: unknown) => {
      this.saw(k, error);
      throw error;
    });
  }

  /** @internal A failure of a unit of `k`: a 429 with a hint pauses the key. */
  saw(k: KeyState, error: unknown): void {
    if (!k.pauseOn429 || !k.rate) return;
    const ms = pauseFor429(error, this.clock.now());
    if (ms !== undefined && ms > 0) k.rate.pause(ms);
  }

  key(name: string): KeyLimiter {
    this.get(name);
    return {
      key: name,
      run: (fn, options) => this.run(name, fn, options),
      pause: (ms) => this.pause(name, ms),
      setConcurrency: (capacity) => this.setConcurrency(name, capacity),
      stats: () => this.stats(name),
      close: () => this.close(),
    };
  }

  pause(key: string, ms: number): void {
    const k = this.get(key);
    if (!k.rate) throw new TypeError(`limit "${key}" has no rate and pauseOn429 is off: nothing to pause`);
    k.rate.pause(ms);
  }

  setConcurrency(key: string, capacity: number): void {
    const k = this.get(key);
    if (!k.gate) throw new TypeError(`limit "${key}" has no concurrency to set`);
    if (!(capacity >= 0)) throw new RangeError(`limit "${key}": concurrency must be ≥ 0, got ${capacity}`);
    k.gate.setCapacity(capacity);
  }

  observe(sample: {
    readonly name: string;
    readonly value: number;
    readonly labels: Readonly<Record<string, string>>;
  }): boolean {
    const list = this.byGauge.get(sample.name);
    if (!list || this.closed || !Number.isFinite(sample.value)) return false;
    let used = false;
    for (const k of list) {
      const g = k.gauge!;
      if (!g.labels.every(([name, value]) => sample.labels[name] === value)) continue;
      const capacity = Math.min(g.max, Math.max(g.min, Math.floor(sample.value / g.per)));
      if (capacity !== k.gate!.capacity) k.gate!.setCapacity(capacity);
      used = true;
    }
    return used;
  }

  stats(key: string): LimitKeyStats {
    const k = this.get(key);
    return {
      concurrency: k.gate?.capacity,
      inFlight: k.gate?.inFlight ?? 0,
      queued: k.gate?.queued ?? 0,
      waitingForRate: k.rate?.queued ?? 0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const k of this.states.values()) {
      k.gate?.close();
      k.rate?.close();
    }
    await this.store.close?.();
  }
}

/** @internal The amounts of a call with costs, one per window. */
export function amountsFor(k: KeyState, cost: Costs): number[] {
  return k.windows.map((w) => (w.unit === "requests" ? 1 : (cost[w.unit] ?? 0)));
}

function buildKey(name: string, o: LimitKeyOptions, store: LimitStore, clock: LimitClock): KeyState {
  const windows: RateWindowSpec[] = (
    o.rate === undefined ? [] : Array.isArray(o.rate) ? o.rate : [o.rate]
  ).map((w: { limit: number; per: unknown; unit?: string }) => ({
    limit: w.limit,
    perMs: parseDuration(w.per)!,
    unit: w.unit ?? "requests",
  }));
  // A 429 is an API's answer: keys with a rate pause on it by default, plain bulkheads only when asked.
  const pauseOn429 = o.pauseOn429 ?? windows.length > 0;
  let gauge: Gauge | undefined;
  let capacity: number | undefined;
  if (typeof o.concurrency === "number") capacity = o.concurrency;
  else if (o.concurrency) {
    const g: GaugeConcurrency = o.concurrency;
    const min = g.min ?? 0;
    gauge = {
      name: g.gauge.name,
      labels: Object.entries(g.gauge.labels ?? {}),
      per: g.per ?? 1,
      min,
      max: g.max ?? Number.POSITIVE_INFINITY,
    };
    capacity = g.initial ?? (min > 0 ? min : 1);
  }
  const gate =
    capacity === undefined
      ? undefined
      : new ConcurrencyGate(
          name,
          store.semaphore(name),
          store.sync === true,
          capacity,
          o.queue ?? 1000,
          o.queueTimeout === undefined ? undefined : parseDuration(o.queueTimeout),
          clock,
        );
  const rate =
    windows.length > 0 || pauseOn429
      ? new RateGate(
          name,
          store.rateWindows(name, windows),
          store.sync === true,
          windows,
          parseDuration(o.maxWait ?? 60_000)!,
          clock,
        )
      : undefined;
  return {
    name,
    gate,
    rate,
    windows,
    plain: windows.map((w) => (w.unit === "requests" ? 1 : 0)),
    gauge,
    pauseOn429,
  };
}

/**
 * A set of keyed limits, usable around any function (the `limits()` plugin is a thin adapter over one):
 * bulkheads (`concurrency`, with a bounded `queue` and a `queueTimeout`), rate windows (`rate`: requests
 * and cost units per window, waiting up to `maxWait`), concurrencies that follow a gauge, and pauses after
 * a 429. Options are checked once, here (an `OptionsError` lists every bad one).
 *
 * @example
 * const limiter = createLimiter({ keys: {
 *   gpu: { concurrency: 1, queue: 100, queueTimeout: "1m" },
 *   tts: { rate: [{ limit: 100, per: "1m" }, { limit: 50_000, per: "1m", unit: "characters" }], maxWait: "30s" },
 * } });
 * await limiter.run("tts", () => speak(text), { cost: { characters: text.length } });
 */
export function createLimiter(options: LimiterOptions): Limiter {
  return new LimiterImpl(parseOptions(LimiterSchema, options, "createLimiter()"));
}

/** Options of {@link bulkhead} and {@link rateLimit}: one key's limits, with a name for messages. */
export interface KeyLimiterOptions extends LimitKeyOptions {
  /** The name errors give the limit. Default `bulkhead` / `rateLimit`. */
  name?: string;
  store?: LimiterOptions["store"];
  clock?: LimitClock;
}

function single(subject: string, fallback: string, options: KeyLimiterOptions): KeyLimiter {
  const { name = fallback, store, clock, ...key } = parseOptions(KeyOptionsSchema, options, subject);
  return new LimiterImpl({
    keys: { [name]: key },
    ...(store && { store }),
    ...(clock && { clock }),
  }).key(name);
}

/**
 * A bulkhead around any function: at most `concurrency` calls (or weight) at once, the rest waiting in a
 * bounded FIFO queue (`queue`, default 1000) for at most `queueTimeout`.
 *
 * @example
 * const gpu = bulkhead({ name: "gpu", concurrency: 1, queue: 10, queueTimeout: "2m" });
 * await gpu.run(() => render(scene));
 */
export function bulkhead(options: KeyLimiterOptions): KeyLimiter {
  return single("bulkhead()", "bulkhead", options);
}

/**
 * A rate limit around any function: every window of `rate` holds exactly (never more than `limit` in any
 * `per`), and a call that would exceed it waits, up to `maxWait` (default 60 s).
 *
 * @example
 * const llm = rateLimit({ name: "llm", rate: [{ limit: 500, per: "1m" }, { limit: 90_000, per: "1m", unit: "tokens" }] });
 * await llm.run(() => complete(prompt), { cost: { tokens: estimate(prompt) } });
 */
export function rateLimit(options: KeyLimiterOptions): KeyLimiter {
  return single("rateLimit()", "rateLimit", options);
}
