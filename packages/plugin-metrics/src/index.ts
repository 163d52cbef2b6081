export {
  isMetricsError,
  isMetricsOptionsError,
  isMetricsReadError,
  isMetricsServerError,
  isPersistError,
  isProbeError,
  MetricsError,
  type MetricsErrorCode,
  type MetricsOptionIssue,
  MetricsOptionsError,
  MetricsReadError,
  MetricsServerError,
  PersistError,
  ProbeError,
} from "./errors.ts";
export { type HistoryStats, MetricHistory, type MetricHistoryOptions } from "./history.ts";
export { type JsonlWarning, type ReadJsonlOptions, readJsonl } from "./jsonl-reader.ts";
export { JsonlWriter, type JsonlWriterOptions, type JsonlWriterStats } from "./jsonl-writer.ts";
export { createFileLogger, type FileLogger, type FileLoggerOptions } from "./logger.ts";
export {
  getMetrics,
  METRICS_PLUGIN_VERSION,
  type MetricsRuntime,
  type MetricsSnapshot,
  metrics,
} from "./plugin.ts";
export type { MetricsPluginOptions } from "./plugin-options.ts";
export {
  DURATION_BUCKETS,
  type MetricsServer,
  type MetricsServerOptions,
  PrometheusExporter,
  type PrometheusExporterOptions,
  startMetricsServer,
} from "./prometheus.ts";
export type { ActivityRecord, OperationRecord, RunRecord, StepRecord } from "./records.ts";
export { readStatus, STATUS_FILE, writeStatus } from "./status-file.ts";
export { createMetricsStore, MetricsStore, type MetricsStoreOptions } from "./store.ts";
export {
  type OperationSummary,
  type SummarizeOptions,
  type Summary,
  summarize,
  type TimeInput,
} from "./summarize.ts";
export {
  createSystemSampler,
  type ProbeEmit,
  type SamplerStats,
  type SystemFacts,
  type SystemProbe,
  SystemSampler,
  type SystemSamplerOptions,
  type SystemSource,
  systemFacts,
} from "./system/sampler.ts";
export { defaultTracker, logOperation, type OperationEntry, type OperationSink, timed } from "./timing.ts";
export {
  createPerformanceTracker,
  PerformanceTracker,
  type PerformanceTrackerOptions,
  type SeriesKey,
  type SeriesKind,
  type SeriesSnapshot,
  type TrackerSnapshot,
} from "./tracker.ts";
export { RELATIVE_ACCURACY, SLOT_MS, WINDOWS, type WindowName, type WindowStats } from "./windows.ts";
