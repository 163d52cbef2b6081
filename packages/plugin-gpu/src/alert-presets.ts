import type { AlertLevel } from "@tapline/core";
import { THROTTLING_REASONS } from "./throttle.ts";

/** A Prometheus-style label matcher. */
export interface LabelMatcher {
  readonly label: string;
  /** `=` equal, `!=` not equal, `=~` matches the regular expression (anchored), `!~` does not. */
  readonly op: "=" | "!=" | "=~" | "!~";
  readonly value: string;
}

/** One level of a rule: fires above `above`, clears below `clearBelow` (hysteresis). */
export interface AlertPresetLevel {
  readonly level: AlertLevel;
  readonly above: number;
  readonly clearBelow: number;
}

/**
 * An alert rule as plain data (JSON-serialisable), for plugin-alerts or any rule engine: match samples by
 * metric name and label matchers, aggregate each series over `windowMs`, compare with the levels, fire after
 * `forMs`. One instance per value of the `groupBy` labels.
 */
export interface GpuAlertPreset {
  readonly name: string;
  readonly description: string;
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
  readonly aggregate: "last" | "mean" | "max" | "min";
  readonly windowMs: number;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly groupBy: readonly string[];
  readonly levels: readonly AlertPresetLevel[];
  /** Message template: `{{labels.x}}` and `{{value}}` are filled in by the engine. */
  readonly message: string;
}

const freeze = <T>(preset: T): T => Object.freeze(preset);

/** GPU too hot: max temperature over 1 min above 83 °C (warning) or 90 °C (critical), for 1 min. */
export const gpuHotPreset: GpuAlertPreset = freeze({
  name: "gpu_hot",
  description: "GPU temperature high; the card will throttle or shut down if it keeps rising",
  metric: "nvidia_gpu_temperature_celsius",
  matchers: [],
  aggregate: "max",
  windowMs: 60_000,
  forMs: 60_000,
  keepFiringForMs: 60_000,
  groupBy: ["gpu", "uuid", "name"],
  levels: [
    { level: "warning", above: 83, clearBelow: 78 },
    { level: "critical", above: 90, clearBelow: 85 },
  ],
  message: "GPU {{labels.gpu}} ({{labels.name}}) at {{value}} °C",
});

/** GPU memory near full: used/total above 90 % (warning) or 97 % (critical) for 30 s. */
export const gpuMemoryNearFullPreset: GpuAlertPreset = freeze({
  name: "gpu_memory_near_full",
  description: "GPU memory almost full; the next allocation may fail with out-of-memory",
  metric: "nvidia_gpu_memory_used_ratio",
  matchers: [],
  aggregate: "last",
  windowMs: 30_000,
  forMs: 30_000,
  keepFiringForMs: 30_000,
  groupBy: ["gpu", "uuid", "name"],
  levels: [
    { level: "warning", above: 0.9, clearBelow: 0.85 },
    { level: "critical", above: 0.97, clearBelow: 0.93 },
  ],
  message: "GPU {{labels.gpu}} ({{labels.name}}) memory {{value}} full",
});

/** GPU throttling: a power or thermal clock-event reason active more than half of the last 2 min. */
export const gpuThrottlingPreset: GpuAlertPreset = freeze({
  name: "gpu_throttling",
  description: "GPU clocks reduced by power cap, thermal slowdown or power brake",
  metric: "nvidia_gpu_throttle_active",
  matchers: [
    {
      label: "reason",
      op: "=~",
      // The reasons that mean throttling, from their one list.
      value: [...THROTTLING_REASONS].join("|"),
    },
  ],
  aggregate: "mean",
  windowMs: 120_000,
  forMs: 60_000,
  keepFiringForMs: 60_000,
  groupBy: ["gpu", "uuid", "name", "reason"],
  levels: [{ level: "warning", above: 0.5, clearBelow: 0.1 }],
  message: "GPU {{labels.gpu}} ({{labels.name}}) throttled by {{labels.reason}}",
});

/** Every GPU preset, in one list. */
export const gpuAlertPresets: readonly GpuAlertPreset[] = Object.freeze([
  gpuHotPreset,
  gpuMemoryNearFullPreset,
  gpuThrottlingPreset,
]);
