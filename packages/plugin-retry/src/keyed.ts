import { checkOptions } from "@tapline/core/kit";
import type {
  BreakerSnapshot,
  BreakerState,
  BreakerTransition,
  CircuitBreaker,
  CircuitBreakerOptions,
} from "./breaker.ts";
import type { BrokenCircuitError } from "./errors.ts";
import { RetryConfigError } from "./errors.ts";
import { BreakerImpl, normalizeBreaker } from "./internal/breaker.ts";
import { SharedGroup } from "./internal/shared.ts";
import { KeyedBreakersSchema } from "./schemas.ts";
import type { BreakerStore } from "./store.ts";

/** Options of {@link keyedBreakers}: one breaker policy, one state per key. */
export interface KeyedBreakerOptions extends Omit<CircuitBreakerOptions, "initialState"> {
  /** A key unused this long (ms) is forgotten, unless its breaker is open or isolated. Default 600,000. */
  idleMs?: number;
  /** At most this many keys; the least recently used closed one is dropped first. Default 10,000. */
  maxKeys?: number;
}

/**
 * Breakers sharing one policy, one state per key (provider × model, host, tenant), made by
 * {@link keyedBreakers}. Memory stays bounded: idle keys are evicted lazily on `get()` (no timers), and
 * `maxKeys` caps the count.
 */
export interface KeyedBreakers {
  /** The group's name. */
  readonly name: string;
  /** Number of keys held. */
  readonly size: number;
  /** The breaker of `key`, created on first use. */
  get(key?: string): CircuitBreaker;
  /** Listens to every key's transitions (`transition.key` names the key). */
  onTransition(listener: (transition: BreakerTransition) => void): () => void;
  /** Listens to rejections of every key. Applies to keys created after the call too. */
  onReject(listener: (error: BrokenCircuitError, key: string) => void): () => void;
  /** Every key's state, as JSON. */
  snapshot(): Record<string, BreakerSnapshot>;
  /** Resumes keys from a `snapshot()`. */
  restore(snapshots: Record<string, BreakerSnapshot>): void;
  /** The state of every key. */
  states(): Record<string, BreakerState>;
}

/** The group behind {@link KeyedBreakers} (the public type; users never construct it). */
export class KeyedBreakersImpl implements KeyedBreakers {
  readonly name: string;
  #options: ReturnType<typeof normalizeBreaker>;
  #idleMs: number;
  #maxKeys: number;
  #map = new Map<string, BreakerImpl>();
  #lastSweep = 0;
  #listeners = new Set<(t: BreakerTransition) => void>();
  #rejectListeners = new Set<(e: BrokenCircuitError, key: string) => void>();
  /** The link to the group's shared store, when it has one. */
  readonly shared: SharedGroup | undefined;

  /** Use {@link keyedBreakers}. */
  constructor(
    options: ReturnType<typeof normalizeBreaker>,
    idleMs: number,
    maxKeys: number,
    store?: BreakerStore,
  ) {
    this.#options = options;
    this.name = options.name;
    this.#idleMs = idleMs;
    this.#maxKeys = maxKeys;
    this.shared = store
      ? new SharedGroup(store, options.name, {
          get: (key) => this.get(key),
          peek: (key) => this.#map.get(key),
          entries: () => this.#map.entries(),
        })
      : undefined;
  }

  /** Number of keys held. */
  get size(): number {
    return this.#map.size;
  }

  /** The breaker of `key`, created on first use. */
  get(key = ""): BreakerImpl {
    const now = this.#options.clock.now();
    let breaker = this.#map.get(key);
    if (breaker) {
      // Refresh the key's recency (Map keeps insertion order: re-insert to move it to the end).
      this.#map.delete(key);
      this.#map.set(key, breaker);
    } else {
      if (now - this.#lastSweep >= this.#idleMs / 2) this.#sweep(now);
      if (this.#map.size >= this.#maxKeys) this.#dropOldest(now);
      breaker = new BreakerImpl(this.#options, key, undefined, this.shared);
      for (const l of this.#listeners) breaker.onTransition(l);
      for (const l of this.#rejectListeners) breaker.onReject((e) => l(e, key));
      this.#map.set(key, breaker);
    }
    breaker.lastUsed = now;
    return breaker;
  }

  /** Listens to every key's transitions (`transition.key` names the key). */
  onTransition(listener: (transition: BreakerTransition) => void): () => void {
    this.#listeners.add(listener);
    const offs = [...this.#map.values()].map((b) => b.onTransition(listener));
    return () => {
      this.#listeners.delete(listener);
      for (const off of offs) off();
    };
  }

  /** Listens to rejections of every key. Applies to keys created after the call too. */
  onReject(listener: (error: BrokenCircuitError, key: string) => void): () => void {
    this.#rejectListeners.add(listener);
    const offs = [...this.#map.entries()].map(([k, b]) => b.onReject((e) => listener(e, k)));
    return () => {
      this.#rejectListeners.delete(listener);
      for (const off of offs) off();
    };
  }

  /** Every key's state, as JSON. */
  snapshot(): Record<string, BreakerSnapshot> {
    const out: Record<string, BreakerSnapshot> = {};
    for (const [k, b] of this.#map) out[k] = b.snapshot();
    return out;
  }

  /** Resumes keys from a `snapshot()`. */
  restore(snapshots: Record<string, BreakerSnapshot>): void {
    for (const [k, s] of Object.entries(snapshots)) this.get(k).restore(s);
  }

  /** The state of every key. */
  states(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const [k, b] of this.#map) out[k] = b.state;
    return out;
  }

  #evictable(b: BreakerImpl, now: number): boolean {
    return b.state === "closed" || (b.state === "open" && now >= b.openUntil);
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [k, b] of this.#map)
      if (now - b.lastUsed >= this.#idleMs && this.#evictable(b, now)) this.#map.delete(k);
  }

  #dropOldest(now: number): void {
    for (const [k, b] of this.#map) {
      if (this.#evictable(b, now)) {
        this.#map.delete(k);
        return;
      }
    }
    // All open: drop the least recently used anyway, so memory stays bounded.
    const first = this.#map.keys().next();
    if (!first.done) this.#map.delete(first.value);
  }
}

/**
 * Creates a group of breakers with one policy and one state per key, evicting idle keys.
 *
 * @example
 * const models = keyedBreakers({ name: "llm", trip: { kind: "consecutive", threshold: 3 }, idleMs: 300_000 });
 * await models.get(`openai:${model}`).execute(() => complete(model, prompt));
 */
export function keyedBreakers(options: KeyedBreakerOptions = {}): KeyedBreakers {
  const result = checkOptions(KeyedBreakersSchema, options);
  if (result.issues) throw new RetryConfigError({ subject: "keyedBreakers()", issues: result.issues });
  return normalizeKeyed(result.value)();
}

/** Fills in the defaults of keyed-breaker options already checked by `KeyedBreakersSchema`. */
export function normalizeKeyed(options: KeyedBreakerOptions): () => KeyedBreakersImpl {
  const { idleMs = 600_000, maxKeys = 10_000, store, ...rest } = options;
  const normalized = normalizeBreaker(rest);
  return () => new KeyedBreakersImpl(normalized, idleMs, maxKeys, store);
}
