import { isTaplineError } from "@tapline/core";
import * as Schedule from "effect/Schedule";
import { describe, expect, it } from "vitest";
import { FakeClock, sequence } from "../test/fake-clock.ts";
import { circuitBreaker } from "./breaker.ts";
import { nonRetryable } from "./classify.ts";
import type { GiveUpEvent, RetryScheduledEvent } from "./options.ts";
import { retryPolicy } from "./retry.ts";

const fail = (n: number, make: (i: number) => unknown = (i) => new Error(`fail ${i}`)) => {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= n) throw make(calls);
    return `ok after ${calls}`;
  };
  return { fn, calls: () => calls };
};

describe("retryPolicy", () => {
  it("makes maxAttempts calls in all and sleeps the exact backoff sequence", async () => {
    const clock = new FakeClock();
    const retries: RetryScheduledEvent[] = [];
    const gaveUp: GiveUpEvent[] = [];
    const policy = retryPolicy({
      maxAttempts: 4,
      backoff: { kind: "exponential", base: 100, maxDelay: 1000, jitter: "equal" },
      random: sequence(0.5, 0, 1),
      clock,
      onRetry: (e) => retries.push(e),
      onGiveUp: (e) => gaveUp.push(e),
    });
    const f = fail(10);
    const out = await clock.run(policy.execute(f.fn));
    expect(out.ok).toBe(false);
    expect((out.error as Error).message).toBe("fail 4");
    expect(f.calls()).toBe(4);
    expect(retries.map((r) => r.delayMs)).toEqual([75, 100, 400]);
    expect(clock.requested).toEqual([75, 100, 400]);
    expect(gaveUp).toEqual([expect.objectContaining({ attempts: 4, reason: "attempts" })]);
  });

  it("returns the value once an attempt succeeds, passing the attempt number", async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const policy = retryPolicy({ clock, backoff: { kind: "constant", delay: 10 } });
    const out = await clock.run(
      policy.execute(async (_s, attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error("again");
        return attempt;
      }),
    );
    expect(out.value).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("gives up at once on non-retryable and ignored failures", async () => {
    const clock = new FakeClock();
    const reasons: string[] = [];
    const policy = retryPolicy({ clock, onGiveUp: (e) => reasons.push(e.reason) });
    const a = fail(5, () => nonRetryable(new Error("no")));
    expect((await clock.run(policy.execute(a.fn))).ok).toBe(false);
    const b = fail(5, () => Object.assign(new Error("bad request"), { status: 400 }));
    expect((await clock.run(policy.execute(b.fn))).ok).toBe(false);
    expect([a.calls(), b.calls()]).toEqual([1, 1]);
    expect(reasons).toEqual(["nonRetryable", "ignored"]);
  });

  it("asks the user's classifier first, then shouldRetry", async () => {
    const clock = new FakeClock();
    const p1 = retryPolicy({
      clock,
      classify: (e) => ((e as Error).message === "quota" ? "nonRetryable" : undefined),
    });
    const a = fail(5, () => new Error("quota"));
    await clock.run(p1.execute(a.fn));
    expect(a.calls()).toBe(1);
    const p2 = retryPolicy({ clock, maxAttempts: 5, shouldRetry: (_e, attempt) => attempt < 2 });
    const b = fail(5);
    await clock.run(p2.execute(b.fn));
    expect(b.calls()).toBe(2);
  });

  it("honours Retry-After, capped by maxDelay", async () => {
    const clock = new FakeClock();
    const policy = retryPolicy({
      clock,
      maxAttempts: 3,
      backoff: { kind: "constant", delay: 5 },
      maxRetryAfter: 2000,
    });
    const f = fail(2, (i) =>
      Object.assign(new Error("429"), { status: 429, headers: { "retry-after": i === 1 ? "1" : "60" } }),
    );
    const out = await clock.run(policy.execute(f.fn));
    expect(out.ok).toBe(true);
    expect(clock.requested).toEqual([1000, 2000]);
  });

  it("aborting during a sleep rejects at once with the reason and never calls again", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const policy = retryPolicy({ clock, backoff: { kind: "constant", delay: 500 } });
    const f = fail(10);
    const settled = policy.execute(f.fn, controller.signal).catch((e: unknown) => e);
    await clock.advance(20);
    expect(f.calls()).toBe(1);
    const reason = new Error("user cancelled");
    controller.abort(reason);
    expect(await settled).toBe(reason);
    expect(clock.pending).toBe(0);
    await clock.advance(1000);
    expect(f.calls()).toBe(1);
  });

  it("aborting during an attempt rejects at once and aborts the attempt's signal with the same reason", async () => {
    const controller = new AbortController();
    const policy = retryPolicy({ clock: new FakeClock() });
    let attemptSignal: AbortSignal | undefined;
    const settled = policy
      .execute((signal) => {
        attemptSignal = signal;
        return new Promise(() => {}); // ignores its signal
      }, controller.signal)
      .catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    controller.abort("stop");
    expect(await settled).toBe("stop");
    expect(attemptSignal?.aborted).toBe(true);
    expect(attemptSignal?.reason).toBe("stop");
    expect(attemptSignal).not.toBe(controller.signal);
  });

  it("never calls fn with an already aborted signal", async () => {
    let calls = 0;
    const reason = new Error("gone");
    await expect(retryPolicy().execute(async () => calls++, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(calls).toBe(0);
  });

  it("times out each attempt with a fresh signal and retries", async () => {
    const clock = new FakeClock();
    const signals: AbortSignal[] = [];
    const policy = retryPolicy({ clock, attemptTimeout: 100, backoff: { kind: "constant", delay: 10 } });
    const out = await clock.run(
      policy.execute((signal, attempt) => {
        signals.push(signal);
        return attempt < 3 ? new Promise(() => {}) : Promise.resolve("done");
      }),
    );
    expect(out.value).toBe("done");
    expect(signals.map((s) => s.aborted)).toEqual([true, true, false]);
    expect(isTaplineError(signals[0]!.reason, "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT")).toBe(true);
    expect(new Set(signals).size).toBe(3);
  });

  it("never starts a sleep that ends past the deadline", async () => {
    const clock = new FakeClock();
    const reasons: string[] = [];
    const sleeps: number[] = [];
    const policy = retryPolicy({
      clock,
      maxAttempts: 10,
      deadline: 1000,
      backoff: { kind: "exponential", base: 100, jitter: "none" },
      onRetry: (e) => sleeps.push(e.delayMs),
      onGiveUp: (e) => reasons.push(e.reason),
    });
    const f = fail(100);
    const start = clock.now();
    const out = await clock.run(policy.execute(f.fn));
    expect(out.ok).toBe(false);
    // sleeps 100, 200, 400 (t = 700); the next (800) would end at 1500 > 1000. Each attempt's timer is
    // bounded by what is left of the budget: 1000, 900, 700, 300.
    expect(sleeps).toEqual([100, 200, 400]);
    expect(clock.requested).toEqual([1000, 100, 900, 200, 700, 400, 300]);
    expect(f.calls()).toBe(4);
    expect(reasons).toEqual(["deadline"]);
    expect(clock.now() - start).toBe(700);
  });

  it("cuts an attempt that would run past the deadline", async () => {
    const clock = new FakeClock();
    const policy = retryPolicy({ clock, deadline: 300, attemptTimeout: 1000 });
    const out = await clock.run(policy.execute(() => new Promise(() => {})));
    expect(isTaplineError(out.error, "TAPLINE_ERR_RETRY_DEADLINE")).toBe(true);
    expect(clock.requested).toEqual([300]);
  });

  it("uses any Effect Schedule as backoff and gives up when it ends", async () => {
    const clock = new FakeClock();
    const reasons: string[] = [];
    const policy = retryPolicy({
      clock,
      maxAttempts: 10,
      backoff: Schedule.spaced("25 millis").pipe(Schedule.upTo({ times: 2 })),
      onGiveUp: (e) => reasons.push(e.reason),
    });
    const f = fail(100);
    await clock.run(policy.execute(f.fn));
    expect(clock.requested).toEqual([25, 25]);
    expect(f.calls()).toBe(3);
    expect(reasons).toEqual(["schedule"]);
  });

  it("composes with a breaker: attempts count, and an open breaker stops the retries", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      clock,
      trip: { kind: "consecutive", threshold: 2 },
      openDuration: 10_000,
    });
    const reasons: string[] = [];
    const policy = retryPolicy({
      clock,
      maxAttempts: 5,
      breaker,
      backoff: { kind: "constant", delay: 1 },
      onGiveUp: (e) => reasons.push(e.reason),
    });
    const f = fail(100);
    const out = await clock.run(policy.execute(f.fn));
    expect(f.calls()).toBe(2);
    expect(isTaplineError(out.error, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
    expect(breaker.state).toBe("open");
    expect(reasons).toEqual(["brokenCircuit"]);
    // success path through a closed breaker
    breaker.reset();
    expect((await clock.run(policy.execute(async () => 1))).value).toBe(1);
  });

  it("wrap() runs a function through the policy", async () => {
    const clock = new FakeClock();
    let n = 0;
    const add = retryPolicy({ clock, backoff: { kind: "constant", delay: 1 } }).wrap(
      async (a: number, b: number, signal: AbortSignal) => {
        expect(signal).toBeInstanceOf(AbortSignal);
        if (++n < 2) throw new Error("flaky");
        return a + b;
      },
    );
    expect((await clock.run(add(2, 3))).value).toBe(5);
  });

  it("rejects bad options with one error listing each", () => {
    let error: unknown;
    try {
      retryPolicy({
        maxAttempts: Number.POSITIVE_INFINITY,
        attemptTimeout: -5,
        deadline: Number.NaN,
        backoff: { kind: "exponential", base: 1000, maxDelay: 10 },
      });
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
    const issues = (error as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(issues).toEqual(["maxAttempts", "backoff.maxDelay", "attemptTimeout", "deadline"]);
    expect((error as Error).message).toMatch(/maxAttempts: must be a whole number/);
  });
});
