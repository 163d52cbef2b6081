import { isTaplineError } from "@tapline/core";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sequence } from "../test/fake-clock.ts";
import { type BackoffOptions, compileBackoff, nextDelay } from "./backoff.ts";
import { exponentialBackoff, linearBackoff } from "./backoff-schedule.ts";
import { seededRandom } from "./clock.ts";
import { JITTER_KINDS } from "./internal/lists.ts";

function delays(spec: BackoffOptions, random: () => number, n: number): number[] {
  const compiled = compileBackoff(spec);
  if (!compiled) throw new Error("invalid spec");
  const out: number[] = [];
  let prev = 0;
  for (let attempt = 1; attempt <= n; attempt++) {
    prev = nextDelay(compiled, attempt, prev, random);
    out.push(prev);
  }
  return out;
}

describe("backoff delays", () => {
  const exp = { kind: "exponential", base: 100, factor: 2, maxDelay: 1000 } as const;
  const r = () => sequence(0.5, 0.25, 0.75, 0, 0.999);

  it("none: base × factor^(n-1), capped", () => {
    expect(delays({ ...exp, jitter: "none" }, r(), 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it("full: random × nominal", () => {
    expect(delays({ ...exp, jitter: "full" }, r(), 5)).toEqual([50, 50, 300, 0, 999]);
  });
  it("equal: nominal/2 + random × nominal/2", () => {
    expect(delays({ ...exp, jitter: "equal" }, r(), 5)).toEqual([75, 125, 350, 400, 999.5]);
  });
  it("decorrelated: base + random × (min(max, prev × 3) - base)", () => {
    // prev: 100 → 100+0.5×200=200 → 100+0.25×500=225 → 100+0.75×575=531.25 → 100+0×900=100 → 100+0.999×200=299.8
    expect(delays({ ...exp, jitter: "decorrelated" }, r(), 5)).toEqual([200, 225, 531.25, 100, 299.8]);
  });
  it("linear and constant", () => {
    expect(delays({ kind: "linear", base: 100, increment: 50, maxDelay: 250 }, r(), 5)).toEqual([
      100, 150, 200, 250, 250,
    ]);
    expect(delays({ kind: "constant", delay: 40 }, r(), 3)).toEqual([40, 40, 40]);
  });
  it("is deterministic with a seeded random source", () => {
    const a = delays({ ...exp, jitter: "full" }, seededRandom(7), 20);
    const b = delays({ ...exp, jitter: "full" }, seededRandom(7), 20);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(10);
  });

  it("property: finite, ≥ 0 and ≤ maxDelay for attempts up to 10,000, every kind and jitter", () => {
    const jitter = fc.constantFrom(...JITTER_KINDS);
    const spec = fc.oneof(
      fc.record({
        kind: fc.constant("exponential" as const),
        base: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        factor: fc.double({ min: 1, max: 100, noNaN: true }),
        extra: fc.double({ min: 0, max: 1e7, noNaN: true }),
        jitter,
      }),
      fc.record({
        kind: fc.constant("linear" as const),
        base: fc.double({ min: 0, max: 1e6, noNaN: true }),
        factor: fc.double({ min: 0, max: 1e6, noNaN: true }),
        extra: fc.double({ min: 0, max: 1e7, noNaN: true }),
        jitter,
      }),
    );
    fc.assert(
      fc.property(spec, fc.integer({ min: 1, max: 10_000 }), fc.integer(), (s, attempts, seed) => {
        const maxDelay = s.base + s.extra;
        const full: BackoffOptions =
          s.kind === "exponential"
            ? { kind: "exponential", base: s.base, factor: s.factor, maxDelay, jitter: s.jitter }
            : { kind: "linear", base: s.base, increment: s.factor, maxDelay, jitter: s.jitter };
        const compiled = compileBackoff(full);
        expect(compiled).toBeDefined();
        const random = seededRandom(seed);
        let prev = 0;
        // the whole sequence for small counts, and straight at the far attempt number
        for (const attempt of attempts <= 200
          ? Array.from({ length: attempts }, (_, i) => i + 1)
          : [attempts - 1, attempts]) {
          prev = nextDelay(compiled!, attempt, prev, random);
          if (!(Number.isFinite(prev) && prev >= 0 && prev <= maxDelay)) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it("decorrelated stays finite across 10,000 consecutive attempts (cockatiel #86)", () => {
    const out = delays(
      { kind: "exponential", base: 1, factor: 2, maxDelay: 60_000, jitter: "decorrelated" },
      seededRandom(3),
      10_000,
    );
    expect(out.every((d) => Number.isFinite(d) && d >= 1 && d <= 60_000)).toBe(true);
  });
});

describe("backoffs are Effect Schedules", () => {
  it("steps through Effect to the same delays as the fast path", async () => {
    const schedule = exponentialBackoff({
      base: 100,
      maxDelay: 1000,
      jitter: "full",
      random: sequence(0.5, 0.25),
    });
    expect(Schedule.isSchedule(schedule)).toBe(true);
    const got = await Effect.runPromise(
      Effect.gen(function* () {
        const step = yield* Schedule.toStep(schedule);
        const out: number[] = [];
        for (let i = 0; i < 3; i++) out.push(Duration.toMillis((yield* step(0, undefined))[1]));
        return out;
      }),
    );
    expect(got).toEqual([50, 50, 200]);
  });

  it("composes with Effect combinators and drives Effect.retry", async () => {
    let calls = 0;
    const program = Effect.suspend(() => (++calls < 3 ? Effect.fail("nope") : Effect.succeed(calls)));
    const schedule = linearBackoff({ base: 1 }).pipe(Schedule.upTo({ times: 5 }));
    expect(await Effect.runPromise(Effect.retry(program, schedule))).toBe(3);
  });
});

describe("backoff options", () => {
  it("lists every bad option in one configuration error", () => {
    let error: unknown;
    try {
      exponentialBackoff({ base: -1, factor: Number.NaN, maxDelay: Number.POSITIVE_INFINITY });
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
    const paths = (error as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual(["base", "factor", "maxDelay"]);
    expect((error as Error).message).toMatch(/^exponentialBackoff\(\): invalid options:/);
    expect(() => exponentialBackoff({ base: 500, maxDelay: 100 })).toThrow(
      /maxDelay: must be ≥ base \(500 ms\)/,
    );
    expect(() => linearBackoff({ jitter: "wild" as never })).toThrow(
      /jitter: expected \("none" \| "full" \| "equal" \| "decorrelated"\), got "wild"/,
    );
  });
});
