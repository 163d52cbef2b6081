import { describe, expect, expectTypeOf, it } from "vitest";
import { createError, isTaplineError, TaplineError } from "./create-error.ts";

const CostOverError = createError(
  "TAPLINE_ERR_TEST_COST_OVER",
  "CostOverError",
  (p: { spent: number; limit: number }) => `spent ${p.spent} of ${p.limit}`,
  "raise the budget",
);
const NoParams = createError("TAPLINE_ERR_TEST_NONE", "NoParamsError", () => "nothing to say");

describe("createError", () => {
  it("makes a class with its code, name, message, fields and hint from one line", () => {
    const e = new CostOverError({ spent: 2, limit: 1 });
    expect(e).toBeInstanceOf(TaplineError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({
      code: "TAPLINE_ERR_TEST_COST_OVER",
      name: "CostOverError",
      spent: 2,
      limit: 1,
    });
    expect(e.message).toBe("spent 2 of 1");
    expect(CostOverError.code).toBe("TAPLINE_ERR_TEST_COST_OVER");
    expect(CostOverError.hint).toBe("raise the budget");
    expect(CostOverError.name).toBe("CostOverError");
    expect(String(e.stack)).toContain("CostOverError: spent 2 of 1");
    expectTypeOf(e.spent).toEqualTypeOf<number>();
    expect(new NoParams().message).toBe("nothing to say");
  });

  it("keeps a cause, given as an option or as a cause parameter", () => {
    const root = new Error("root");
    expect(new CostOverError({ spent: 1, limit: 0 }, { cause: root }).cause).toBe(root);
    const WithCause = createError("TAPLINE_ERR_TEST_CAUSE", "WithCause", (p: { cause: unknown }) =>
      String(p.cause),
    );
    expect(new WithCause({ cause: root }).cause).toBe(root);
    expect(new CostOverError({ spent: 1, limit: 0 })).not.toHaveProperty("cause");
  });

  it("isTaplineError checks the brand and the code, not instanceof, so a second copy's errors pass", () => {
    const e = new CostOverError({ spent: 2, limit: 1 });
    expect(isTaplineError(e)).toBe(true);
    expect(isTaplineError(e, "TAPLINE_ERR_TEST_COST_OVER")).toBe(true);
    expect(isTaplineError(e, ["TAPLINE_ERR_OTHER", "TAPLINE_ERR_TEST_COST_OVER"])).toBe(true);
    expect(isTaplineError(e, "TAPLINE_ERR_OTHER")).toBe(false);
    // What another copy of core makes: another class, same brand and code.
    const other = Object.assign(new Error("x"), { isTaplineError: true, code: "TAPLINE_ERR_TEST_COST_OVER" });
    expect(isTaplineError(other, "TAPLINE_ERR_TEST_COST_OVER")).toBe(true);
    expect(isTaplineError(new Error("plain"))).toBe(false);
    expect(isTaplineError(null)).toBe(false);
    expect(isTaplineError({ isTaplineError: true })).toBe(false);
  });
});
