/**
 * `@tapline/plugin-metrics`: the plugin (`metrics()`, `getMetrics(app)`) and the standalone APIs it is built
 * from: timing (`timed`, `logOperation`), the performance tracker, the system sampler, the JSONL store, the
 * daily file logger and the Prometheus exporter. Readers and writers of the data directory (`summarize`,
 * `readStatus`, `readJsonl`, `JsonlWriter`...) are in `@tapline/plugin-metrics/files`.
 */
export type {
  MetricsErrorCode,
  MetricsOptionsError,
  MetricsReadError,
  MetricsServerError,
  PersistError,
  ProbeError,
} from "./errors.ts";
export { type HistoryStats, MetricHistory, type MetricHistoryOptions } from "./history.ts";
export { createFileLogger, type FileLogger, type FileLoggerOptions } from "./logger.ts";
export { getMetrics, type MetricsRuntime, type MetricsSnapshot, metrics } from "./plugin.ts";
export type { MetricsPluginOptions } from "./plugin-options.ts";
export {
  DURATION_BUCKETS,
  type MetricsServer,
  type MetricsServerOptions,
  PrometheusExporter,
  type PrometheusExporterOptions,
  startMetricsServer,
} from "./prometheus.ts";
export { createMetricsStore, type MetricsStore, type MetricsStoreOptions } from "./store.ts";
export {
  createSystemSampler,
  type ProbeEmit,
  type SamplerStats,
  type SystemFacts,
  type SystemProbe,
  type SystemSampler,
  type SystemSamplerOptions,
  type SystemSource,
  systemFacts,
} from "./system/sampler.ts";
export { defaultTracker, logOperation, type OperationEntry, type OperationSink, timed } from "./timing.ts";
export {
  createPerformanceTracker,
  type PerformanceTracker,
  type PerformanceTrackerOptions,
  type SeriesKey,
  type SeriesKind,
  type SeriesSnapshot,
  type TrackerSnapshot,
} from "./tracker.ts";
export type { WindowName, WindowStats } from "./windows.ts";
