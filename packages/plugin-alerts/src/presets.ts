import type { AlertLevel } from "@tapline/core";
import type { Duration } from "./duration.ts";
import { STEP_DURATION_METRIC, STEP_FAILED_METRIC } from "./manager.ts";
import type { MatcherInput } from "./matchers.ts";
import type { AlertRuleInput, LevelInput } from "./rules.ts";
import { parseConfig, presetSchema } from "./schemas.ts";

/** Options every preset accepts on top of its own. */
export interface PresetOptions {
  /** Rule name (alertname). */
  readonly name?: string;
  /** Narrow the preset to some series. */
  readonly match?: MatcherInput;
  readonly for?: Duration;
  readonly keepFiringFor?: Duration;
  /** Extra labels on the alerts. */
  readonly labels?: Readonly<Record<string, string>>;
}

type Levels = Partial<Record<AlertLevel, LevelInput>>;

function levels(pairs: [AlertLevel, number | undefined, number | undefined][]): Levels {
  const out: Levels = {};
  for (const [level, threshold, clear] of pairs)
    if (threshold !== undefined) out[level] = clear === undefined ? threshold : { threshold, clear };
  return out;
}

function common(o: PresetOptions) {
  return {
    ...(o.match !== undefined && { match: o.match }),
    ...(o.for !== undefined && { for: o.for }),
    ...(o.keepFiringFor !== undefined && { keepFiringFor: o.keepFiringFor }),
    ...(o.labels !== undefined && { labels: o.labels }),
  };
}

const StepFailureRateOptions = presetSchema(["warning", "critical", "window", "minSamples"]);

/**
 * Step failure rate per (pipeline, step) over a window. Fed by the plugin from `stepEnd` (or by
 * `manager.stepEnded()` standalone). Fires "step tts failing 62% over 5m".
 */
function stepFailureRate(
  o: PresetOptions & { warning?: number; critical?: number; window?: Duration; minSamples?: number } = {},
): AlertRuleInput {
  parseConfig(StepFailureRateOptions, o, { subject: "stepFailureRate()" });
  const warning = o.warning ?? 0.2;
  const critical = o.critical ?? 0.5;
  return {
    name: o.name ?? "StepFailureRate",
    metric: STEP_FAILED_METRIC,
    by: ["pipeline", "step"],
    aggregate: "mean",
    window: o.window ?? "5m",
    minSamples: o.minSamples ?? 5,
    levels: levels([
      ["warning", warning, warning * 0.75],
      ["critical", critical, critical * 0.8],
    ]),
    unit: "ratio",
    message: "step {{labels.step}} failing {{value}} over {{window}}",
    ...common(o),
  };
}

const StepP95Options = presetSchema(["warning", "critical", "window", "minSamples"]);

/** p95 of successful step durations per (pipeline, step), in seconds, against limits. */
function stepP95(
  o: PresetOptions & { warning?: number; critical?: number; window?: Duration; minSamples?: number } = {},
): AlertRuleInput {
  parseConfig(StepP95Options, o, { subject: "stepP95()" });
  const warning = o.warning ?? 60;
  return {
    name: o.name ?? "StepSlow",
    metric: STEP_DURATION_METRIC,
    by: ["pipeline", "step"],
    aggregate: "p95",
    window: o.window ?? "15m",
    minSamples: o.minSamples ?? 5,
    levels: levels([
      ["warning", warning, warning * 0.9],
      ["critical", o.critical, o.critical === undefined ? undefined : o.critical * 0.9],
    ]),
    unit: "seconds",
    message: "step {{labels.step}} p95 {{value}} over {{window}} (limit {{threshold}})",
    ...common(o),
  };
}

const BreakerOpenOptions = presetSchema(["level"]);

/** A circuit breaker open or isolated (`tapline_breaker_state` ≥ 2, published by plugin-retry). */
function breakerOpen(o: PresetOptions & { level?: AlertLevel } = {}): AlertRuleInput {
  parseConfig(BreakerOpenOptions, o, { subject: "breakerOpen()" });
  return {
    name: o.name ?? "BreakerOpen",
    metric: "tapline_breaker_state",
    by: ["breaker"],
    aggregate: "last",
    op: ">=",
    levels: { [o.level ?? "error"]: 2 },
    message: "breaker {{labels.breaker}} open",
    ...common(o),
  };
}

const ValidationFailuresOptions = presetSchema(["warning", "critical", "window"]);

/** Validation failures per (pipeline, step, check) within a window (`tapline_validation_failures_total` increments). */
function validationFailures(
  o: PresetOptions & { warning?: number; critical?: number; window?: Duration } = {},
): AlertRuleInput {
  parseConfig(ValidationFailuresOptions, o, { subject: "validationFailures()" });
  return {
    name: o.name ?? "ValidationFailures",
    metric: "tapline_validation_failures_total",
    by: ["pipeline", "step", "check"],
    aggregate: "sum",
    window: o.window ?? "15m",
    op: ">=",
    levels: levels([
      ["warning", o.warning ?? 1, undefined],
      ["critical", o.critical, undefined],
    ]),
    message: "{{value}} validation failures of {{labels.check}} in step {{labels.step}} over {{window}}",
    ...common(o),
  };
}

const DiskAlmostFullOptions = presetSchema(["warning", "critical"]);

/** Disk almost full, per mount (`tapline_system_disk_used_ratio`). */
function diskAlmostFull(o: PresetOptions & { warning?: number; critical?: number } = {}): AlertRuleInput {
  parseConfig(DiskAlmostFullOptions, o, { subject: "diskAlmostFull()" });
  const warning = o.warning ?? 0.85;
  const critical = o.critical ?? 0.95;
  return {
    name: o.name ?? "DiskAlmostFull",
    metric: "tapline_system_disk_used_ratio",
    by: ["mount"],
    aggregate: "last",
    levels: levels([
      ["warning", warning, warning - 0.03],
      ["critical", critical, critical - 0.02],
    ]),
    unit: "ratio",
    message: "disk {{labels.mount}} {{value}} full",
    ...common(o),
  };
}

const MemoryHighOptions = presetSchema(["warning", "critical", "window"]);

/** Memory high (`tapline_system_memory_used_ratio`, mean over a minute). */
function memoryHigh(
  o: PresetOptions & { warning?: number; critical?: number; window?: Duration } = {},
): AlertRuleInput {
  parseConfig(MemoryHighOptions, o, { subject: "memoryHigh()" });
  const warning = o.warning ?? 0.9;
  const critical = o.critical ?? 0.97;
  return {
    name: o.name ?? "MemoryHigh",
    metric: "tapline_system_memory_used_ratio",
    aggregate: "mean",
    window: o.window ?? "1m",
    levels: levels([
      ["warning", warning, warning - 0.05],
      ["critical", critical, critical - 0.02],
    ]),
    unit: "ratio",
    message: "memory {{value}} used (mean over {{window}})",
    ...common(o),
  };
}

const GpuHotOptions = presetSchema(["warning", "critical", "window"]);

/** GPU hot, per GPU (`nvidia_gpu_temperature_celsius`, mean over a minute); clears 5 °C lower. */
function gpuHot(
  o: PresetOptions & { warning?: number; critical?: number; window?: Duration } = {},
): AlertRuleInput {
  parseConfig(GpuHotOptions, o, { subject: "gpuHot()" });
  const warning = o.warning ?? 83;
  const critical = o.critical ?? 90;
  return {
    name: o.name ?? "GpuHot",
    metric: "nvidia_gpu_temperature_celsius",
    by: ["gpu", "uuid", "name"],
    aggregate: "mean",
    window: o.window ?? "1m",
    levels: levels([
      ["warning", warning, warning - 5],
      ["critical", critical, critical - 5],
    ]),
    unit: "celsius",
    message: "GPU {{labels.gpu}} at {{value}}",
    ...common(o),
  };
}

const GpuMemoryNearFullOptions = presetSchema(["warning", "critical"]);

/** GPU memory near full, per GPU: `nvidia_gpu_memory_used_bytes / nvidia_gpu_memory_total_bytes`. */
function gpuMemoryNearFull(o: PresetOptions & { warning?: number; critical?: number } = {}): AlertRuleInput {
  parseConfig(GpuMemoryNearFullOptions, o, { subject: "gpuMemoryNearFull()" });
  const warning = o.warning ?? 0.9;
  const critical = o.critical ?? 0.97;
  return {
    name: o.name ?? "GpuMemoryNearFull",
    metric: "nvidia_gpu_memory_used_bytes",
    divideBy: "nvidia_gpu_memory_total_bytes",
    by: ["gpu", "uuid", "name"],
    aggregate: "last",
    levels: levels([
      ["warning", warning, warning - 0.05],
      ["critical", critical, critical - 0.02],
    ]),
    unit: "ratio",
    message: "GPU {{labels.gpu}} memory {{value}} used",
    ...common(o),
  };
}

const StuckStepOptions = presetSchema(["after", "level"], false);

/** A step running longer than `after` (default 10m) without finishing; resolves when it ends. */
function stuckStep(
  o: Omit<PresetOptions, "for" | "keepFiringFor"> & { after?: Duration; level?: AlertLevel } = {},
): AlertRuleInput {
  parseConfig(StuckStepOptions, o, { subject: "stuckStep()" });
  return {
    name: o.name ?? "StepStuck",
    kind: "stuck-step",
    after: o.after ?? "10m",
    level: o.level ?? "warning",
    ...(o.match !== undefined && { match: o.match }),
    ...(o.labels !== undefined && { labels: o.labels }),
  };
}

const PluginErrorsOptions = presetSchema(["warning", "window"]);

/** Errors of other plugins (`tapline_alerts_plugin_errors`, fed by the plugin from `pluginError`) per plugin and hook. */
function pluginErrors(o: PresetOptions & { warning?: number; window?: Duration } = {}): AlertRuleInput {
  parseConfig(PluginErrorsOptions, o, { subject: "pluginErrors()" });
  return {
    name: o.name ?? "PluginErrors",
    metric: "tapline_alerts_plugin_errors",
    by: ["plugin", "hook"],
    aggregate: "sum",
    window: o.window ?? "5m",
    op: ">=",
    levels: { warning: o.warning ?? 1 },
    message: "plugin {{labels.plugin}} failed {{value}}× in hook {{labels.hook}} over {{window}}",
    ...common(o),
  };
}

/**
 * Ready-made rules on the metric names of the cross-package contract, to put in `rules: [...]`. Each returns an
 * {@link AlertRuleInput}; its options are checked at once (a misspelt key throws an `AlertConfigError` with the
 * closest known one). Thresholds are `warning`/`critical`, with clear thresholds a little below (hysteresis).
 *
 * @example
 * alerts({
 *   rules: [
 *     presets.stepFailureRate({ warning: 0.2, critical: 0.5, window: "5m" }),
 *     presets.stuckStep({ after: "20m", match: { step: "render" } }),
 *     presets.diskAlmostFull(),
 *   ],
 * });
 */
export const presets = {
  stepFailureRate,
  stepP95,
  stuckStep,
  breakerOpen,
  validationFailures,
  pluginErrors,
  diskAlmostFull,
  memoryHigh,
  gpuHot,
  gpuMemoryNearFull,
} as const;
