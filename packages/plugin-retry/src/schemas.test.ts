import { createTapline, isTaplineError, type OptionIssue } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import * as Schedule from "effect/Schedule";
import { describe, expect, it } from "vitest";
import { constantBackoff, exponentialBackoff } from "./backoff-schedule.ts";
import { circuitBreaker } from "./breaker.ts";
import { keyedBreakers } from "./keyed.ts";
import { retry } from "./plugin.ts";
import { retryPolicy } from "./retry.ts";

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): Error & { code?: string; issues?: readonly OptionIssue[] } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string; issues?: readonly OptionIssue[] };
  }
  throw new Error("expected a throw");
}

const register = (options: unknown) => () =>
  createTapline({ logger: silentLogger, plugins: [retry(options as never)] });

const step = (options: unknown, plugin: unknown = {}) => {
  const app = createTapline({ logger: silentLogger, plugins: [retry(plugin as never)] });
  // `.step()` itself throws: core checks the step option against the plugin's schema.
  return () => app.pipeline("p").step("s", async () => 1, { retry: options as never });
};

describe("strict plugin options (core checks them at registration)", () => {
  it("retry({ retries: 3 }) names the option and points at defaults.maxAttempts", () => {
    const error = thrown(register({ retries: 3 }));
    expect(
      isTaplineError(error, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ]),
    ).toBe(true);
    expect(error.code).toBe("TAPLINE_ERR_PLUGIN_OPTIONS");
    expect(error.message).toContain(
      'retries: unknown option "retries"; did you mean "defaults.maxAttempts"?',
    );
    expect(error.issues![0]).toMatchObject({ path: "retries", suggestion: "defaults.maxAttempts" });
  });

  it("retry({ default: {...} }) suggests defaults", () => {
    const error = thrown(register({ default: { maxAttempts: 2 } }));
    expect(error.message).toContain('default: unknown option "default"; did you mean "defaults"?');
  });

  it("retry({ defaults: { maxAtempts: 3 } }) names the nested path", () => {
    const error = thrown(register({ defaults: { maxAtempts: 3 } }));
    expect(error.message).toContain(
      'defaults.maxAtempts: unknown option "maxAtempts"; did you mean "maxAttempts"?',
    );
  });

  it("wrong types: the path, the value and what was expected", () => {
    const error = thrown(register({ defaults: { maxAttempts: "3" } }));
    expect(error.message).toContain('defaults.maxAttempts: expected number, got "3"');
    expect(error.issues![0]).toMatchObject({ path: "defaults.maxAttempts", value: "3", expected: "number" });
  });

  it("breakers, half-open options and trip policies", () => {
    const error = thrown(
      register({
        breakers: {
          x: { halfOpen: { probe: 2 } },
          y: { trip: { kind: "consecutiv", threshold: 3 } },
          z: { trip: { kind: "count", threshold: 0.5, size: 10, minimumCals: 5 } },
          w: { name: "w" },
        },
      }),
    );
    expect(error.message).toContain(
      'breakers.x.halfOpen.probe: unknown option "probe"; did you mean "probes"?',
    );
    expect(error.message).toContain(
      'breakers.y.trip.kind: expected ("consecutive" | "count" | "time"), got "consecutiv"; did you mean "consecutive"?',
    );
    expect(error.message).toContain(
      'breakers.z.trip.minimumCals: unknown option "minimumCals"; did you mean "minimumCalls"?',
    );
    // the plugin names a breaker by its key
    expect(error.message).toContain('breakers.w.name: unknown option "name"');
  });

  it("backoff { kind: 'constant', base } points at delay; jitter typos get the closest kind", () => {
    const error = thrown(register({ defaults: { backoff: { kind: "constant", base: 1, jitter: "ful" } } }));
    expect(error.message).toContain('defaults.backoff.base: unknown option "base"; did you mean "delay"?');
    const jitter = thrown(register({ defaults: { backoff: { kind: "exponential", jitter: "ful" } } }));
    expect(jitter.message).toContain(
      'defaults.backoff.jitter: expected ("none" | "full" | "equal" | "decorrelated"), got "ful"; did you mean "full"?',
    );
  });

  it("cross-field rules land on the field at fault", () => {
    const error = thrown(
      register({
        defaults: { backoff: { kind: "exponential", base: 500, maxDelay: 100 } },
        breakers: { x: { openDuration: 5_000, maxOpenDuration: 10 } },
      }),
    );
    expect(error.message).toContain("defaults.backoff.maxDelay: must be ≥ base (500 ms), got 100");
    expect(error.message).toContain("breakers.x.maxOpenDuration: must be ≥ openDuration (5000 ms), got 10");
  });
});

describe("strict step options (core checks them when .step() is called)", () => {
  it("retry: { maxAtempts: 3 } fails in .step(), naming pipeline, step and path", () => {
    const error = thrown(step({ maxAtempts: 3 }));
    expect(isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
    expect(error.message).toContain(
      'retry.maxAtempts: unknown option "maxAtempts"; did you mean "maxAttempts"?',
    );
    expect(error.message).toContain('"p"');
    expect(error.issues![0]).toMatchObject({ path: "retry.maxAtempts", suggestion: "maxAttempts" });
  });

  it("wrong types, bad backoffs and bad breaker references", () => {
    expect(thrown(step({ maxAttempts: "3" })).message).toContain(
      'retry.maxAttempts: expected number, got "3"',
    );
    expect(thrown(step({ maxAttempts: 0 })).message).toContain("retry.maxAttempts: must be ≥ 1, got 0");
    expect(thrown(step({ backoff: { kind: "constant", base: 1 } })).message).toContain(
      'retry.backoff.base: unknown option "base"; did you mean "delay"?',
    );
    expect(thrown(step({ breaker: { nam: "x" } })).message).toContain(
      'retry.breaker.nam: unknown option "nam"; did you mean "name"?',
    );
    expect(thrown(step(true)).message).toContain("retry: must be retry options");
  });

  it("accepts false, Effect Schedules and built-in schedules", () => {
    expect(step(false)).not.toThrow();
    expect(step({ backoff: Schedule.spaced("10 millis") })).not.toThrow();
    expect(step({ backoff: constantBackoff({ delay: 1 }) })).not.toThrow();
  });
});

describe("strict standalone options (RetryConfigError built from core's issues)", () => {
  it("retryPolicy({ maxAtempts: 3 })", () => {
    const error = thrown(() => retryPolicy({ maxAtempts: 3 } as never));
    expect(isTaplineError(error, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
    expect(error.code).toBe("TAPLINE_ERR_RETRY_CONFIG");
    expect(error.message).toContain(
      'retryPolicy(): invalid options:\n  - maxAtempts: unknown option "maxAtempts"; did you mean "maxAttempts"?',
    );
    expect(error.issues![0]).toMatchObject({ path: "maxAtempts", suggestion: "maxAttempts" });
  });

  it("retryPolicy: wrong types, constant backoff base, non-finite numbers", () => {
    expect(thrown(() => retryPolicy({ maxAttempts: "3" as never })).message).toContain(
      'maxAttempts: expected number, got "3"',
    );
    expect(thrown(() => retryPolicy({ backoff: { kind: "constant", base: 1 } as never })).message).toContain(
      'backoff.base: unknown option "base"; did you mean "delay"?',
    );
    expect(thrown(() => retryPolicy({ maxAttempts: Number.POSITIVE_INFINITY })).message).toContain(
      "maxAttempts: must be a whole number, got Infinity",
    );
    expect(thrown(() => retryPolicy({ onRetry: 5 as never })).message).toContain(
      "onRetry: must be a function",
    );
    expect(() => retryPolicy({ backoff: Schedule.spaced("1 second") })).not.toThrow();
    expect(() => retryPolicy({ backoff: exponentialBackoff({ base: 10 }) })).not.toThrow();
  });

  it("rejects an object that only looks like a Schedule (the structural EffectSchedule type admits it)", () => {
    const fake = { "~effect/Schedule": {} };
    const error = thrown(() => retryPolicy({ backoff: fake }));
    expect(isTaplineError(error, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
    expect(error.issues).toMatchObject([{ path: "backoff" }]);
    expect(error.message).toMatch(/backoff: .*an Effect Schedule \(made by effect's Schedule module\)/);
    const breaker = thrown(() => circuitBreaker({ openDuration: fake }));
    expect(breaker.issues).toMatchObject([{ path: "openDuration" }]);
    expect(breaker.message).toMatch(/openDuration: .*or an Effect Schedule/);
  });

  it("circuitBreaker() and keyedBreakers()", () => {
    const trip = thrown(() => circuitBreaker({ trip: { kind: "consecutive", threshhold: 3 } as never }));
    expect(isTaplineError(trip, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
    expect(trip.message).toContain("circuitBreaker(): invalid options:");
    expect(trip.message).toContain('trip.threshhold: unknown option "threshhold"; did you mean "threshold"?');
    expect(trip.message).toContain("trip.threshold: missing required option");
    const slow = thrown(() =>
      circuitBreaker({ trip: { kind: "consecutive", threshold: 3, slowCall: {} } as never }),
    );
    expect(slow.message).toContain('trip.slowCall: unknown option "slowCall"');
    const keyed = thrown(() => keyedBreakers({ idleMS: 5 } as never));
    expect(keyed.message).toContain(
      'keyedBreakers(): invalid options:\n  - idleMS: unknown option "idleMS"; did you mean "idleMs"?',
    );
    const size = thrown(() =>
      circuitBreaker({ trip: { kind: "count", threshold: 0.5, size: 5, minimumCalls: 9 } }),
    );
    expect(size.message).toContain("trip.minimumCalls: must be ≤ size (5), got 9");
  });

  it("backoff constructors", () => {
    const error = thrown(() => exponentialBackoff({ bse: 5 } as never));
    expect(error.message).toContain(
      'exponentialBackoff(): invalid options:\n  - bse: unknown option "bse"; did you mean "base"?',
    );
    expect(thrown(() => constantBackoff({ base: 5 } as never)).message).toContain('did you mean "delay"?');
  });
});
