/**
 * `@tapline/plugin-gpu`: the plugin (`gpu()`), the standalone sampling it is built from (`watchGpus`,
 * `sampleGpus`, `GpuUsageTracker`), the parser of nvidia-smi's `--query-gpu` lines, the metric names it
 * publishes and the alert presets on them. Errors are checked with core's `isTaplineError(e, code)`.
 */
export { type GpuAdapter, listGpuAdapters } from "./adapters.ts";
export {
  type AlertPresetLevel,
  type GpuAlertPreset,
  gpuAlertPresets,
  type LabelMatcher,
} from "./alert-presets.ts";
export type { GpuProcess } from "./compute-apps.ts";
export type {
  GpuErrorCode,
  GpuOptionsError,
  GpuUnavailableError,
  GpuUnavailableReason,
  NvidiaSmiExitedError,
} from "./errors.ts";
export { GPU_METRICS } from "./metrics.ts";
export type { NvidiaSmiOptions, RestartOptions, WatchGpusOptions } from "./options.ts";
export { gpu } from "./plugin.ts";
export type { GpuPluginOptions, GpuStepOptions } from "./plugin-options.ts";
export {
  GPU_QUERY_FIELDS,
  type GpuQueryField,
  type GpuReading,
  type GpuSnapshot,
  parseGpuLine,
} from "./reading.ts";
export { type SampleGpusOptions, sampleGpus } from "./sample.ts";
export { type GpuDeviceUsage, type GpuStepUsage, GpuUsageTracker } from "./step-usage.ts";
export { THROTTLE_REASONS, THROTTLING_REASONS, type ThrottleReason } from "./throttle.ts";
export {
  type GpuProcessSnapshot,
  type GpuWatcher,
  type GpuWatcherHandlers,
  type GpuWatcherState,
  type GpuWatcherStatus,
  watchGpus,
} from "./watcher.ts";
