import * as Cause from "effect/Cause";
import * as Clock from "effect/Clock";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import { AttemptTimeoutError, type BrokenCircuitError, DeadlineExceededError } from "./errors.ts";
import { plan, type RetryState } from "./options.ts";
import { normalizedOf, type RetryPolicy } from "./retry.ts";

/**
 * The Effect-native entry point: retries an `Effect` with a policy's classification, backoff, Retry-After
 * handling, breaker, attempt timeout and deadline. Sleeps and timeouts use Effect's `Clock` (so `TestClock`
 * drives them) and interruption cancels at once. Only typed failures are classified and retried; defects and
 * interruptions pass through untouched.
 *
 * @example
 * import { withRetry } from "@tapline/plugin-retry/effect";
 * const program = callModel.pipe(withRetry(retryPolicy({ maxAttempts: 4 })));
 */
export function withRetry(policy: RetryPolicy) {
  const o = normalizedOf(policy, "withRetry()");
  return <A, E, R>(
    self: Effect.Effect<A, E, R>,
  ): Effect.Effect<A, E | BrokenCircuitError | AttemptTimeoutError | DeadlineExceededError, R> =>
    Effect.suspend(() => {
      const state: RetryState = { attempt: 0, deadline: o.deadline, previousDelay: 0, step: undefined };
      type Out = Effect.Effect<A, E | BrokenCircuitError | AttemptTimeoutError | DeadlineExceededError, R>;

      const once = (start: number, now: number): Out =>
        Effect.suspend(() => {
          state.attempt++;
          const attempt = state.attempt;
          const breaker = o.breaker;
          let permit = 0;
          if (breaker) {
            try {
              permit = breaker.acquire();
            } catch (error) {
              return Effect.fail(error as BrokenCircuitError);
            }
          }
          let limit = o.attemptTimeout;
          let byDeadline = false;
          if (o.deadline !== undefined) {
            const left = start + o.deadline - now;
            if (left <= 0) return Effect.fail(new DeadlineExceededError({ deadlineMs: o.deadline }));
            if (limit === undefined || left < limit) {
              limit = left;
              byDeadline = true;
            }
          }
          let run: Out = self;
          if (limit !== undefined) {
            const ms = limit;
            run = Effect.timeoutOrElse(self, {
              duration: Duration.millis(ms),
              orElse: () =>
                Effect.fail(
                  byDeadline
                    ? new DeadlineExceededError({ deadlineMs: o.deadline! })
                    : new AttemptTimeoutError({ timeoutMs: ms, attempt }),
                ),
            });
          }
          if (!breaker) return run;
          const t0 = performance.now();
          return Effect.onExit(run, (exit) =>
            Effect.sync(() => {
              if (Exit.isSuccess(exit)) breaker.success(permit, performance.now() - t0);
              else {
                const failure = Cause.findErrorOption(exit.cause);
                if (failure._tag === "Some") breaker.failure(permit, failure.value, performance.now() - t0);
                else if (Cause.hasInterruptsOnly(exit.cause)) breaker.release(permit);
                else breaker.failure(permit, Cause.squash(exit.cause), performance.now() - t0);
              }
            }),
          );
        });

      const loop = (start: number, now: number): Out =>
        Effect.flatMap(Effect.exit(once(start, now)), (exit): Out => {
          if (Exit.isSuccess(exit)) return Effect.succeed(exit.value);
          const failure = Cause.findErrorOption(exit.cause);
          if (failure._tag === "None") return Effect.failCause(exit.cause);
          const error = failure.value;
          return Effect.flatMap(Clock.currentTimeMillis, (t): Out => {
            const decision = plan(o, state, error, t, t - start);
            if (!decision.retry) {
              try {
                o.onGiveUp?.({
                  attempts: state.attempt,
                  reason: decision.reason,
                  error,
                  elapsedMs: t - start,
                });
              } catch {}
              return Effect.failCause(exit.cause);
            }
            try {
              o.onRetry?.({
                attempt: state.attempt,
                delayMs: decision.delay,
                error,
                classification: decision.classification,
                ...(decision.hint !== undefined && { retryAfterMs: decision.hint }),
                elapsedMs: t - start,
              });
            } catch {}
            return Effect.andThen(
              Effect.sleep(Duration.millis(decision.delay)),
              Effect.flatMap(Clock.currentTimeMillis, (t2) => loop(start, t2)),
            );
          });
        });

      return Effect.flatMap(Clock.currentTimeMillis, (start) => loop(start, start));
    });
}
