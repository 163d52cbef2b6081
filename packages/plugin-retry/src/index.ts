export type {
  BackoffOptions,
  ConstantBackoffOptions,
  ExponentialBackoffOptions,
  JitterKind,
  LinearBackoffOptions,
} from "./backoff.ts";
export {
  type BreakerSnapshot,
  type BreakerState,
  type BreakerTransition,
  CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreaker,
  type OpenDuration,
} from "./breaker.ts";
export {
  type Classification,
  type Classifier,
  classifyError,
  httpStatusOf,
  isFetchNetworkError,
  isNonRetryable,
  nonRetryable,
} from "./classify.ts";
export { type Clock, type RandomSource, seededRandom, systemClock } from "./clock.ts";
export type { EffectSchedule } from "./effect-schedule.ts";
export {
  AttemptTimeoutError,
  BrokenCircuitError,
  type ConfigIssue,
  DeadlineExceededError,
  isAttemptTimeoutError,
  isBrokenCircuitError,
  isDeadlineExceededError,
  isRetryConfigError,
  type RejectingState,
  RetryConfigError,
  type RetryErrorCode,
} from "./errors.ts";
export { type KeyedBreakerOptions, KeyedBreakers, keyedBreakers } from "./keyed.ts";
export type { GiveUpEvent, GiveUpReason, RetryOptions, RetryScheduledEvent } from "./options.ts";
export {
  type GaveUpHookEvent,
  getRetryHooks,
  type RetryAttemptRecord,
  type RetryHooks,
  type RetryPluginOptions,
  type RetryReport,
  type RetryScheduledHookEvent,
  type RetryStepOptions,
  retry,
} from "./plugin.ts";
export { type Attempt, RetryPolicy, retryPolicy } from "./retry.ts";
export { parseDurationHint, parseRetryAfter, retryAfterFromError } from "./retry-after.ts";
export type { SlowCallOptions, TripPolicy, TripReason, WindowSnapshot } from "./trip.ts";
