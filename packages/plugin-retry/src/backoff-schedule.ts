import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import {
  BACKOFF,
  type CompiledBackoff,
  type ConstantBackoffOptions,
  type ExponentialBackoffOptions,
  type LinearBackoffOptions,
  nextDelay,
  validateBackoff,
} from "./backoff.ts";
import type { RandomSource } from "./clock.ts";

/**
 * An Effect `Schedule` built from a built-in backoff. It is a real Schedule (compose it with Effect's
 * combinators, use it with `Effect.retry`), and retry policies recognise it and compute its delays without
 * entering the Effect runtime.
 */
// Its brand (the compiled backoff under a `Symbol.for` key) is set at runtime only, so the published types
// never declare the package's internals.
export type BackoffSchedule = Schedule.Schedule<Duration.Duration, unknown>;

function toSchedule(compiled: CompiledBackoff, random: RandomSource): BackoffSchedule {
  const schedule = Schedule.fromStepWithMetadata(
    Effect.sync(() => {
      let previous = 0;
      return (meta: Schedule.InputMetadata<unknown>) => {
        previous = nextDelay(compiled, meta.attempt, previous, random);
        const d = Duration.millis(previous);
        return Effect.succeed([d, d] as [Duration.Duration, Duration.Duration]);
      };
    }),
  );
  return Object.assign(schedule, { [BACKOFF]: compiled });
}

/**
 * Exponential backoff as an Effect `Schedule` (never ends: bound it with `maxAttempts` or `Schedule.recurs`).
 *
 * @example
 * import { exponentialBackoff } from "@tapline/plugin-retry/effect";
 * retryPolicy({ backoff: exponentialBackoff({ base: 100, maxDelay: 5_000, jitter: "full" }) })
 * Effect.retry(effect, exponentialBackoff({ base: 100 }).pipe(Schedule.upTo({ times: 3 })))
 */
export function exponentialBackoff(
  options: Omit<ExponentialBackoffOptions, "kind"> & { random?: RandomSource } = {},
): BackoffSchedule {
  const { random, ...rest } = options;
  const v = validateBackoff({ kind: "exponential", ...rest }, random, "exponentialBackoff");
  return toSchedule(v.compiled, v.random);
}

/** Linear backoff as an Effect `Schedule`: `base + increment × (attempt-1)`, capped. */
export function linearBackoff(
  options: Omit<LinearBackoffOptions, "kind"> & { random?: RandomSource } = {},
): BackoffSchedule {
  const { random, ...rest } = options;
  const v = validateBackoff({ kind: "linear", ...rest }, random, "linearBackoff");
  return toSchedule(v.compiled, v.random);
}

/** Constant backoff as an Effect `Schedule`. */
export function constantBackoff(
  options: Omit<ConstantBackoffOptions, "kind"> & { random?: RandomSource } = {},
): BackoffSchedule {
  const { random, ...rest } = options;
  const v = validateBackoff({ kind: "constant", ...rest }, random, "constantBackoff");
  return toSchedule(v.compiled, v.random);
}
