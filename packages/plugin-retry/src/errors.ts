import { createError, type OptionIssue } from "@tapline/core";
import { formatOptionIssues } from "@tapline/core/kit";

/**
 * This package's errors, each made by core's `createError` from one line: a stable code, a name, a message
 * from its fields. Check them with `isTaplineError(e, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")` (brand and code,
 * so it works across two copies of the package, where `instanceof` does not); the guard narrows to the
 * error's fields through `TaplineErrorMap`.
 */

/** Every error code this package throws. */
export type RetryErrorCode =
  | "TAPLINE_ERR_RETRY_CONFIG"
  | "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT"
  | "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT"
  | "TAPLINE_ERR_RETRY_DEADLINE";

/** One bad option: its path, what is wrong with it, the value given, what was expected, the closest match (core's `OptionIssue`). */
export type ConfigIssue = OptionIssue;

/**
 * Options given to `retryPolicy()`, `circuitBreaker()`, `keyedBreakers()` or a backoff constructor are
 * invalid. Thrown once, when the policy is built; `issues` lists every bad option, not only the first.
 */
export const RetryConfigError = createError(
  "TAPLINE_ERR_RETRY_CONFIG",
  "RetryConfigError",
  (p: {
    /** What was configured: `retryPolicy()`, `circuitBreaker()`, `keyedBreakers()`, `exponentialBackoff()`... */
    subject: string;
    issues: readonly ConfigIssue[];
  }) => `${p.subject}: invalid options:\n${formatOptionIssues(p.issues)}`,
  "fix each listed option (an unknown key names the closest known one)",
);
export type RetryConfigError = InstanceType<typeof RetryConfigError>;

/** State a breaker was in when it rejected a call. */
export type RejectingState = "open" | "halfOpen" | "isolated";

/**
 * A circuit breaker rejected the call without running it. `retryAt` is the epoch-ms time from which the
 * breaker admits calls again (`undefined` while it is isolated: it waits for a manual `reset()`).
 */
export const BrokenCircuitError = createError(
  "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT",
  "BrokenCircuitError",
  (p: {
    /** The breaker's name (with its key, `name[key]`, for keyed breakers). */
    breaker: string;
    state: RejectingState;
    /** Epoch ms from which a call may be admitted again; undefined while isolated. */
    retryAt: number | undefined;
  }) =>
    `circuit breaker "${p.breaker}" rejected the call: ${
      p.state === "isolated"
        ? "it was isolated by hand; call reset() to close it"
        : p.state === "halfOpen"
          ? "it is half-open and its probe calls are already in flight; try again shortly"
          : `it is open until ${new Date(p.retryAt ?? 0).toISOString()}`
    }`,
  "wait until retryAt (the dependency is failing), or reset() an isolated breaker",
);
export type BrokenCircuitError = InstanceType<typeof BrokenCircuitError>;

/** One attempt ran past its `attemptTimeout`; its signal was aborted with this error. Retryable. */
export const AttemptTimeoutError = createError(
  "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT",
  "AttemptTimeoutError",
  (p: { timeoutMs: number; attempt: number }) =>
    `attempt ${p.attempt} timed out after ${p.timeoutMs} ms (raise "attemptTimeout" if calls need longer)`,
  "raise attemptTimeout if calls need longer; the policy retries it",
);
export type AttemptTimeoutError = InstanceType<typeof AttemptTimeoutError>;

/**
 * The total time budget (`deadline`) ran out during an attempt. When the budget only rules out the *next*
 * attempt, the policy rethrows the last error instead (its `cause` chain stays intact).
 */
export const DeadlineExceededError = createError(
  "TAPLINE_ERR_RETRY_DEADLINE",
  "DeadlineExceededError",
  (p: { deadlineMs: number }) => `the retry budget of ${p.deadlineMs} ms ran out`,
  "raise deadline (or the step's timeout), or lower maxAttempts and the backoff",
);
export type DeadlineExceededError = InstanceType<typeof DeadlineExceededError>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_RETRY_CONFIG: RetryConfigError;
    TAPLINE_ERR_RETRY_BROKEN_CIRCUIT: BrokenCircuitError;
    TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT: AttemptTimeoutError;
    TAPLINE_ERR_RETRY_DEADLINE: DeadlineExceededError;
  }
}
