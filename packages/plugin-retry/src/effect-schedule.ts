/**
 * Any Effect `Schedule`, described structurally (effect 4's Schedule TypeId is the string `"~effect/Schedule"`),
 * so the main entry's declarations never import effect: a consumer without the DOM lib and with
 * `skipLibCheck: false` cannot type-check effect's own declarations (they name `CryptoKey`). A real
 * `Schedule.Schedule<...>` is assignable; at runtime it is checked with effect's `Schedule.isSchedule`, and
 * anything else is a `RetryConfigError` ("must be an Effect Schedule").
 *
 * @example
 * // with `Schedule` from effect's "effect/Schedule" module
 * retryPolicy({ backoff: Schedule.spaced("1 second").pipe(Schedule.upTo({ times: 3 })) });
 */
export interface EffectSchedule {
  readonly "~effect/Schedule": unknown;
}
