import { RetryConfigError } from "./errors.ts";
import { guarded } from "./internal/attempt.ts";
import {
  checkRetryOptions,
  type GiveUpEvent,
  type GiveUpReason,
  type NormalizedRetry,
  plan,
  type RetryOptions,
  type RetryScheduledEvent,
  type RetryState,
} from "./options.ts";

/** The function a policy runs: gets a fresh signal per attempt (linked to the caller's) and the attempt number. */
export type Attempt<T> = (signal: AbortSignal, attempt: number) => T | PromiseLike<T>;

/**
 * Per-execution observers and budget, for one policy shared by many runs (the plugin builds one policy per
 * step and gives each run its own report and its own deadline).
 */
export interface RunHooks {
  readonly onRetry?: ((event: RetryScheduledEvent) => void) | undefined;
  readonly onGiveUp?: ((event: GiveUpEvent) => void) | undefined;
  /** This execution's total budget in ms, instead of the policy's `deadline`. */
  readonly deadline?: number | undefined;
  /**
   * The caller owns cancellation (core aborts a step's signal, then gives it `graceMs` to settle): an attempt
   * with no time limit gets the caller's signal itself and is not raced against it, so the success path adds
   * no AbortController and no abort listener.
   */
  readonly callerOwnsSignal?: boolean;
}

/**
 * A retry policy, made by {@link retryPolicy}: options validated once, then `execute()` any number of times,
 * concurrently. Composition order is fixed: deadline ⊃ retry ⊃ breaker ⊃ attempt timeout ⊃ your function.
 */
export interface RetryPolicy {
  /**
   * Calls `fn` until it succeeds, the failure is not retryable, attempts or the deadline run out, or `signal`
   * aborts. Rejects with the last error, or with `signal.reason` on abort (at once, even mid-sleep; `fn` is
   * never called after an abort).
   *
   * @example
   * const policy = retryPolicy({ maxAttempts: 4, attemptTimeout: 10_000, deadline: 60_000 });
   * const res = await policy.execute((signal) => fetch(url, { signal }), controller.signal);
   */
  execute<T>(fn: Attempt<T>, signal?: AbortSignal): Promise<T>;
  wrap<A extends unknown[], T>(
    fn: (...args: [...A, AbortSignal]) => T | PromiseLike<T>,
  ): (...args: A) => Promise<T>;
}

/** The policy behind {@link RetryPolicy} (the public type; made by `retryPolicy()` and by the plugin). */
export class RetryPolicyImpl implements RetryPolicy {
  /** The normalised options (read by the Effect entry point and the plugin). */
  readonly normalized: NormalizedRetry;
  readonly #simple: boolean;

  /** Use {@link retryPolicy}. */
  constructor(normalized: NormalizedRetry) {
    this.normalized = normalized;
    this.#simple = normalized.attemptTimeout === undefined && normalized.deadline === undefined;
  }

  execute<T>(fn: Attempt<T>, signal?: AbortSignal): Promise<T> {
    return this.run(fn, signal, undefined);
  }

  /** `execute()` with per-execution observers and budget (see {@link RunHooks}): the plugin's entry. */
  run<T>(fn: Attempt<T>, signal: AbortSignal | undefined, hooks: RunHooks | undefined): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Success path: one AbortController, no clock read, no Effect runtime, no async layer of its own.
    if (this.#simple && signal === undefined && hooks?.deadline === undefined) {
      const breaker = this.normalized.breaker;
      if (breaker === undefined) return this.#plain(fn, hooks);
      return breaker
        .execute(() => fn(new AbortController().signal, 1))
        .then(undefined, (error: unknown) => this.#failed(fn, signal, error, -1, hooks));
    }
    // The plugin's path: the caller owns cancellation, so with no time limit the attempt gets its signal as is.
    if (this.#simple && hooks?.deadline === undefined && hooks?.callerOwnsSignal === true)
      return this.#owned(fn, signal!, hooks);
    return this.#timed(fn, signal, hooks);
  }

  async #owned<T>(fn: Attempt<T>, signal: AbortSignal, hooks: RunHooks): Promise<T> {
    const start = this.normalized.clock.now();
    const breaker = this.normalized.breaker;
    try {
      return await (breaker === undefined ? fn(signal, 1) : breaker.execute(() => fn(signal, 1), signal));
    } catch (error) {
      return this.#failed(fn, signal, error, start, hooks);
    }
  }

  async #plain<T>(fn: Attempt<T>, hooks: RunHooks | undefined): Promise<T> {
    try {
      return await fn(new AbortController().signal, 1);
    } catch (error) {
      return this.#failed(fn, undefined, error, -1, hooks);
    }
  }

  async #timed<T>(fn: Attempt<T>, signal: AbortSignal | undefined, hooks: RunHooks | undefined): Promise<T> {
    const start = this.normalized.clock.now();
    const deadline = hooks?.deadline ?? this.normalized.deadline;
    try {
      return await this.#once(fn, 1, signal, start, deadline, hooks?.callerOwnsSignal === true);
    } catch (error) {
      return this.#failed(fn, signal, error, start, hooks);
    }
  }

  wrap<A extends unknown[], T>(
    fn: (...args: [...A, AbortSignal]) => T | PromiseLike<T>,
  ): (...args: A) => Promise<T> {
    return (...args: A) => this.execute((signal) => fn(...args, signal));
  }

  /** The failure path: plans, sleeps and runs the next attempts. */
  async #failed<T>(
    fn: Attempt<T>,
    signal: AbortSignal | undefined,
    first: unknown,
    start: number,
    hooks: RunHooks | undefined,
  ): Promise<T> {
    const o = this.normalized;
    if (start < 0) start = o.clock.now(); // simple path (no deadline): the clock starts at the first failure
    const deadline = hooks?.deadline ?? o.deadline;
    const onRetry = hooks ? hooks.onRetry : o.onRetry;
    const onGiveUp = hooks ? hooks.onGiveUp : o.onGiveUp;
    const state: RetryState = { attempt: 1, deadline, previousDelay: 0, step: undefined };
    let error = first;
    for (;;) {
      if (signal?.aborted) this.#giveUp(state.attempt, "aborted", signal.reason, start, onGiveUp);
      const now = o.clock.now();
      const decision = plan(o, state, error, now, now - start);
      if (!decision.retry) this.#giveUp(state.attempt, decision.reason, error, start, onGiveUp);
      if (onRetry) {
        const event: RetryScheduledEvent = {
          attempt: state.attempt,
          delayMs: decision.delay,
          error,
          classification: decision.classification,
          ...(decision.hint !== undefined && { retryAfterMs: decision.hint }),
          elapsedMs: now - start,
        };
        try {
          onRetry(event);
        } catch {
          // observers never change the outcome
        }
      }
      try {
        await sleep(o, decision.delay, signal);
      } catch (reason) {
        this.#giveUp(state.attempt, "aborted", reason, start, onGiveUp);
      }
      state.attempt++;
      try {
        return await this.#once(fn, state.attempt, signal, start, deadline, hooks?.callerOwnsSignal === true);
      } catch (e) {
        error = e;
      }
    }
  }

  #giveUp(
    attempts: number,
    reason: GiveUpReason,
    error: unknown,
    start: number,
    onGiveUp: ((event: GiveUpEvent) => void) | undefined,
  ): never {
    if (onGiveUp) {
      const event: GiveUpEvent = { attempts, reason, error, elapsedMs: this.normalized.clock.now() - start };
      try {
        onGiveUp(event);
      } catch {
        // observers never change the outcome
      }
    }
    throw error;
  }

  /**
   * One attempt: the breaker's `execute()` (the path the plugin's breaker stage takes too) around the call
   * under its timeout, linked to the caller's signal.
   */
  #once<T>(
    fn: Attempt<T>,
    attempt: number,
    signal: AbortSignal | undefined,
    start: number,
    deadline: number | undefined,
    passSignal: boolean,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const o = this.normalized;
    const breaker = o.breaker;
    if (breaker === undefined) return guarded(o, fn, attempt, signal, start, deadline, passSignal);
    return breaker.execute(() => guarded(o, fn, attempt, signal, start, deadline, passSignal), signal);
  }
}

/** Sleeps `ms` on the policy's clock; rejects at once with the signal's reason when it aborts. */
function sleep(o: NormalizedRetry, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      o.clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = o.clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Creates a retry policy. Options are validated once; bad ones throw a `RetryConfigError` listing each.
 *
 * @example
 * const openai = circuitBreaker({ name: "openai" });
 * const policy = retryPolicy({ maxAttempts: 5, backoff: { kind: "exponential", base: 500, maxDelay: 20_000 }, breaker: openai });
 * const text = await policy.execute((signal, attempt) => complete(prompt, { signal }));
 */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const checked = checkRetryOptions(options);
  if (checked.issues) throw new RetryConfigError({ subject: "retryPolicy()", issues: checked.issues });
  return new RetryPolicyImpl(checked.value);
}

/** The normalised options of a policy made by {@link retryPolicy} (for `withRetry`). */
export function normalizedOf(policy: RetryPolicy, subject: string): NormalizedRetry {
  if (policy instanceof RetryPolicyImpl) return policy.normalized;
  throw new RetryConfigError({
    subject,
    issues: [{ path: "policy", message: "must be a policy made by retryPolicy()", value: policy }],
  });
}
