// The main entry: ten values. `retry` (the plugin), `retryPolicy`, `circuitBreaker` and `keyedBreakers` (the
// standalone policies), `memoryBreakerStore` (breaker state shared in one process; Redis: the `/redis` subpath), `nonRetryable`, `classifyError` and `httpStatusOf` (for your own classifiers),
// `retryAfterFromError` (a failure's server hint) and `getRetryHooks`. Everything else is a type: the classes
// users never `new` (factories make them) and the errors (check them with core's `isTaplineError(e, code)`).
// `@tapline/plugin-retry/effect` has the Effect API; `@tapline/plugin-retry/testing` the seeded random source.
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
  type CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreaker,
  type OpenDuration,
} from "./breaker.ts";
export {
  type Classification,
  type Classifier,
  classifyError,
  httpStatusOf,
  nonRetryable,
} from "./classify.ts";
export type { Clock, RandomSource } from "./clock.ts";
export type { EffectSchedule } from "./effect-schedule.ts";
export type {
  AttemptTimeoutError,
  BrokenCircuitError,
  ConfigIssue,
  DeadlineExceededError,
  RejectingState,
  RetryConfigError,
  RetryErrorCode,
} from "./errors.ts";
export { type KeyedBreakerOptions, type KeyedBreakers, keyedBreakers } from "./keyed.ts";
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
export { type Attempt, type RetryPolicy, retryPolicy } from "./retry.ts";
export { retryAfterFromError } from "./retry-after.ts";
export {
  type BreakerStore,
  type BreakerStoreChannel,
  type BreakerStoreListener,
  memoryBreakerStore,
  type ProbeClaim,
  type SharedBreakerState,
} from "./store.ts";
export type { SlowCallOptions, TripPolicy, TripReason, WindowSnapshot } from "./trip.ts";
