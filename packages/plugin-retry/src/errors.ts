import type { OptionIssue } from "@tapline/core";
import { formatOptionIssues, TaplineError } from "@tapline/core/kit";

/**
 * Every error code this package throws. Guards check a brand property, not `instanceof`, so they work across
 * two copies of the package in one install.
 */
export type RetryErrorCode =
  | "TAPLINE_ERR_RETRY_CONFIG"
  | "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT"
  | "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT"
  | "TAPLINE_ERR_RETRY_DEADLINE";

/** One bad option: its path, what is wrong with it, the value given, what was expected, the closest match (core's `OptionIssue`). */
export type ConfigIssue = OptionIssue;

/**
 * Options given to `retryPolicy()`, `circuitBreaker()`, `keyedBreakers()` or the `retry()` plugin are invalid.
 * Thrown once, when the policy is built; `issues` lists every bad option, not only the first.
 */
export class RetryConfigError extends TaplineError {
  readonly isRetryConfigError = true;
  readonly issues: readonly ConfigIssue[];
  /** What was configured: `retryPolicy()`, `circuitBreaker()`, `keyedBreakers()`, `exponentialBackoff()`... */
  readonly subject: string;
  constructor(what: string, issues: readonly ConfigIssue[]) {
    super("TAPLINE_ERR_RETRY_CONFIG", `${what}(): invalid options:\n${formatOptionIssues(issues)}`);
    this.subject = `${what}()`;
    this.name = "RetryConfigError";
    this.issues = issues;
  }
}

/** True for a {@link RetryConfigError}, whichever copy of the package made it. */
export const isRetryConfigError = (e: unknown): e is RetryConfigError =>
  !!e && e instanceof Error && "isRetryConfigError" in e;

/** State a breaker was in when it rejected a call. */
export type RejectingState = "open" | "halfOpen" | "isolated";

/**
 * A circuit breaker rejected the call without running it. `retryAt` is the epoch-ms time from which the
 * breaker admits calls again (`undefined` while it is isolated: it waits for a manual `reset()`).
 */
export class BrokenCircuitError extends TaplineError {
  readonly isBrokenCircuitError = true;
  /** The breaker's name (with its key, `name[key]`, for keyed breakers). */
  readonly breaker: string;
  readonly state: RejectingState;
  /** Epoch ms from which a call may be admitted again; undefined while isolated. */
  readonly retryAt: number | undefined;
  constructor(breaker: string, state: RejectingState, retryAt: number | undefined) {
    const when =
      state === "isolated"
        ? "it was isolated by hand; call reset() to close it"
        : state === "halfOpen"
          ? "it is half-open and its probe calls are already in flight; try again shortly"
          : `it is open until ${new Date(retryAt ?? 0).toISOString()}`;
    super("TAPLINE_ERR_RETRY_BROKEN_CIRCUIT", `circuit breaker "${breaker}" rejected the call: ${when}`);
    this.name = "BrokenCircuitError";
    this.breaker = breaker;
    this.state = state;
    this.retryAt = retryAt;
  }
}

/** True for a {@link BrokenCircuitError}, whichever copy of the package made it. */
export const isBrokenCircuitError = (e: unknown): e is BrokenCircuitError =>
  !!e && e instanceof Error && "isBrokenCircuitError" in e;

/** One attempt ran past its `attemptTimeout`; its signal was aborted with this error. Retryable. */
export class AttemptTimeoutError extends TaplineError {
  readonly isAttemptTimeoutError = true;
  readonly timeoutMs: number;
  readonly attempt: number;
  constructor(timeoutMs: number, attempt: number) {
    super(
      "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT",
      `attempt ${attempt} timed out after ${timeoutMs} ms (raise "attemptTimeout" if calls need longer)`,
    );
    this.name = "AttemptTimeoutError";
    this.timeoutMs = timeoutMs;
    this.attempt = attempt;
  }
}

/** True for an {@link AttemptTimeoutError}, whichever copy of the package made it. */
export const isAttemptTimeoutError = (e: unknown): e is AttemptTimeoutError =>
  !!e && e instanceof Error && "isAttemptTimeoutError" in e;

/**
 * The total time budget (`deadline`) ran out during an attempt. When the budget only rules out the *next*
 * attempt, the policy rethrows the last error instead (its `cause` chain stays intact).
 */
export class DeadlineExceededError extends TaplineError {
  readonly isDeadlineExceededError = true;
  readonly deadlineMs: number;
  constructor(deadlineMs: number, cause?: unknown) {
    super("TAPLINE_ERR_RETRY_DEADLINE", `the retry budget of ${deadlineMs} ms ran out`, { cause });
    this.name = "DeadlineExceededError";
    this.deadlineMs = deadlineMs;
  }
}

/** True for a {@link DeadlineExceededError}, whichever copy of the package made it. */
export const isDeadlineExceededError = (e: unknown): e is DeadlineExceededError =>
  !!e && e instanceof Error && "isDeadlineExceededError" in e;
