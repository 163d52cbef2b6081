import { describe, expect, it } from "vitest";
import { gpuAlertPresets } from "./alert-presets.ts";
import { GPU_METRICS } from "./metrics.ts";

describe("alert presets", () => {
  it("are plain JSON data on metrics the plugin publishes, with sane hysteresis", () => {
    const published = new Set<string>(Object.values(GPU_METRICS));
    expect(gpuAlertPresets.map((p) => p.name)).toEqual(["gpu_hot", "gpu_memory_near_full", "gpu_throttling"]);
    for (const p of gpuAlertPresets) {
      expect(JSON.parse(JSON.stringify(p))).toEqual(p);
      expect(published.has(p.metric)).toBe(true);
      expect(Object.isFrozen(p)).toBe(true);
      for (const l of p.levels) expect(l.clearBelow).toBeLessThan(l.above);
    }
  });

  it("match exactly the throttling reasons (power, heat, power brake), not idle or application clocks", () => {
    const throttling = gpuAlertPresets.find((p) => p.name === "gpu_throttling")!;
    expect(throttling.matchers[0]!.value).toBe(
      "sw_power_cap|hw_slowdown|sw_thermal_slowdown|hw_thermal_slowdown|hw_power_brake_slowdown",
    );
  });
});
