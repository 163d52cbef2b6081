import { createTapline } from "@tapline/core";
import { describe, expectTypeOf, it } from "vitest";
import { type RetryPluginOptions, type RetryReport, type RetryStepOptions, retry } from "../src/index.ts";

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
});
