import { isTaplineError } from "@tapline/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  AttemptTimeoutError,
  BrokenCircuitError,
  DeadlineExceededError,
  RetryConfigError,
} from "./errors.ts";
import * as api from "./index.ts";

describe("errors (core's createError)", () => {
  it("each error has its stable code, name, fields and a hint", () => {
    const cases = [
      [
        new RetryConfigError({
          subject: "retryPolicy()",
          issues: [{ path: "maxAttempts", message: "must be ≥ 1" }],
        }),
        RetryConfigError,
        "TAPLINE_ERR_RETRY_CONFIG",
        "RetryConfigError",
        "retryPolicy(): invalid options:\n  - maxAttempts: must be ≥ 1",
      ],
      [
        new BrokenCircuitError({ breaker: "tts[en]", state: "open", retryAt: 0 }),
        BrokenCircuitError,
        "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT",
        "BrokenCircuitError",
        'circuit breaker "tts[en]" rejected the call: it is open until 1970-01-01T00:00:00.000Z',
      ],
      [
        new AttemptTimeoutError({ timeoutMs: 50, attempt: 2 }),
        AttemptTimeoutError,
        "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT",
        "AttemptTimeoutError",
        'attempt 2 timed out after 50 ms (raise "attemptTimeout" if calls need longer)',
      ],
      [
        new DeadlineExceededError({ deadlineMs: 1000 }),
        DeadlineExceededError,
        "TAPLINE_ERR_RETRY_DEADLINE",
        "DeadlineExceededError",
        "the retry budget of 1000 ms ran out",
      ],
    ] as const;
    for (const [error, Class, code, name, message] of cases) {
      expect(error.code).toBe(code);
      expect(Class.code).toBe(code);
      expect(Class.hint.length).toBeGreaterThan(0);
      expect(error.name).toBe(name);
      expect(error.message).toBe(message);
      expect(isTaplineError(error, code)).toBe(true);
    }
  });

  it("keeps the fields users read (subject, issues, breaker, state, retryAt, timeoutMs, attempt, deadlineMs)", () => {
    const config = new RetryConfigError({ subject: "circuitBreaker()", issues: [] });
    expect(config).toMatchObject({ subject: "circuitBreaker()", issues: [] });
    const isolated = new BrokenCircuitError({ breaker: "b", state: "isolated", retryAt: undefined });
    expect(isolated.message).toMatch(/isolated by hand; call reset\(\)/);
    expect(isolated).toMatchObject({ breaker: "b", state: "isolated", retryAt: undefined });
    expect(new BrokenCircuitError({ breaker: "b", state: "halfOpen", retryAt: 5 }).message).toMatch(
      /half-open and its probe calls are already in flight/,
    );
    const cause = new Error("late");
    const deadline = new DeadlineExceededError({ deadlineMs: 10 }, { cause });
    expect(deadline.cause).toBe(cause);
    expect(deadline.deadlineMs).toBe(10);
  });

  it("narrows through TaplineErrorMap, and works for an error of another copy of the package", () => {
    const e: unknown = new BrokenCircuitError({ breaker: "b", state: "open", retryAt: 1 });
    if (isTaplineError(e, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")) {
      expectTypeOf(e.breaker).toEqualTypeOf<string>();
      expectTypeOf(e.retryAt).toEqualTypeOf<number | undefined>();
    }
    if (isTaplineError(e, "TAPLINE_ERR_RETRY_CONFIG")) expectTypeOf(e.subject).toEqualTypeOf<string>();
    if (isTaplineError(e, "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT"))
      expectTypeOf(e.attempt).toEqualTypeOf<number>();
    if (isTaplineError(e, "TAPLINE_ERR_RETRY_DEADLINE")) expectTypeOf(e.deadlineMs).toEqualTypeOf<number>();
    // A copy of the class from a second install: same brand and code, another prototype.
    const foreign = Object.assign(new Error("x"), {
      isTaplineError: true,
      code: "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT",
    });
    expect(isTaplineError(foreign, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
  });

  it("the main entry has no per-class guards (isTaplineError replaces them) and no error constructors", () => {
    const names = Object.keys(api);
    expect(names.filter((n) => /^is.*Error$/.test(n))).toEqual([]);
    expect(names.filter((n) => /^[A-Z]\w*Error$/.test(n))).toEqual([]);
    expect(names.length).toBeLessThanOrEqual(15);
  });
});
