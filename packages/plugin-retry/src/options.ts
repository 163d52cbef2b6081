import { isTaplineError } from "@tapline/core";
import { checkOptions } from "@tapline/core/kit";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Schedule from "effect/Schedule";
import {
  type BackoffOptions,
  builtinOf,
  type CompiledBackoff,
  compileBackoff,
  nextDelay,
} from "./backoff.ts";
import type { CircuitBreaker } from "./breaker.ts";
import { type Classification, type Classifier, classifyError } from "./classify.ts";
import { type Clock, type RandomSource, systemClock } from "./clock.ts";
import type { EffectSchedule } from "./effect-schedule.ts";
import type { ConfigIssue } from "./errors.ts";
import { retryAfterFromError } from "./retry-after.ts";
import { RetryOptionsSchema } from "./schemas.ts";

/** Why a policy stopped retrying. */
export type GiveUpReason =
  | "attempts"
  | "nonRetryable"
  | "ignored"
  | "deadline"
  | "aborted"
  | "schedule"
  | "brokenCircuit";

/** Given to `onRetry` (and the plugin's `retryScheduled` hook) before each backoff sleep. */
export interface RetryScheduledEvent {
  /** The attempt that failed (from 1). */
  readonly attempt: number;
  /** The sleep before the next attempt, in ms. */
  readonly delayMs: number;
  readonly error: unknown;
  readonly classification: Classification;
  /** The server's hint in ms, when one was honoured. */
  readonly retryAfterMs?: number;
  /** Time since `execute()` started, in ms. */
  readonly elapsedMs: number;
}

/** Given to `onGiveUp` (and the plugin's `gaveUp` hook) when a policy stops and rejects. */
export interface GiveUpEvent {
  /** Attempts made. */
  readonly attempts: number;
  readonly reason: GiveUpReason;
  /** What `execute()` rejects with. */
  readonly error: unknown;
  readonly elapsedMs: number;
}

/** Options of {@link retryPolicy}. Validated and normalised once, when the policy is built. */
export interface RetryOptions {
  /** Total calls, the first included (3 = 1 call + 2 retries). Integer ≥ 1. Default 3. */
  maxAttempts?: number;
  /**
   * Delays between attempts: a built-in backoff as data, or any Effect `Schedule` (its input is the error; when
   * it ends, the policy gives up). Default `{ kind: "exponential", base: 200, factor: 2, maxDelay: 30_000, jitter: "decorrelated" }`.
   */
  backoff?: BackoffOptions | EffectSchedule;
  /** Your classifier, asked first; return `undefined` to fall back to the built-in one. */
  classify?: Classifier;
  /** A veto on retryable failures: return false to give up on this one (as non-retryable). */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Per-attempt time limit in ms; the attempt's signal aborts with an `AttemptTimeoutError` (retryable). */
  attemptTimeout?: number;
  /** Total budget in ms across attempts and sleeps: no sleep starts that would end past it. */
  deadline?: number;
  /** Honour Retry-After / retry-after-ms / rate-limit reset hints. Default true. */
  honorRetryAfter?: boolean;
  /** Cap on an honoured hint, ms. Default the backoff's `maxDelay` (30,000 for Schedules). */
  maxRetryAfter?: number;
  /** A breaker every attempt goes through (retry outside, breaker inside). */
  breaker?: CircuitBreaker;
  /** Time source (inject a fake one in tests). */
  clock?: Clock;
  /** Random source for jitter (inject `seededRandom(n)` in tests). Default `Math.random`. */
  random?: RandomSource;
  /** Called before each backoff sleep; errors are swallowed. */
  onRetry?: (event: RetryScheduledEvent) => void;
  /** Called when the policy gives up; errors are swallowed. */
  onGiveUp?: (event: GiveUpEvent) => void;
}

/** @internal */
export interface NormalizedRetry {
  readonly maxAttempts: number;
  readonly backoff: CompiledBackoff | undefined;
  readonly schedule: EffectSchedule | undefined;
  readonly classify: Classifier | undefined;
  readonly shouldRetry: ((error: unknown, attempt: number) => boolean) | undefined;
  readonly attemptTimeout: number | undefined;
  readonly deadline: number | undefined;
  readonly honorRetryAfter: boolean;
  readonly maxRetryAfter: number;
  readonly breaker: CircuitBreaker | undefined;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly onRetry: ((event: RetryScheduledEvent) => void) | undefined;
  readonly onGiveUp: ((event: GiveUpEvent) => void) | undefined;
}

const DEFAULT_BACKOFF: BackoffOptions = { kind: "exponential" };

/** @internal Validates retry options once (`RetryOptionsSchema`), or returns core's explained issues. */
export function checkRetryOptions(
  options: unknown,
): { value: NormalizedRetry; issues?: undefined } | { value?: undefined; issues: readonly ConfigIssue[] } {
  const result = checkOptions(RetryOptionsSchema, options ?? {});
  return result.issues ? { issues: result.issues } : { value: normalizeRetry(result.value) };
}

/** @internal Fills in the defaults of retry options already checked by `RetryOptionsSchema`. */
export function normalizeRetry(options: RetryOptions): NormalizedRetry {
  let backoff: CompiledBackoff | undefined;
  let schedule: EffectSchedule | undefined;
  const b = options.backoff ?? DEFAULT_BACKOFF;
  if (Schedule.isSchedule(b)) {
    backoff = builtinOf(b);
    if (!backoff) schedule = b;
  } else backoff = compileBackoff(b as BackoffOptions);
  return {
    maxAttempts: options.maxAttempts ?? 3,
    backoff,
    schedule,
    classify: options.classify,
    shouldRetry: options.shouldRetry,
    attemptTimeout: options.attemptTimeout,
    deadline: options.deadline,
    honorRetryAfter: options.honorRetryAfter ?? true,
    maxRetryAfter: options.maxRetryAfter ?? backoff?.maxDelay ?? 30_000,
    breaker: options.breaker,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    onRetry: options.onRetry,
    onGiveUp: options.onGiveUp,
  };
}

/** @internal Per-execution state of the backoff. */
export interface RetryState {
  attempt: number;
  /** This execution's total budget, ms (the policy's, or a per-run one the plugin gives). */
  readonly deadline: number | undefined;
  previousDelay: number;
  /** A user Schedule's step function, made on the first failure (typed `unknown` so no effect type is declared). */
  step: unknown;
}

type ScheduleStep = (now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>;

/** @internal The decision after a failed attempt. */
export type Plan =
  | {
      readonly retry: true;
      readonly delay: number;
      readonly classification: Classification;
      readonly hint: number | undefined;
    }
  | { readonly retry: false; readonly reason: GiveUpReason; readonly classification: Classification };

/** @internal Classifies a failure with the user's classifier first. */
export function classifyWith(o: NormalizedRetry, error: unknown, attempt: number): Classification {
  let cls = o.classify?.(error) ?? classifyError(error);
  if (cls === "retryable" && o.shouldRetry && !o.shouldRetry(error, attempt)) cls = "nonRetryable";
  return cls;
}

/**
 * @internal
 * Decides what follows a failed attempt (shared by the Promise and the Effect engines). `elapsed` is the time
 * since the start, in ms. Only the failure path gets here; a user Schedule enters the Effect runtime here.
 */
export function plan(
  o: NormalizedRetry,
  state: RetryState,
  error: unknown,
  now: number,
  elapsed: number,
): Plan {
  const classification = classifyWith(o, error, state.attempt);
  if (classification !== "retryable") {
    return { retry: false, reason: isBroken(error) ? "brokenCircuit" : classification, classification };
  }
  if (state.attempt >= o.maxAttempts) return { retry: false, reason: "attempts", classification };
  let delay: number;
  if (o.backoff) delay = nextDelay(o.backoff, state.attempt, state.previousDelay, o.random);
  else {
    state.step ??= Effect.runSync(Schedule.toStep(o.schedule as Schedule.Schedule<unknown, unknown>));
    const exit = Effect.runSyncExit((state.step as ScheduleStep)(now, error));
    if (Exit.isFailure(exit)) return { retry: false, reason: "schedule", classification };
    delay = Duration.toMillis(exit.value[1]);
    if (!(delay >= 0 && delay !== Number.POSITIVE_INFINITY)) delay = 0;
  }
  const hint = o.honorRetryAfter ? retryAfterFromError(error, now) : undefined;
  if (hint !== undefined) delay = Math.min(hint, o.maxRetryAfter);
  if (state.deadline !== undefined && elapsed + delay >= state.deadline)
    return { retry: false, reason: "deadline", classification };
  state.previousDelay = delay;
  return { retry: true, delay, classification, hint };
}

const isBroken = (e: unknown) => isTaplineError(e, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT");
