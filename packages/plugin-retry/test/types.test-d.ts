import { createTapline } from "@tapline/core";
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import { describe, expectTypeOf, it } from "vitest";
import { type BackoffSchedule, exponentialBackoff, withRetry } from "../src/effect.ts";
import {
  type AttemptTimeoutError,
  type BrokenCircuitError,
  type CircuitBreakerOptions,
  circuitBreaker,
  type DeadlineExceededError,
  type EffectSchedule,
  type RetryOptions,
  type RetryPluginOptions,
  type RetryReport,
  type RetryStepOptions,
  retry,
  retryPolicy,
} from "../src/index.ts";

describe("types", () => {
  it("types report.steps[i].extensions.retry as RetryReport (StepReportExtensions augmentation)", async () => {
    const app = createTapline({ plugins: [retry()] });
    const report = await app
      .pipeline("p")
      .step("a", async () => 1, { retry: { maxAttempts: 2 } })
      .build()
      .run();
    expectTypeOf(report.steps[0]!.extensions.retry).toEqualTypeOf<RetryReport | undefined>();
    expectTypeOf<NonNullable<(typeof report.steps)[0]>["extensions"]["retry"]>().toEqualTypeOf<
      RetryReport | undefined
    >();
    // other keys stay unknown
    expectTypeOf(report.steps[0]!.extensions.somethingElse).toEqualTypeOf<unknown>();
  });

  it("checks step options and plugin options", () => {
    const app = createTapline({ plugins: [retry({ breakers: { x: {} } })] });
    app.pipeline("p").step("a", async () => 1, { retry: { breaker: { name: "x", key: "k" } } });
    app.pipeline("p").step("a", async () => 1, { retry: false });
    // @ts-expect-error misspelt step option
    app.pipeline("p").step("a", async () => 1, { retry: { maxAtempts: 3 } });
    // @ts-expect-error wrong type
    app.pipeline("p").step("a", async () => 1, { retry: { maxAttempts: "3" } });
    // @ts-expect-error misspelt plugin option
    retry({ defualts: {} } satisfies RetryPluginOptions);
    expectTypeOf<RetryStepOptions["maxAttempts"]>().toEqualTypeOf<number | undefined>();
  });

  it("accepts real Effect Schedules where the main entry types them structurally (EffectSchedule)", () => {
    expectTypeOf<Schedule.Schedule<number, unknown>>().toExtend<EffectSchedule>();
    expectTypeOf<BackoffSchedule>().toExtend<NonNullable<RetryOptions["backoff"]>>();
    expectTypeOf<Schedule.Schedule<unknown, unknown>>().toExtend<NonNullable<RetryStepOptions["backoff"]>>();
    expectTypeOf<Schedule.Schedule<unknown, unknown>>().toExtend<
      NonNullable<CircuitBreakerOptions["openDuration"]>
    >();
    retryPolicy({ backoff: Schedule.spaced("1 second").pipe(Schedule.upTo({ times: 3 })) });
    retryPolicy({ backoff: exponentialBackoff({ base: 100 }) });
    circuitBreaker({ openDuration: Schedule.exponential("1 second") });
    createTapline({ plugins: [retry({ defaults: { backoff: Schedule.spaced("10 millis") } })] });
    // @ts-expect-error not a Schedule nor a backoff
    retryPolicy({ backoff: { every: 5 } });
  });

  it("withRetry from @tapline/plugin-retry/effect keeps the effect's types and adds the policy's errors", () => {
    const program = Effect.succeed(1 as const).pipe(withRetry(retryPolicy({ maxAttempts: 2 })));
    expectTypeOf(program).toEqualTypeOf<
      Effect.Effect<1, BrokenCircuitError | AttemptTimeoutError | DeadlineExceededError, never>
    >();
  });
});
