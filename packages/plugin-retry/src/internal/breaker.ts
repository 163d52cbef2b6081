import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Schedule from "effect/Schedule";
import type {
  BreakerSnapshot,
  BreakerState,
  BreakerTransition,
  CircuitBreaker,
  CircuitBreakerOptions,
  OpenDuration,
} from "../breaker.ts";
import { type Classifier, classifyError } from "../classify.ts";
import { type Clock, systemClock } from "../clock.ts";
import { BrokenCircuitError } from "../errors.ts";
import { retryAfterFromError } from "../retry-after.ts";
import { compileTrip, type TripWindow } from "../trip.ts";

// The breaker behind the public `CircuitBreaker` interface (src/breaker.ts): users get it from
// `circuitBreaker()` or `keyedBreakers().get(key)`, never construct it.

/** A token from `acquire()`; hand it back with the outcome. */
type Permit = number;

interface Normalized {
  readonly name: string;
  readonly window: () => TripWindow;
  readonly openDuration: OpenDuration;
  readonly maxOpen: number;
  readonly honorRetryAfter: boolean;
  readonly probes: number;
  readonly successThreshold: number;
  readonly probeTimeout: number;
  readonly classify: Classifier | undefined;
  readonly clock: Clock;
}

/** @internal Fills in the defaults of breaker options already checked by `CircuitBreakerSchema`. */
export function normalizeBreaker(options: CircuitBreakerOptions): Normalized {
  const probes = options.halfOpen?.probes ?? 1;
  return {
    name: options.name ?? "breaker",
    window: compileTrip(options.trip ?? { kind: "consecutive", threshold: 5 }),
    openDuration: options.openDuration ?? 30_000,
    maxOpen: options.maxOpenDuration ?? 3_600_000,
    honorRetryAfter: options.honorRetryAfter ?? true,
    probes,
    successThreshold: options.halfOpen?.successThreshold ?? probes,
    probeTimeout: options.halfOpen?.probeTimeout ?? 60_000,
    classify: options.classify,
    clock: options.clock ?? systemClock,
  };
}

/** The breaker behind {@link CircuitBreaker} (the public type; users never construct it). */
export class BreakerImpl implements CircuitBreaker {
  /** The breaker's name. */
  readonly name: string;
  /** Key within a keyed breaker group; `""` otherwise. */
  readonly key: string;
  #o: Normalized;
  #state: BreakerState = "closed";
  #gen = 0;
  #window: TripWindow;
  #openUntil = 0;
  #openings = 0;
  #probesInFlight = 0;
  #probeSuccesses = 0;
  #probeSince = 0;
  #scheduleStep:
    | ((now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>)
    | undefined;
  #listeners = new Set<(t: BreakerTransition) => void>();
  #rejectListeners = new Set<(e: BrokenCircuitError) => void>();
  /** Epoch ms of the last call (for idle eviction). */
  lastUsed = 0;

  /** Use {@link circuitBreaker}. */
  constructor(options: Normalized, key = "", initial?: BreakerSnapshot) {
    this.#o = options;
    this.name = options.name;
    this.key = key;
    this.#window = options.window();
    if (initial) this.restore(initial);
  }

  /** The current state. An open breaker whose open time elapsed turns half-open on the next call. */
  get state(): BreakerState {
    return this.#state;
  }

  /** Epoch ms from which an open breaker admits probes (0 when closed). */
  get openUntil(): number {
    return this.#state === "open" ? this.#openUntil : 0;
  }

  /** Slow-call threshold in ms (Infinity when the policy has none); callers time calls only when finite. */
  get slowCallMs(): number {
    return this.#window.slowMs;
  }

  /** Listens to state changes; returns a function that stops listening. Listener errors are swallowed. */
  onTransition(listener: (transition: BreakerTransition) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listens to rejected calls; returns a function that stops listening. */
  onReject(listener: (error: BrokenCircuitError) => void): () => void {
    this.#rejectListeners.add(listener);
    return () => this.#rejectListeners.delete(listener);
  }

  /**
   * Admits a call or throws a {@link BrokenCircuitError}. Hand the permit back with `success`, `failure` or
   * `release`. Prefer `execute()` unless you drive calls yourself.
   */
  acquire(): Permit {
    if (this.#state === "closed") return this.#gen;
    const now = this.#o.clock.now();
    this.lastUsed = now;
    if (this.#state === "open" && now >= this.#openUntil) this.#transition("halfOpen", "openElapsed", now);
    if (this.#state === "halfOpen") {
      // Hung probes (Resilience4j #903): after probeTimeout, fence them off and admit fresh ones.
      if (this.#probesInFlight >= this.#o.probes && now - this.#probeSince >= this.#o.probeTimeout) {
        this.#gen++;
        this.#probesInFlight = 0;
      }
      if (this.#probesInFlight < this.#o.probes) {
        if (this.#probesInFlight++ === 0) this.#probeSince = now;
        return this.#gen;
      }
    }
    const error = new BrokenCircuitError({
      breaker: this.key ? `${this.name}[${this.key}]` : this.name,
      state: this.#state as "open" | "halfOpen" | "isolated",
      retryAt: this.#state === "isolated" ? undefined : this.#state === "open" ? this.#openUntil : now,
    });
    for (const l of this.#rejectListeners) safe(l, error);
    throw error;
  }

  /** Records a successful call. `durationMs` matters only for slow-call policies. */
  success(permit: Permit, durationMs = 0): void {
    if (permit !== this.#gen) return; // admitted under an older state: stale outcome
    const slow = durationMs >= this.#window.slowMs;
    if (this.#state === "closed") {
      const w = this.#window;
      const reason = w.record(false, slow, w.needsClock ? this.#o.clock.now() : 0);
      if (reason) this.#open(reason, undefined);
      return;
    }
    if (this.#state !== "halfOpen") return;
    this.#probesInFlight--;
    if (slow) {
      this.#open("slowCalls", undefined);
      return;
    }
    if (++this.#probeSuccesses >= this.#o.successThreshold)
      this.#transition("closed", "probesSucceeded", this.#o.clock.now());
  }

  /** Records a failed call; its classification decides whether it counts (`ignored` ones are released). */
  failure(permit: Permit, error: unknown, durationMs = 0): void {
    const cls = this.#o.classify?.(error) ?? classifyError(error);
    if (cls === "ignored") {
      this.release(permit);
      return;
    }
    if (permit !== this.#gen) return;
    if (this.#state === "closed") {
      const reason = this.#window.record(true, durationMs >= this.#window.slowMs, this.#o.clock.now());
      if (reason) this.#open(reason, error);
      return;
    }
    if (this.#state === "halfOpen") {
      this.#probesInFlight--;
      this.#open("probeFailed", error);
    }
  }

  /** Hands back a permit without counting the call (it was cancelled, or its outcome is ignored). */
  release(permit: Permit): void {
    if (permit === this.#gen && this.#state === "halfOpen") this.#probesInFlight--;
  }

  // The one place that does a call's bookkeeping: standalone `execute()`, a retry policy's attempts and the
  // plugin's breaker stage all come here.
  async execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    const permit = this.acquire();
    // Only slow-call policies need the call's duration.
    const timed = this.#window.slowMs !== Number.POSITIVE_INFINITY;
    const t0 = timed ? performance.now() : 0;
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      if (signal?.aborted) this.release(permit);
      else this.failure(permit, error, timed ? performance.now() - t0 : 0);
      throw error;
    }
    this.success(permit, timed ? performance.now() - t0 : 0);
    return value;
  }

  /** Opens the breaker until `reset()`: every call is rejected. */
  isolate(): void {
    this.#transition("isolated", "manual", this.#o.clock.now());
  }

  /** Closes the breaker and clears its counters. */
  reset(): void {
    this.#transition("closed", "manual", this.#o.clock.now());
  }

  /** The breaker's state as JSON, to persist and hand to `restore()` or `initialState`. */
  snapshot(): BreakerSnapshot {
    return {
      version: 1,
      name: this.name,
      state: this.#state,
      openUntil: this.#openUntil,
      openings: this.#openings,
      window: this.#window.snapshot(),
      time: this.#o.clock.now(),
    };
  }

  /** Resumes from a snapshot. A half-open snapshot resumes as open-until-now (the next call probes). */
  restore(snapshot: BreakerSnapshot): void {
    const now = this.#o.clock.now();
    const from = this.#state;
    this.#gen++;
    this.#probesInFlight = 0;
    this.#probeSuccesses = 0;
    this.#openings = snapshot.openings;
    this.#window.restore(snapshot.window);
    this.#state = snapshot.state === "halfOpen" ? "open" : snapshot.state;
    this.#openUntil = snapshot.state === "halfOpen" ? now : snapshot.openUntil;
    if (from !== this.#state) this.#emit(from, this.#state, "restored", now, undefined);
  }

  #open(reason: BreakerTransition["reason"], error: unknown): void {
    const now = this.#o.clock.now();
    this.#openings++;
    let duration = this.#openDuration(this.#openings, now);
    if (this.#o.honorRetryAfter && error !== undefined) {
      const hint = retryAfterFromError(error, now);
      if (hint !== undefined && hint > duration) duration = hint;
    }
    this.#openUntil = now + Math.min(Math.max(0, duration), this.#o.maxOpen);
    this.#transition("open", reason, now, error);
  }

  #openDuration(opening: number, now: number): number {
    const od = this.#o.openDuration;
    if (typeof od === "number") return od;
    if (typeof od === "function") {
      const v = (od as (n: number) => number)(opening);
      return Number.isFinite(v) && v >= 0 ? v : this.#o.maxOpen;
    }
    // An Effect Schedule: step it once per opening (off the hot path; only when the breaker opens).
    if (opening === 1 || !this.#scheduleStep)
      this.#scheduleStep = Effect.runSync(
        Schedule.toStep(od as Schedule.Schedule<unknown, unknown>),
      ) as never;
    const exit = Effect.runSyncExit(this.#scheduleStep!(now, opening));
    return Exit.isSuccess(exit) ? Duration.toMillis(exit.value[1]) : this.#o.maxOpen;
  }

  #transition(to: BreakerState, reason: BreakerTransition["reason"], now: number, error?: unknown): void {
    const from = this.#state;
    this.#gen++;
    this.#state = to;
    this.#probesInFlight = 0;
    this.#probeSuccesses = 0;
    if (to === "closed") {
      this.#openings = 0;
      this.#openUntil = 0;
      this.#window.reset();
    }
    if (to === "isolated") this.#openUntil = Number.POSITIVE_INFINITY;
    if (from !== to || to === "open") this.#emit(from, to, reason, now, error);
  }

  #emit(
    from: BreakerState,
    to: BreakerState,
    reason: BreakerTransition["reason"],
    time: number,
    error: unknown,
  ): void {
    if (this.#listeners.size === 0) return;
    const t: BreakerTransition = {
      breaker: this.name,
      key: this.key,
      from,
      to,
      reason,
      time,
      ...(to === "open" && { openUntil: this.#openUntil }),
      ...(error !== undefined && { error }),
    };
    for (const l of this.#listeners) safe(l, t);
  }
}

function safe<T>(listener: (v: T) => void, value: T): void {
  try {
    listener(value);
  } catch {
    // A listener must not break the call it observes.
  }
}
