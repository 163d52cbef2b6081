import type { GpuReading, GpuSnapshot } from "./reading.ts";
import { THROTTLE_REASONS } from "./throttle.ts";
import type { GpuProcessSnapshot } from "./watcher.ts";

/** Metric names published by the plugin (nvidia_gpu_exporter style: base units, ratios 0..1). */
export const GPU_METRICS = {
  utilization: "nvidia_gpu_utilization_ratio",
  memoryUtilization: "nvidia_gpu_memory_utilization_ratio",
  memoryUsed: "nvidia_gpu_memory_used_bytes",
  memoryTotal: "nvidia_gpu_memory_total_bytes",
  memoryUsedRatio: "nvidia_gpu_memory_used_ratio",
  temperature: "nvidia_gpu_temperature_celsius",
  powerDraw: "nvidia_gpu_power_draw_watts",
  powerLimit: "nvidia_gpu_power_limit_watts",
  energy: "nvidia_gpu_energy_joules_total",
  smClock: "nvidia_gpu_sm_clock_hertz",
  memoryClock: "nvidia_gpu_memory_clock_hertz",
  pstate: "nvidia_gpu_pstate",
  throttle: "nvidia_gpu_throttle_active",
  persistenceMode: "nvidia_gpu_persistence_mode",
  processMemory: "nvidia_gpu_process_memory_used_bytes",
} as const;

/** @internal Where samples go: `api.metric`'s signature. */
export type Emit = (
  name: string,
  value: number,
  labels: Record<string, string>,
  options: { unit?: string; type?: "gauge" | "counter" },
) => void;

const RATIO = { unit: "ratio" } as const;
const BYTES = { unit: "bytes" } as const;
const CELSIUS = { unit: "celsius" } as const;
const WATTS = { unit: "watts" } as const;
const HERTZ = { unit: "hertz" } as const;
const NONE = {} as const;
const JOULES = { unit: "joules", type: "counter" } as const;

interface GpuLabels {
  base: Record<string, string>;
  throttle: Record<string, string>[];
  lastPower: number | undefined;
  lastTime: number | undefined;
}

/**
 * @internal Turns snapshots into metric samples. Keeps per-GPU label objects (built once per GPU, so a
 * sample allocates nothing but the sample itself) and the last power reading for the energy counter.
 */
export class GpuMetricPublisher {
  readonly #gpus = new Map<string, GpuLabels>();
  private readonly emit: Emit;
  constructor(emit: Emit) {
    this.emit = emit;
  }

  #labels(g: GpuReading): GpuLabels {
    let l = this.#gpus.get(g.uuid);
    if (!l || l.base.gpu !== String(g.index)) {
      const base = { gpu: String(g.index), uuid: g.uuid, name: g.name };
      l = {
        base,
        throttle: THROTTLE_REASONS.map((r) => ({ ...base, reason: r.reason })),
        lastPower: undefined,
        lastTime: undefined,
      };
      this.#gpus.set(g.uuid, l);
    }
    return l;
  }

  publish(snapshot: GpuSnapshot): void {
    const emit = this.emit;
    for (const g of snapshot.gpus) {
      const l = this.#labels(g);
      const b = l.base;
      if (g.utilization !== undefined) emit(GPU_METRICS.utilization, g.utilization, b, RATIO);
      if (g.memoryUtilization !== undefined)
        emit(GPU_METRICS.memoryUtilization, g.memoryUtilization, b, RATIO);
      if (g.memoryUsedBytes !== undefined) emit(GPU_METRICS.memoryUsed, g.memoryUsedBytes, b, BYTES);
      if (g.memoryTotalBytes !== undefined) emit(GPU_METRICS.memoryTotal, g.memoryTotalBytes, b, BYTES);
      if (g.memoryUsedBytes !== undefined && g.memoryTotalBytes) {
        emit(GPU_METRICS.memoryUsedRatio, g.memoryUsedBytes / g.memoryTotalBytes, b, RATIO);
      }
      if (g.temperatureCelsius !== undefined) emit(GPU_METRICS.temperature, g.temperatureCelsius, b, CELSIUS);
      if (g.powerDrawWatts !== undefined) {
        emit(GPU_METRICS.powerDraw, g.powerDrawWatts, b, WATTS);
        if (l.lastPower !== undefined && l.lastTime !== undefined && snapshot.time > l.lastTime) {
          const joules = ((l.lastPower + g.powerDrawWatts) / 2) * ((snapshot.time - l.lastTime) / 1000);
          emit(GPU_METRICS.energy, joules, b, JOULES);
        }
        l.lastPower = g.powerDrawWatts;
        l.lastTime = snapshot.time;
      }
      if (g.powerLimitWatts !== undefined) emit(GPU_METRICS.powerLimit, g.powerLimitWatts, b, WATTS);
      if (g.smClockHz !== undefined) emit(GPU_METRICS.smClock, g.smClockHz, b, HERTZ);
      if (g.memoryClockHz !== undefined) emit(GPU_METRICS.memoryClock, g.memoryClockHz, b, HERTZ);
      if (g.pstate !== undefined) {
        const p = Number(g.pstate.slice(1));
        if (Number.isInteger(p)) emit(GPU_METRICS.pstate, p, b, NONE);
      }
      if (g.throttleMask !== undefined) {
        for (let i = 0; i < THROTTLE_REASONS.length; i++) {
          emit(
            GPU_METRICS.throttle,
            (g.throttleMask & THROTTLE_REASONS[i]!.bit) !== 0 ? 1 : 0,
            l.throttle[i]!,
            NONE,
          );
        }
      }
      if (g.persistenceMode !== undefined)
        emit(GPU_METRICS.persistenceMode, g.persistenceMode ? 1 : 0, b, NONE);
    }
  }

  publishProcesses(snapshot: GpuProcessSnapshot): void {
    for (const p of snapshot.processes) {
      if (p.memoryUsedBytes === undefined) continue;
      const gpu = [...this.#gpus.values()].find((l) => l.base.uuid === p.uuid);
      this.emit(
        GPU_METRICS.processMemory,
        p.memoryUsedBytes,
        { ...(gpu?.base ?? { uuid: p.uuid }), pid: String(p.pid) },
        BYTES,
      );
    }
  }
}
