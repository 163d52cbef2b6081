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
import { type Classifier, classifyError, httpStatusOf } from "../classify.ts";
import { type Clock, systemClock } from "../clock.ts";
import { BrokenCircuitError } from "../errors.ts";
import { retryAfterFromError } from "../retry-after.ts";
import type { ProbeClaim, SharedBreakerState } from "../store.ts";
import { compileTrip, type TripWindow } from "../trip.ts";
import type { SharedGroup } from "./shared.ts";

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
  /** The group's link to a shared store, when the breaker has one. */
  #shared: SharedGroup | undefined;
  /** Id of the current opening (shared with the store). */
  #episode = "";
  /** True while applying another process's change (not pushed back). */
  #remote = false;
  #rejectListeners = new Set<(e: BrokenCircuitError) => void>();
  /** Epoch ms of the last call (for idle eviction). */
  lastUsed = 0;

  /** Use {@link circuitBreaker}. */
  constructor(options: Normalized, key = "", initial?: BreakerSnapshot, shared?: SharedGroup) {
    this.#o = options;
    this.#shared = shared;
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
    throw this.#reject(now);
  }

  #reject(now: number): BrokenCircuitError {
    const error = new BrokenCircuitError({
      breaker: this.key ? `${this.name}[${this.key}]` : this.name,
      state: this.#state as "open" | "halfOpen" | "isolated",
      retryAt: this.#state === "isolated" ? undefined : this.#state === "open" ? this.#openUntil : now,
    });
    for (const l of this.#rejectListeners) safe(l, error);
    return error;
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
      const now = this.#o.clock.now();
      // Shared breakers: a 429 with a Retry-After hint pauses the key on every process until the hinted time.
      if (this.#shared !== undefined && this.#o.honorRetryAfter && httpStatusOf(error) === 429) {
        const hint = retryAfterFromError(error, now);
        if (hint !== undefined && hint > 0) {
          this.#openings++;
          this.#openUntil = now + Math.min(hint, this.#o.maxOpen);
          this.#transition("open", "retryAfter", now, error);
          return;
        }
      }
      const reason = this.#window.record(true, durationMs >= this.#window.slowMs, now);
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
  execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    // A closed breaker never asks the store: other processes' openings are pushed to this one.
    if (this.#shared !== undefined && this.#state !== "closed" && this.#shared.available)
      return this.#sharedExecute(fn, signal);
    return this.#localExecute(fn, signal);
  }

  async #localExecute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
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

  // Not closed, with a store: still open locally rejects at once; once the open time ended, the store hands out
  // the `probes` slots across every process.
  async #sharedExecute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    const shared = this.#shared!;
    const now = this.#o.clock.now();
    this.lastUsed = now;
    if (this.#state === "isolated" || (this.#state === "open" && now < this.#openUntil))
      throw this.#reject(now);
    let claim: ProbeClaim;
    try {
      claim = await shared.channel.claimProbe(this.key, now, this.#o.probes, this.#o.probeTimeout);
    } catch (error) {
      shared.failed(error);
      return this.#localExecute(fn, signal);
    }
    if (claim.kind === "closed") return this.#localExecute(fn, signal); // the store lost it: probe locally
    // Another process's change may have arrived while we waited for the store: it wins over this claim.
    const later = this.#o.clock.now();
    const giveBack = () => {
      if (claim.kind === "probe")
        shared.channel.probeDone(this.key, claim.episode, "release", this.#o.successThreshold).catch(noop);
    };
    const state = this.#state as BreakerState; // TypeScript does not see the await change it
    if (state === "closed") {
      giveBack();
      return this.#localExecute(fn, signal);
    }
    if (state === "isolated" || (state === "open" && later < this.#openUntil)) {
      giveBack();
      throw this.#reject(later);
    }
    if (claim.kind === "open") {
      this.applyShared(claim.state);
      throw this.#reject(now);
    }
    if (this.#state === "open") this.#transition("halfOpen", "openElapsed", now);
    if (claim.kind === "busy") throw this.#reject(now);
    const permit = this.#gen;
    const episode = claim.episode;
    this.#probesInFlight++;
    const timed = this.#window.slowMs !== Number.POSITIVE_INFINITY;
    const t0 = timed ? performance.now() : 0;
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      const ignored = signal?.aborted || (this.#o.classify?.(error) ?? classifyError(error)) === "ignored";
      if (permit !== this.#gen)
        giveBack(); // stale (the state moved on): just hand the slot back
      else if (ignored) {
        this.release(permit);
        shared.channel.probeDone(this.key, episode, "release", this.#o.successThreshold).catch(noop);
      } else this.failure(permit, error, timed ? performance.now() - t0 : 0);
      throw error;
    }
    if (permit !== this.#gen || this.#state !== "halfOpen") return value; // stale: state moved on meanwhile
    this.#probesInFlight--;
    if (timed && performance.now() - t0 >= this.#window.slowMs) {
      this.#open("slowCalls", undefined);
      return value;
    }
    let closed: boolean;
    try {
      closed = await shared.channel.probeDone(this.key, episode, "success", this.#o.successThreshold);
    } catch (error) {
      shared.failed(error);
      closed = ++this.#probeSuccesses >= this.#o.successThreshold;
    }
    if (closed && permit === this.#gen) this.#transition("closed", "probesSucceeded", this.#o.clock.now());
    return value;
  }

  /**
   * @internal Applies another process's change (from the store): its opening, or `undefined` when it closed.
   * Not pushed back.
   */
  applyShared(s: SharedBreakerState | undefined): void {
    const now = this.#o.clock.now();
    this.#remote = true;
    try {
      if (s === undefined) {
        if (this.#state !== "closed") this.#transition("closed", "shared", now);
        return;
      }
      if (s.episode === this.#episode && (this.#state === s.state || this.#state === "halfOpen")) return;
      this.#episode = s.episode;
      this.#openings = s.openings;
      if (s.state === "isolated") this.#transition("isolated", "shared", now);
      else {
        this.#openUntil = s.openUntil;
        this.#transition("open", "shared", now);
      }
    } finally {
      this.#remote = false;
    }
  }

  /** @internal This breaker's opening as the store shares it (undefined when closed or its open time ended). */
  sharedView(): SharedBreakerState | undefined {
    if (this.#state === "isolated")
      return { state: "isolated", openUntil: 0, openings: this.#openings, episode: this.#episode };
    if (this.#state === "open" && this.#openUntil > this.#o.clock.now())
      return { state: "open", openUntil: this.#openUntil, openings: this.#openings, episode: this.#episode };
    return undefined;
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
    if (this.#shared !== undefined && !this.#remote) this.#share(to, reason);
    if (from !== to || to === "open") this.#emit(from, to, reason, now, error);
  }

  // Local openings and isolations are shared with every process; so is a manual close. A close by probes was
  // decided by the store itself (it counted every process's probe successes).
  #share(to: BreakerState, reason: BreakerTransition["reason"]): void {
    if (to === "open" || to === "isolated") {
      this.#episode = newEpisode();
      this.#shared!.push(this.key, {
        state: to,
        openUntil: to === "open" ? this.#openUntil : 0,
        openings: this.#openings,
        episode: this.#episode,
      });
    } else if (to === "closed" && reason === "manual") this.#shared!.push(this.key, undefined);
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

let episodes = 0;
const origin = Math.random().toString(36).slice(2, 10);
/** A process-unique id per opening. */
function newEpisode(): string {
  return `${origin}.${(++episodes).toString(36)}`;
}

function noop(): void {}

function safe<T>(listener: (v: T) => void, value: T): void {
  try {
    listener(value);
  } catch {
    // A listener must not break the call it observes.
  }
}
