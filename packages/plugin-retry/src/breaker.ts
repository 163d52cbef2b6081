import { checkOptions } from "@tapline/core/kit";
import type { Classifier } from "./classify.ts";
import type { Clock } from "./clock.ts";
import type { EffectSchedule } from "./effect-schedule.ts";
import { type BrokenCircuitError, RetryConfigError } from "./errors.ts";
import { BreakerImpl, normalizeBreaker } from "./internal/breaker.ts";
import { SharedGroup } from "./internal/shared.ts";
import { CircuitBreakerSchema } from "./schemas.ts";
import type { BreakerStore } from "./store.ts";
import type { TripPolicy, TripReason, WindowSnapshot } from "./trip.ts";

/** Where a breaker stands. `isolated`: opened by hand, stays open until `reset()`. */
export type BreakerState = "closed" | "open" | "halfOpen" | "isolated";

/** How long the breaker stays open: fixed ms, a function of the opening number (1, 2, ...), or an Effect Schedule. */
export type OpenDuration = number | ((opening: number) => number) | EffectSchedule;

/** Options of {@link circuitBreaker}. Validated once, when the breaker is built. */
export interface CircuitBreakerOptions {
  /** Name used in errors, events and metrics. Default `"breaker"`. */
  name?: string;
  /** When to open. Default `{ kind: "consecutive", threshold: 5 }`. */
  trip?: TripPolicy;
  /**
   * How long to stay open before admitting probes. A Schedule's n-th delay is used for the n-th opening in a
   * row (openings reset when the breaker closes). Default 30,000 ms.
   */
  openDuration?: OpenDuration;
  /** Cap on the open duration, Retry-After included. Default 3,600,000 ms (1 h). */
  maxOpenDuration?: number;
  /** A failure carrying a Retry-After hint longer than the open duration lengthens it. Default true. */
  honorRetryAfter?: boolean;
  /**
   * Half-open: `probes` calls admitted at once (default 1); `successThreshold` successes close it (default
   * `probes`); a probe slot held longer than `probeTimeout` ms (a hung probe) is taken back (default 60,000).
   */
  halfOpen?: { probes?: number; successThreshold?: number; probeTimeout?: number };
  /** Decides which failures count; `ignored` ones do not. Falls back to the built-in classifier. */
  classify?: Classifier;
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** State to resume from (a {@link BreakerSnapshot} from `snapshot()`, possibly of another process). */
  initialState?: BreakerSnapshot;
  /**
   * Shares the breaker's openings and half-open probes with every breaker of the same name on the store
   * (other processes, through `redisBreakerStore()` from `@tapline/plugin-retry/redis`). Default: none, the
   * state is this breaker's own, in memory. A closed breaker's check never asks the store. See {@link BreakerStore}.
   */
  store?: BreakerStore;
}

/** A state change, given to `onTransition` listeners. */
export interface BreakerTransition {
  readonly breaker: string;
  /** Key of a keyed breaker; `""` otherwise. */
  readonly key: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  /**
   * Why: the trip reason, `probeFailed`, `probesSucceeded`, `openElapsed`, `manual`, `restored`, `retryAfter`
   * (a 429 with a Retry-After hint paused a shared breaker) or `shared` (another process changed it, through
   * the `store`).
   */
  readonly reason:
    | TripReason
    | "probeFailed"
    | "probesSucceeded"
    | "openElapsed"
    | "manual"
    | "restored"
    | "retryAfter"
    | "shared";
  /** Epoch ms. */
  readonly time: number;
  /** When `to` is `open`: epoch ms from which probes are admitted. */
  readonly openUntil?: number;
  /** The failure that caused the transition, if one did. */
  readonly error?: unknown;
}

/** JSON state of a breaker, from `snapshot()`, for `initialState` or `restore()` (e.g. in a restarted worker). */
export interface BreakerSnapshot {
  readonly version: 1;
  readonly name: string;
  readonly state: BreakerState;
  /** Epoch ms the open state ends (for `open`). */
  readonly openUntil: number;
  /** Openings in a row since the last close. */
  readonly openings: number;
  readonly window: WindowSnapshot;
  /** Epoch ms of the snapshot. */
  readonly time: number;
}

/**
 * A circuit breaker, made by {@link circuitBreaker} (or `keyedBreakers().get(key)`). Stops calling a failing
 * dependency for a while, then lets `halfOpen.probes` trial calls through; closes after `successThreshold` of
 * them succeed. Timestamp-based: no timers, nothing to dispose.
 */
export interface CircuitBreaker {
  /** The breaker's name. */
  readonly name: string;
  /** Key within a keyed breaker group; `""` otherwise. */
  readonly key: string;
  /** The current state. An open breaker whose open time elapsed turns half-open on the next call. */
  readonly state: BreakerState;
  /** Epoch ms from which an open breaker admits probes (0 when closed). */
  readonly openUntil: number;
  /** Slow-call threshold in ms (Infinity when the trip policy has none). */
  readonly slowCallMs: number;
  /**
   * Runs `fn` through the breaker: rejects at once with a `BrokenCircuitError` when it is open; otherwise counts
   * the call's outcome (and its duration, for slow-call policies). A call that fails after `signal` aborted
   * was cancelled, not failed by the dependency: its permit is handed back uncounted.
   *
   * @example
   * const openai = circuitBreaker({ name: "openai", trip: { kind: "count", threshold: 0.5, size: 20, minimumCalls: 10 } });
   * const text = await openai.execute(() => complete(prompt, { signal }), signal);
   */
  execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T>;
  /**
   * Admits a call or throws a `BrokenCircuitError`; returns a permit to hand back with `success`, `failure` or
   * `release`. Prefer `execute()` unless you drive calls yourself.
   */
  acquire(): number;
  /** Records a successful call. `durationMs` matters only for slow-call policies. */
  success(permit: number, durationMs?: number): void;
  /** Records a failed call; its classification decides whether it counts (`ignored` ones are released). */
  failure(permit: number, error: unknown, durationMs?: number): void;
  /** Hands back a permit without counting the call (it was cancelled, or its outcome is ignored). */
  release(permit: number): void;
  /** Listens to state changes; returns a function that stops listening. Listener errors are swallowed. */
  onTransition(listener: (transition: BreakerTransition) => void): () => void;
  /** Listens to rejected calls; returns a function that stops listening. */
  onReject(listener: (error: BrokenCircuitError) => void): () => void;
  /** Opens the breaker until `reset()`: every call is rejected. */
  isolate(): void;
  /** Closes the breaker and clears its counters. */
  reset(): void;
  /** The breaker's state as JSON, to persist and hand to `restore()` or `initialState`. */
  snapshot(): BreakerSnapshot;
  /** Resumes from a snapshot. A half-open snapshot resumes as open-until-now (the next call probes). */
  restore(snapshot: BreakerSnapshot): void;
}

/**
 * Creates a circuit breaker. Options are validated once; bad ones throw a `RetryConfigError` listing each.
 *
 * @example
 * // exponentialBackoff from "@tapline/plugin-retry/effect"
 * const breaker = circuitBreaker({ name: "tts", trip: { kind: "time", threshold: 0.5, windowMs: 60_000, minimumCalls: 5 },
 *   openDuration: exponentialBackoff({ base: 5_000, maxDelay: 300_000, jitter: "none" }), halfOpen: { probes: 2 } });
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const result = checkOptions(CircuitBreakerSchema, options);
  if (result.issues) throw new RetryConfigError({ subject: "circuitBreaker()", issues: result.issues });
  const { store, initialState, ...rest } = result.value;
  const normalized = normalizeBreaker(rest);
  if (!store) return new BreakerImpl(normalized, "", initialState);
  // One key, "": another process's change of any other key of this name is not this breaker's.
  let breaker: BreakerImpl | undefined;
  const shared = new SharedGroup(store, normalized.name, {
    get: (key) => (key === "" ? breaker! : new BreakerImpl(normalized, key)),
    peek: (key) => (key === "" ? breaker : undefined),
    entries: () => [["", breaker!]],
  });
  breaker = new BreakerImpl(normalized, "", initialState, shared);
  return breaker;
}
