import { isTaplineError } from "@tapline/core";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import { describe, expect, it } from "vitest";
import { circuitBreaker } from "./breaker.ts";
import { nonRetryable } from "./classify.ts";
import { retryPolicy } from "./retry.ts";
import { withRetry } from "./with-retry.ts";

const flaky = (failures: number, error: (n: number) => unknown = (n) => new Error(`fail ${n}`)) => {
  let calls = 0;
  const effect = Effect.suspend(() =>
    ++calls <= failures ? Effect.fail(error(calls)) : Effect.succeed(calls),
  );
  return { effect, calls: () => calls };
};

describe("withRetry (Effect entry point)", () => {
  it("retries typed failures with the policy's backoff", async () => {
    const delays: number[] = [];
    const policy = retryPolicy({
      maxAttempts: 4,
      backoff: { kind: "constant", delay: 2 },
      onRetry: (e) => delays.push(e.delayMs),
    });
    const f = flaky(2);
    expect(await Effect.runPromise(f.effect.pipe(withRetry(policy)))).toBe(3);
    expect(delays).toEqual([2, 2]);
  });

  it("classifies: a non-retryable failure is returned after one call, typed", async () => {
    const f = flaky(5, () => nonRetryable(new Error("nope")));
    const exit = await Effect.runPromiseExit(
      f.effect.pipe(withRetry(retryPolicy({ backoff: { kind: "constant", delay: 1 } }))),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    expect(f.calls()).toBe(1);
  });

  it("does not retry defects", async () => {
    let calls = 0;
    const defect = Effect.suspend(() => {
      calls++;
      return Effect.die(new Error("bug"));
    });
    const exit = await Effect.runPromiseExit(
      defect.pipe(withRetry(retryPolicy({ backoff: { kind: "constant", delay: 1 } }))),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    expect(calls).toBe(1);
  });

  it("bounds attempts with attemptTimeout and goes through the breaker", async () => {
    const breaker = circuitBreaker({ trip: { kind: "consecutive", threshold: 2 } });
    const errors: unknown[] = [];
    const policy = retryPolicy({
      maxAttempts: 5,
      attemptTimeout: 5,
      breaker,
      backoff: { kind: "constant", delay: 1 },
      onGiveUp: (e) => errors.push(e.error),
    });
    const exit = await Effect.runPromiseExit(Effect.never.pipe(withRetry(policy)));
    expect(Exit.isFailure(exit)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
    expect(breaker.state).toBe("open");
  });

  it("times out and retries with a fresh attempt", async () => {
    let calls = 0;
    const slowThenFast = Effect.suspend(() => (++calls === 1 ? Effect.never : Effect.succeed("fast")));
    const seen: unknown[] = [];
    const policy = retryPolicy({
      attemptTimeout: 10,
      backoff: { kind: "constant", delay: 1 },
      onRetry: (e) => seen.push(e.error),
    });
    expect(await Effect.runPromise(slowThenFast.pipe(withRetry(policy)))).toBe("fast");
    expect(isTaplineError(seen[0], "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT")).toBe(true);
  });

  it("interruption stops a backoff sleep at once", async () => {
    const f = flaky(100);
    const policy = retryPolicy({ backoff: { kind: "constant", delay: 60_000 } });
    const t0 = performance.now();
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(f.effect.pipe(withRetry(policy)));
        yield* Effect.sleep("10 millis");
        yield* Fiber.interrupt(fiber);
        return yield* Fiber.await(fiber);
      }),
    );
    expect(Exit.isSuccess(exit) && Exit.isFailure(exit.value)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(f.calls()).toBe(1);
  });
});
