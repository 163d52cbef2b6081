import type { MetricSample } from "@tapline/core";
import { describe, expect, it } from "vitest";
import { GPU_METRICS, GpuMetricPublisher } from "./metrics.ts";
import { GPU_QUERY_FIELDS, type GpuReading, type GpuSnapshot, parseGpuLine } from "./reading.ts";
import { THROTTLE_REASONS } from "./throttle.ts";

// Rows of test/fixtures/multi-gpu.csv (H100 load row with the sw_power_cap mask; RTX 2080 SUPER; "Some Other GPU").
const H100 =
  "0, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H100 80GB HBM3, 100, 11, 19818, 81559, 59, 631.95, 700.00, 1980, 2619, P0, 0x0000000000000004, Enabled";
const RTX =
  "1, GPU-df6e7a7c-7314-46f8-abc4-b88b36dcf3aa, NVIDIA GeForce RTX 2080 SUPER, [N/A], [Not Supported], 575, [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [Not Supported], [N/A]";

const read = (line: string, patch: Partial<GpuReading> = {}): GpuReading => ({
  ...parseGpuLine(line, GPU_QUERY_FIELDS)!,
  ...patch,
});
const snap = (time: number, ...gpus: GpuReading[]): GpuSnapshot => ({ time, gpus });

/** A stand-in for core's `metric` hook: its taps list and `call`. */
function sink() {
  const samples: MetricSample[] = [];
  const taps: ((s: MetricSample) => void)[] = [];
  const hook = {
    taps,
    call(
      name: string,
      value: number,
      labels: Readonly<Record<string, string>>,
      unit: string | undefined,
      type: MetricSample["type"],
      time: number,
    ) {
      const s: MetricSample = { name, value, labels, time, unit, type, runId: undefined };
      for (const t of taps) t(s);
    },
  };
  const tap = () => taps.push((s) => samples.push(s));
  return { hook, samples, tap };
}

const names = (samples: MetricSample[]) => samples.map((s) => s.name);
const count = (samples: MetricSample[], name: string) => samples.filter((s) => s.name === name).length;

describe("GpuMetricPublisher", () => {
  it("publishes every per-sample gauge each snapshot, stamped with the snapshot time, in core's sample shape", () => {
    const { hook, samples, tap } = sink();
    tap();
    const pub = new GpuMetricPublisher(hook);
    pub.publish(snap(1000, read(H100), read(RTX)));
    pub.publish(snap(1050, read(H100), read(RTX)));
    const second = samples.filter((s) => s.time === 1050);
    expect(samples.every((s) => s.time === 1000 || s.time === 1050)).toBe(true);
    for (const name of [
      GPU_METRICS.utilization,
      GPU_METRICS.memoryUtilization,
      GPU_METRICS.memoryUsedRatio,
      GPU_METRICS.temperature,
      GPU_METRICS.powerDraw,
      GPU_METRICS.energy,
      GPU_METRICS.smClock,
      GPU_METRICS.memoryClock,
      GPU_METRICS.pstate,
    ]) {
      expect(count(second, name)).toBe(1);
    }
    expect(count(second, GPU_METRICS.memoryUsed)).toBe(2); // both GPUs
    expect(count(second, GPU_METRICS.throttle)).toBe(THROTTLE_REASONS.length);
    const util = second.find((s) => s.name === GPU_METRICS.utilization)!;
    expect(Object.keys(util)).toEqual(["name", "value", "labels", "time", "unit", "type", "runId"]);
    expect(util).toMatchObject({
      value: 1,
      unit: "ratio",
      labels: { gpu: "0", uuid: "GPU-00000000-0000-0000-0000-000000000000", name: "NVIDIA H100 80GB HBM3" },
    });
    const energy = second.find((s) => s.name === GPU_METRICS.energy)!;
    expect(energy).toMatchObject({ type: "counter", unit: "joules" });
    expect(energy.value).toBeCloseTo(631.95 * 0.05);
    const powerCap = second.find(
      (s) => s.name === GPU_METRICS.throttle && s.labels.reason === "sw_power_cap",
    )!;
    expect(powerCap.value).toBe(1);
    expect(powerCap.labels).toMatchObject({ gpu: "0", name: "NVIDIA H100 80GB HBM3" });
    expect(second.find((s) => s.name === GPU_METRICS.pstate)!.value).toBe(0);
    // label objects are built once per GPU and shared (frozen, so one tap cannot corrupt another's)
    const first = samples.find((s) => s.name === GPU_METRICS.utilization)!;
    expect(util.labels).toBe(first.labels);
    expect(Object.isFrozen(util.labels)).toBe(true);
  });

  it("publishes memory total, power limit and persistence mode when they change and at least every refresh", () => {
    const { hook, samples, tap } = sink();
    tap();
    const pub = new GpuMetricPublisher(hook, 1000);
    const slow = [GPU_METRICS.memoryTotal, GPU_METRICS.powerLimit, GPU_METRICS.persistenceMode];
    const slowAt = (time: number) =>
      names(samples.filter((s) => s.time === time && slow.includes(s.name as never)));
    pub.publish(snap(0, read(H100)));
    expect(slowAt(0).sort()).toEqual([...slow].sort());
    pub.publish(snap(500, read(H100)));
    expect(slowAt(500)).toEqual([]);
    pub.publish(snap(600, read(H100, { powerLimitWatts: 450 })));
    expect(
      samples.filter((s) => s.time === 600 && s.name === GPU_METRICS.powerLimit).map((s) => s.value),
    ).toEqual([450]);
    expect(slowAt(600)).toEqual([GPU_METRICS.powerLimit]);
    pub.publish(snap(700, read(H100, { powerLimitWatts: 450, persistenceMode: false })));
    expect(slowAt(700)).toEqual([GPU_METRICS.persistenceMode]);
    expect(samples.find((s) => s.time === 700 && s.name === GPU_METRICS.persistenceMode)!.value).toBe(0);
    pub.publish(snap(999, read(H100, { powerLimitWatts: 450, persistenceMode: false })));
    expect(slowAt(999)).toEqual([]);
    pub.publish(snap(1000, read(H100, { powerLimitWatts: 450, persistenceMode: false })));
    expect(slowAt(1000).sort()).toEqual([...slow].sort()); // the refresh
    // the per-sample gauges never skip
    for (const t of [0, 500, 600, 700, 999, 1000]) {
      expect(samples.filter((s) => s.time === t && s.name === GPU_METRICS.utilization)).toHaveLength(1);
      expect(samples.filter((s) => s.time === t && s.name === GPU_METRICS.throttle)).toHaveLength(
        THROTTLE_REASONS.length,
      );
    }
  });

  it("publishes nothing without a tap, yet keeps the energy counter continuous for a later tap", () => {
    const { hook, samples, tap } = sink();
    const pub = new GpuMetricPublisher(hook);
    pub.publish(snap(0, read(H100, { powerDrawWatts: 100 })));
    pub.publish(snap(10_000, read(H100, { powerDrawWatts: 100 })));
    expect(samples).toHaveLength(0);
    tap();
    pub.publish(snap(11_000, read(H100, { powerDrawWatts: 300 })));
    // one second from the last reading (200 W mean), not eleven since the first
    expect(samples.find((s) => s.name === GPU_METRICS.energy)!.value).toBeCloseTo(200);
    // a tap that comes late still gets the slow gauges at once
    expect(count(samples, GPU_METRICS.memoryTotal)).toBe(1);
  });

  it("starts a GPU's series afresh when another board takes its index", () => {
    const { hook, samples, tap } = sink();
    tap();
    const pub = new GpuMetricPublisher(hook);
    pub.publish(snap(0, read(H100)));
    pub.publish(snap(50, read(H100, { uuid: "GPU-11111111-0000-0000-0000-000000000000", name: "Other" })));
    const util = samples.filter((s) => s.name === GPU_METRICS.utilization);
    expect(util.map((s) => s.labels.uuid)).toEqual([
      "GPU-00000000-0000-0000-0000-000000000000",
      "GPU-11111111-0000-0000-0000-000000000000",
    ]);
    expect(util[1]!.labels.name).toBe("Other");
    expect(count(samples, GPU_METRICS.energy)).toBe(0); // no integration across boards
    expect(
      count(
        samples.filter((s) => s.time === 50),
        GPU_METRICS.memoryTotal,
      ),
    ).toBe(1);
  });

  it("labels per-process memory with the GPU's labels and the pid", () => {
    const { hook, samples, tap } = sink();
    tap();
    const pub = new GpuMetricPublisher(hook);
    pub.publish(snap(0, read(H100)));
    const uuid = "GPU-00000000-0000-0000-0000-000000000000";
    pub.publishProcesses({
      time: 5,
      processes: [
        { uuid, pid: 42, memoryUsedBytes: 1024 },
        { uuid: "GPU-unknown", pid: 43, memoryUsedBytes: 2048 },
        { uuid, pid: 44 },
      ],
      memoryByGpu: new Map([[uuid, 1024]]),
    });
    const proc = samples.filter((s) => s.name === GPU_METRICS.processMemory);
    expect(proc.map((s) => s.labels)).toEqual([
      { gpu: "0", uuid, name: "NVIDIA H100 80GB HBM3", pid: "42" },
      { uuid: "GPU-unknown", pid: "43" },
    ]);
    expect(proc.map((s) => [s.value, s.time, s.unit])).toEqual([
      [1024, 5, "bytes"],
      [2048, 5, "bytes"],
    ]);
  });
});
