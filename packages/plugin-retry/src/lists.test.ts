import { checkOptions } from "@tapline/core/kit";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { BackoffOptions, JitterKind } from "./backoff.ts";
import { type BreakerState, circuitBreaker } from "./breaker.ts";
import { BREAKER_STATES, JITTER_KINDS, type ListsAll, type SameUnion } from "./internal/lists.ts";
import { BackoffDataSchema, CircuitBreakerSchema } from "./schemas.ts";

// Lists derived from the types they mirror (issue #13): the compiler checks both directions.
describe("runtime lists derived from types", () => {
  it("each list names exactly its union's members", () => {
    expectTypeOf<(typeof JITTER_KINDS)[number]>().toEqualTypeOf<JitterKind>();
    expectTypeOf<(typeof BREAKER_STATES)[number]>().toEqualTypeOf<BreakerState>();
    expectTypeOf<ListsAll<"a" | "b", readonly ["a"]>>().toEqualTypeOf<false>();
    expectTypeOf<ListsAll<"a" | "b", readonly ["b", "a"]>>().toEqualTypeOf<true>();
    expectTypeOf<SameUnion<"a" | "b", "a">>().toEqualTypeOf<false>();
    expect(JITTER_KINDS).toEqual(["none", "full", "equal", "decorrelated"]);
    expect(BREAKER_STATES).toEqual(["closed", "open", "halfOpen", "isolated"]);
  });

  it("the schemas accept every listed jitter kind and breaker state, and name them when rejecting", () => {
    for (const jitter of JITTER_KINDS) {
      const spec: BackoffOptions = { kind: "exponential", jitter };
      expect(checkOptions(BackoffDataSchema, spec).issues).toBeUndefined();
    }
    const snapshot = circuitBreaker().snapshot();
    for (const state of BREAKER_STATES) {
      expect(
        checkOptions(CircuitBreakerSchema, { initialState: { ...snapshot, state } }).issues,
      ).toBeUndefined();
    }
    const bad = checkOptions(BackoffDataSchema, { kind: "exponential", jitter: "wild" });
    expect(bad.issues?.[0]?.message).toContain(JITTER_KINDS.map((k) => `"${k}"`).join(" | "));
  });
});
