import { describe, expect, it } from "vitest";
import type { GpuReading, GpuSnapshot } from "./reading.ts";
import { GpuUsageTracker } from "./step-usage.ts";

const g = (index: number, extra: Partial<GpuReading>): GpuReading => ({
  index,
  uuid: `GPU-${index}`,
  name: `gpu${index}`,
  ...extra,
});
const snap = (time: number, gpus: GpuReading[]): GpuSnapshot => ({ time, gpus });

describe("GpuUsageTracker", () => {
  it("computes peak and mean utilisation and memory, and energy by trapezoids", () => {
    const t = new GpuUsageTracker(
      1000,
      snap(900, [g(0, { utilization: 0, memoryUsedBytes: 100, powerDrawWatts: 100 })]),
    );
    t.add(snap(2000, [g(0, { utilization: 1, memoryUsedBytes: 300, powerDrawWatts: 300 })]));
    t.add(snap(3000, [g(0, { utilization: 0.5, memoryUsedBytes: 200, powerDrawWatts: 300 })]));
    const u = t.finish(4000);
    expect(u.durationMs).toBe(3000);
    expect(u.attribution).toBe("all");
    const d = u.gpus[0]!;
    expect(d.samples).toBe(3);
    expect(d.utilizationPeak).toBe(1);
    expect(d.utilizationMean).toBeCloseTo(0.5);
    expect(d.memoryUsedPeakBytes).toBe(300);
    expect(d.memoryUsedMeanBytes).toBeCloseTo(200);
    // 1..2 s: (100+300)/2 = 200 J; 2..3 s: 300 J; 3..4 s held at 300 W: 300 J
    expect(d.energyJoules).toBeCloseTo(800);
    expect(u.energyJoules).toBeCloseTo(800);
  });

  it("leaves fields absent when a GPU never reports them", () => {
    const t = new GpuUsageTracker(0);
    t.add(snap(10, [g(1, {})]));
    const d = t.finish(20).gpus[0]!;
    expect(d).toEqual({ index: 1, uuid: "GPU-1", name: "gpu1", samples: 1 });
  });

  it("restricts to the step's devices, by index or uuid", () => {
    const t = new GpuUsageTracker(0, undefined, [1, "GPU-2"]);
    t.add(snap(10, [g(0, { utilization: 1 }), g(1, { utilization: 0.2 }), g(2, { utilization: 0.3 })]));
    const u = t.finish(20);
    expect(u.attribution).toBe("option");
    expect(u.gpus.map((x) => x.index)).toEqual([1, 2]);
  });

  it("attributes to the GPUs where the app's processes hold memory", () => {
    const t = new GpuUsageTracker(0);
    t.add(snap(10, [g(0, { utilization: 1 }), g(1, { utilization: 0.2 })]));
    t.addProcesses({
      time: 15,
      processes: [{ uuid: "GPU-1", pid: 5, memoryUsedBytes: 42 }],
      memoryByGpu: new Map([["GPU-1", 42]]),
    });
    const u = t.finish(20);
    expect(u.attribution).toBe("process");
    expect(u.gpus).toHaveLength(1);
    expect(u.gpus[0]!.processMemoryPeakBytes).toBe(42);
  });

  it("ignores snapshots older than the start and reports throttling reasons only", () => {
    const t = new GpuUsageTracker(100);
    t.add(snap(50, [g(0, { utilization: 1 })]));
    t.add(snap(150, [g(0, { utilization: 0.1, throttleReasons: ["gpu_idle", "sw_power_cap"] })]));
    const d = t.finish(200).gpus[0]!;
    expect(d.utilizationPeak).toBe(0.1);
    expect(d.throttleReasons).toEqual(["sw_power_cap"]);
  });
});
