import type { MetricSample } from "@tapline/core";
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

/**
 * @internal Where samples go: the plugin passes `api.metric` (and the metric hook's taps, to skip the work when
 * nobody listens). One call per sample, all stamped with the snapshot's time.
 */
export interface MetricSink {
  readonly taps: readonly unknown[];
  /** One sample, as positional arguments: the caller builds (or reuses) whatever object its target needs. */
  call(
    name: string,
    value: number,
    labels: Readonly<Record<string, string>>,
    unit: string | undefined,
    type: MetricSample["type"],
    time: number,
  ): void;
}

/**
 * Slow-changing gauges (memory total, power limit, persistence mode) are published when they change and at
 * least this often (ms), so windowed rules and stores that expire silent series still see them.
 */
export const SLOW_METRICS_REFRESH_MS = 60_000;

const RATIO = "ratio";
const BYTES = "bytes";
const CELSIUS = "celsius";
const WATTS = "watts";
const HERTZ = "hertz";

/** Per-GPU state: label objects built once, the energy integrator, the slow gauges last published. */
interface GpuSeries {
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly throttle: readonly Readonly<Record<string, string>>[];
  lastPower: number | undefined;
  lastTime: number | undefined;
  memoryTotal: number | undefined;
  powerLimit: number | undefined;
  persistence: number | undefined;
  /** When the slow gauges were last all published (refresh), or -Infinity. */
  slowAt: number;
}

/**
 * @internal Turns snapshots into metric samples. Per GPU it keeps the label objects (built once, so a sample
 * allocates nothing but the sample itself), the last power reading for the energy counter and the slow gauges
 * last published. With no tap on the `metric` hook it publishes nothing and only keeps the energy integrator
 * current (core would drop the samples anyway).
 */
export class GpuMetricPublisher {
  /** By nvidia-smi index; the entry is rebuilt when the UUID or name at that index changes. */
  readonly #gpus: (GpuSeries | undefined)[] = [];
  readonly #sink: MetricSink;
  readonly #refreshMs: number;

  constructor(sink: MetricSink, refreshMs = SLOW_METRICS_REFRESH_MS) {
    this.#sink = sink;
    this.#refreshMs = refreshMs;
  }

  #series(g: GpuReading): GpuSeries {
    const s = this.#gpus[g.index];
    if (s !== undefined && s.uuid === g.uuid && s.name === g.name) return s;
    const labels = Object.freeze({ gpu: String(g.index), uuid: g.uuid, name: g.name });
    const created: GpuSeries = {
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      labels,
      throttle: THROTTLE_REASONS.map((r) =>
        Object.freeze({ gpu: labels.gpu, uuid: g.uuid, name: g.name, reason: r.reason }),
      ),
      lastPower: undefined,
      lastTime: undefined,
      memoryTotal: undefined,
      powerLimit: undefined,
      persistence: undefined,
      slowAt: Number.NEGATIVE_INFINITY,
    };
    this.#gpus[g.index] = created;
    return created;
  }

  publish(snapshot: GpuSnapshot): void {
    const sink = this.#sink;
    const time = snapshot.time;
    const gpus = snapshot.gpus;
    if (sink.taps.length === 0) {
      for (let i = 0; i < gpus.length; i++) {
        const g = gpus[i]!;
        if (g.powerDrawWatts === undefined) continue;
        const s = this.#series(g);
        s.lastPower = g.powerDrawWatts;
        s.lastTime = time;
      }
      return;
    }
    for (let i = 0; i < gpus.length; i++) {
      const g = gpus[i]!;
      const s = this.#series(g);
      const l = s.labels;
      const refresh = time - s.slowAt >= this.#refreshMs;
      if (refresh) s.slowAt = time;
      if (g.utilization !== undefined) gauge(sink, GPU_METRICS.utilization, g.utilization, l, RATIO, time);
      if (g.memoryUtilization !== undefined) {
        gauge(sink, GPU_METRICS.memoryUtilization, g.memoryUtilization, l, RATIO, time);
      }
      const used = g.memoryUsedBytes;
      const total = g.memoryTotalBytes;
      if (used !== undefined) gauge(sink, GPU_METRICS.memoryUsed, used, l, BYTES, time);
      if (total !== undefined && (refresh || total !== s.memoryTotal)) {
        s.memoryTotal = total;
        gauge(sink, GPU_METRICS.memoryTotal, total, l, BYTES, time);
      }
      if (used !== undefined && total) gauge(sink, GPU_METRICS.memoryUsedRatio, used / total, l, RATIO, time);
      if (g.temperatureCelsius !== undefined) {
        gauge(sink, GPU_METRICS.temperature, g.temperatureCelsius, l, CELSIUS, time);
      }
      const power = g.powerDrawWatts;
      if (power !== undefined) {
        gauge(sink, GPU_METRICS.powerDraw, power, l, WATTS, time);
        if (s.lastPower !== undefined && s.lastTime !== undefined && time > s.lastTime) {
          const joules = ((s.lastPower + power) / 2) * ((time - s.lastTime) / 1000);
          sink.call(GPU_METRICS.energy, joules, l, "joules", "counter", time);
        }
        s.lastPower = power;
        s.lastTime = time;
      }
      const limit = g.powerLimitWatts;
      if (limit !== undefined && (refresh || limit !== s.powerLimit)) {
        s.powerLimit = limit;
        gauge(sink, GPU_METRICS.powerLimit, limit, l, WATTS, time);
      }
      if (g.smClockHz !== undefined) gauge(sink, GPU_METRICS.smClock, g.smClockHz, l, HERTZ, time);
      if (g.memoryClockHz !== undefined)
        gauge(sink, GPU_METRICS.memoryClock, g.memoryClockHz, l, HERTZ, time);
      if (g.pstate !== undefined) {
        const p = pstateNumber(g.pstate);
        if (p !== undefined) gauge(sink, GPU_METRICS.pstate, p, l, undefined, time);
      }
      const mask = g.throttleMask;
      if (mask !== undefined) {
        const throttle = s.throttle;
        for (let r = 0; r < THROTTLE_REASONS.length; r++) {
          const active = (mask & THROTTLE_REASONS[r]!.bit) !== 0 ? 1 : 0;
          gauge(sink, GPU_METRICS.throttle, active, throttle[r]!, undefined, time);
        }
      }
      if (g.persistenceMode !== undefined) {
        const mode = g.persistenceMode ? 1 : 0;
        if (refresh || mode !== s.persistence) {
          s.persistence = mode;
          gauge(sink, GPU_METRICS.persistenceMode, mode, l, undefined, time);
        }
      }
    }
  }

  publishProcesses(snapshot: GpuProcessSnapshot): void {
    const sink = this.#sink;
    if (sink.taps.length === 0) return;
    for (const p of snapshot.processes) {
      if (p.memoryUsedBytes === undefined) continue;
      const gpu = this.#gpus.find((s) => s?.uuid === p.uuid);
      gauge(
        sink,
        GPU_METRICS.processMemory,
        p.memoryUsedBytes,
        { ...(gpu?.labels ?? { uuid: p.uuid }), pid: String(p.pid) },
        BYTES,
        snapshot.time,
      );
    }
  }
}

/** One gauge sample. */
function gauge(
  sink: MetricSink,
  name: string,
  value: number,
  labels: Readonly<Record<string, string>>,
  unit: string | undefined,
  time: number,
): void {
  sink.call(name, value, labels, unit, undefined, time);
}

/** `P0`..`P15` -> 0..15 without allocating; undefined for anything else. */
function pstateNumber(pstate: string): number | undefined {
  const n = pstate.length;
  if ((n !== 2 && n !== 3) || pstate.charCodeAt(0) !== 80 /* P */) return undefined;
  let v = 0;
  for (let i = 1; i < n; i++) {
    const d = pstate.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}
