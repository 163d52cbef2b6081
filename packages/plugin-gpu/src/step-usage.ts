import type { GpuReading, GpuSnapshot } from "./reading.ts";
import { THROTTLING_REASONS } from "./throttle.ts";
import type { GpuProcessSnapshot } from "./watcher.ts";

/** GPU usage of one GPU over a time span (a step). Absent fields: the GPU never reported them. */
export interface GpuDeviceUsage {
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  /** Readings that fell in the span (the reading current at the start counts as the first). */
  readonly samples: number;
  readonly utilizationPeak?: number;
  readonly utilizationMean?: number;
  readonly memoryUsedPeakBytes?: number;
  readonly memoryUsedMeanBytes?: number;
  readonly powerPeakWatts?: number;
  readonly temperaturePeakCelsius?: number;
  /** Power integrated over the span (trapezoids between readings, the last one held to the end), in joules. */
  readonly energyJoules?: number;
  /** Peak GPU memory held by this app's process tree on this GPU (from `--query-compute-apps`). */
  readonly processMemoryPeakBytes?: number;
  /** Clock event reasons seen active during the span that mean throttling (power, thermal). */
  readonly throttleReasons?: readonly string[];
}

/** What `ctx.annotate("gpu", ...)` attaches to a step's report. */
export interface GpuStepUsage {
  readonly durationMs: number;
  /**
   * How the GPUs were chosen: `option` (the step's `gpu.devices`), `process` (GPUs where this app's process
   * tree held memory during the step) or `all` (no better information: every GPU).
   */
  readonly attribution: "option" | "process" | "all";
  readonly gpus: readonly GpuDeviceUsage[];
  /** Sum of `energyJoules` over `gpus`. */
  readonly energyJoules: number;
}

interface Acc {
  index: number;
  uuid: string;
  name: string;
  samples: number;
  utilSum: number;
  utilN: number;
  utilPeak: number | undefined;
  memSum: number;
  memN: number;
  memPeak: number | undefined;
  powerPeak: number | undefined;
  tempPeak: number | undefined;
  energy: number | undefined;
  lastPowerTime: number | undefined;
  lastPower: number | undefined;
  processPeak: number | undefined;
  throttle: Set<string> | undefined;
}

const THROTTLING: ReadonlySet<string> = THROTTLING_REASONS;

/**
 * Accumulates GPU readings over a span (one step): peak and mean utilisation and memory, peak power and
 * temperature, energy by integrating power draw. Feed it snapshots with `add()`; `finish()` returns the usage.
 * Memory is O(GPUs), whatever the span's length.
 */
export class GpuUsageTracker {
  readonly #start: number;
  readonly #devices: ReadonlySet<number | string> | undefined;
  readonly #gpus = new Map<string, Acc>();
  readonly #processGpus = new Set<string>();

  /**
   * @param start epoch ms of the span's start
   * @param seed the snapshot current at the start (its readings count from `start`)
   * @param devices restrict to these GPU indexes or UUIDs
   */
  constructor(start: number, seed?: GpuSnapshot, devices?: readonly (number | string)[]) {
    this.#start = start;
    this.#devices = devices && devices.length > 0 ? new Set(devices) : undefined;
    if (seed) this.#addReadings(seed.gpus, start);
  }

  /** Adds a snapshot (ignored if older than the span's start). */
  add(snapshot: GpuSnapshot): void {
    if (snapshot.time < this.#start) return;
    this.#addReadings(snapshot.gpus, snapshot.time);
  }

  /** Adds a per-process snapshot of this app's tree. */
  addProcesses(snapshot: GpuProcessSnapshot): void {
    for (const [uuid, bytes] of snapshot.memoryByGpu) {
      this.#processGpus.add(uuid);
      const acc = this.#gpus.get(uuid);
      if (acc) acc.processPeak = Math.max(acc.processPeak ?? 0, bytes);
    }
  }

  #addReadings(gpus: readonly GpuReading[], time: number): void {
    for (const g of gpus) {
      if (this.#devices && !this.#devices.has(g.index) && !this.#devices.has(g.uuid)) continue;
      let acc = this.#gpus.get(g.uuid);
      if (!acc) {
        acc = {
          index: g.index,
          uuid: g.uuid,
          name: g.name,
          samples: 0,
          utilSum: 0,
          utilN: 0,
          utilPeak: undefined,
          memSum: 0,
          memN: 0,
          memPeak: undefined,
          powerPeak: undefined,
          tempPeak: undefined,
          energy: undefined,
          lastPowerTime: undefined,
          lastPower: undefined,
          processPeak: undefined,
          throttle: undefined,
        };
        this.#gpus.set(g.uuid, acc);
      }
      acc.samples++;
      if (g.utilization !== undefined) {
        acc.utilSum += g.utilization;
        acc.utilN++;
        acc.utilPeak = Math.max(acc.utilPeak ?? 0, g.utilization);
      }
      if (g.memoryUsedBytes !== undefined) {
        acc.memSum += g.memoryUsedBytes;
        acc.memN++;
        acc.memPeak = Math.max(acc.memPeak ?? 0, g.memoryUsedBytes);
      }
      if (g.temperatureCelsius !== undefined)
        acc.tempPeak = Math.max(acc.tempPeak ?? -Infinity, g.temperatureCelsius);
      if (g.powerDrawWatts !== undefined) {
        acc.powerPeak = Math.max(acc.powerPeak ?? 0, g.powerDrawWatts);
        if (acc.lastPowerTime !== undefined && acc.lastPower !== undefined && time > acc.lastPowerTime) {
          acc.energy =
            (acc.energy ?? 0) +
            ((acc.lastPower + g.powerDrawWatts) / 2) * ((time - acc.lastPowerTime) / 1000);
        }
        acc.energy ??= 0;
        acc.lastPowerTime = time;
        acc.lastPower = g.powerDrawWatts;
      }
      if (g.throttleReasons) {
        for (const r of g.throttleReasons) {
          if (!THROTTLING.has(r)) continue;
          acc.throttle ??= new Set();
          acc.throttle.add(r);
        }
      }
    }
  }

  /** Ends the span at `end` (epoch ms) and returns the usage. */
  finish(end: number): GpuStepUsage {
    let accs = [...this.#gpus.values()];
    let attribution: GpuStepUsage["attribution"] = this.#devices ? "option" : "all";
    if (!this.#devices && this.#processGpus.size > 0) {
      accs = accs.filter((a) => this.#processGpus.has(a.uuid));
      attribution = "process";
    }
    let total = 0;
    const gpus = accs
      .sort((a, b) => a.index - b.index)
      .map((a): GpuDeviceUsage => {
        let energy = a.energy;
        if (
          energy !== undefined &&
          a.lastPower !== undefined &&
          a.lastPowerTime !== undefined &&
          end > a.lastPowerTime
        ) {
          energy += a.lastPower * ((end - a.lastPowerTime) / 1000);
        }
        if (energy !== undefined) total += energy;
        return {
          index: a.index,
          uuid: a.uuid,
          name: a.name,
          samples: a.samples,
          ...(a.utilPeak !== undefined && {
            utilizationPeak: a.utilPeak,
            utilizationMean: a.utilSum / a.utilN,
          }),
          ...(a.memPeak !== undefined && {
            memoryUsedPeakBytes: a.memPeak,
            memoryUsedMeanBytes: a.memSum / a.memN,
          }),
          ...(a.powerPeak !== undefined && { powerPeakWatts: a.powerPeak }),
          ...(a.tempPeak !== undefined && { temperaturePeakCelsius: a.tempPeak }),
          ...(energy !== undefined && { energyJoules: energy }),
          ...(a.processPeak !== undefined && { processMemoryPeakBytes: a.processPeak }),
          ...(a.throttle && { throttleReasons: [...a.throttle] }),
        };
      });
    return { durationMs: Math.max(0, end - this.#start), attribution, gpus, energyJoules: total };
  }
}
