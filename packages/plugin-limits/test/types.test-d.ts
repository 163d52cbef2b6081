import { createTapline, isTaplineError, type StepOptions } from "@tapline/core";
import { describe, expectTypeOf, it } from "vitest";
import { type LimitStepOption, type LimitsReport, limits } from "../src/index.ts";

describe("types", () => {
  it("adds `limit` to StepOptions and types report extensions", async () => {
    expectTypeOf<StepOptions["limit"]>().toEqualTypeOf<LimitStepOption | undefined>();
    const app = createTapline({ plugins: [limits({ keys: { gpu: { concurrency: 1 } } })] });
    const report = await app
      .pipeline("p")
      .step("a", async () => 1, { limit: "gpu" })
      .map(
        "m",
        () => [1, 2],
        async (n: number) => n,
        {
          limit: { key: "gpu", weight: (n: number) => n, cost: () => ({ tokens: 3 }) },
        },
      )
      .build()
      .run(undefined);
    expectTypeOf(report.steps[0]!.extensions.limits).toEqualTypeOf<LimitsReport | undefined>();
    // @ts-expect-error a weight is a number or a function
    app.pipeline("q").step("a", async () => 1, { limit: { key: "gpu", weight: "heavy" } });
  });

  it("narrows errors by code to their fields", () => {
    const e: unknown = undefined;
    if (isTaplineError(e, "TAPLINE_ERR_LIMITS_QUEUE_TIMEOUT")) {
      expectTypeOf(e.key).toEqualTypeOf<string>();
      expectTypeOf(e.waitedMs).toEqualTypeOf<number>();
    }
  });
});
