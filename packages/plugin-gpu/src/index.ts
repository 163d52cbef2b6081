export { type GpuAdapter, listGpuAdapters } from "./adapters.ts";
export {
  type AlertPresetLevel,
  type GpuAlertPreset,
  gpuAlertPresets,
  gpuHotPreset,
  gpuMemoryNearFullPreset,
  gpuThrottlingPreset,
  type LabelMatcher,
} from "./alert-presets.ts";
export { COMPUTE_APPS_ARGS, type GpuProcess, parseComputeApps } from "./compute-apps.ts";
export {
  type GpuErrorCode,
  GpuOptionsError,
  GpuUnavailableError,
  type GpuUnavailableReason,
  isGpuOptionsError,
  isGpuUnavailableError,
  isNvidiaSmiExitedError,
  NvidiaSmiExitedError,
} from "./errors.ts";
export { GPU_METRICS } from "./metrics.ts";
export type { NvidiaSmiOptions, RestartOptions, WatchGpusOptions } from "./options.ts";
export { gpu } from "./plugin.ts";
export type { GpuPluginOptions, GpuStepOptions } from "./plugin-options.ts";
export { processTree } from "./process-tree.ts";
export {
  GPU_QUERY_FIELDS,
  type GpuQueryField,
  type GpuReading,
  type GpuSnapshot,
  parseGpuLine,
} from "./reading.ts";
export { type SampleGpusOptions, sampleGpus } from "./sample.ts";
export { type GpuDeviceUsage, type GpuStepUsage, GpuUsageTracker } from "./step-usage.ts";
export { decodeThrottleMask, THROTTLE_REASONS, THROTTLING_REASONS, type ThrottleReason } from "./throttle.ts";
export {
  type GpuProcessSnapshot,
  type GpuWatcher,
  type GpuWatcherHandlers,
  type GpuWatcherState,
  type GpuWatcherStatus,
  watchGpus,
} from "./watcher.ts";
