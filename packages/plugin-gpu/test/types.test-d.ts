import { createTapline } from "@tapline/core";
import { describe, expectTypeOf, it } from "vitest";
import {
  type GpuPluginOptions,
  type GpuReading,
  type GpuStepOptions,
  gpu,
  sampleGpus,
} from "../src/index.ts";

describe("types", () => {
  it("augments StepOptions with gpu", () => {
    const app = createTapline({ plugins: [gpu({ interval: 500 })] });
    app.pipeline("p").step("a", async () => 1, { gpu: { devices: [0, "GPU-x"] } });
    app.pipeline("p").step("a", async () => 1, { gpu: false });
    // @ts-expect-error devices must be numbers or strings
    app.pipeline("p").step("a", async () => 1, { gpu: { devices: [true] } });
    expectTypeOf<GpuStepOptions>().toEqualTypeOf<false | { devices?: readonly (number | string)[] }>();
  });
  it("types options and readings", () => {
    // @ts-expect-error unknown option
    gpu({ intervall: 5 } satisfies GpuPluginOptions);
    expectTypeOf(sampleGpus).returns.resolves.toHaveProperty("gpus").toEqualTypeOf<readonly GpuReading[]>();
    expectTypeOf<GpuReading["utilization"]>().toEqualTypeOf<number | undefined>();
  });
});
