import type { MetricHistoryOptions } from "./history.ts";
import type { MetricsServerOptions, PrometheusExporterOptions } from "./prometheus.ts";
import type { SystemSamplerOptions } from "./system/sampler.ts";
import type { PerformanceTrackerOptions } from "./tracker.ts";

// The plugin's options as users read them. Kept apart from the valibot schema (options.ts), so the published
// declarations never import valibot.

/** Options of the `metrics()` plugin. Every field is optional. */
export interface MetricsPluginOptions {
  /** JSONL persistence under the app's dir. Default on; `false` turns it off. */
  persist?:
    | boolean
    | {
        /** Most a `kill -9` loses, ms (≤ 1000 recommended; at least 10). Default 1000. */
        flushIntervalMs?: number;
        /** Size rotation per file, bytes (an integer ≥ 4096). Default 64 MiB. */
        maxFileBytes?: number;
        /** Days kept. Default 14; 0 keeps all. */
        retentionDays?: number;
        /** Persist every metric hook sample to `<dir>/metrics`. Default true. */
        samples?: boolean;
      };
  /** Tracker snapshot (to `<dir>/snapshots`) and `status.json` interval, ms (at least 100). Default 15000. */
  snapshotIntervalMs?: number;
  /** System sampling. Default on at 1 s; `false` turns it off. */
  system?: boolean | Omit<SystemSamplerOptions, "onSample" | "onError">;
  /** Prometheus exposition. Default: an exporter (read it with `getMetrics(app).exporter`), no server. `false` turns it off. */
  prometheus?: false | (PrometheusExporterOptions & { server?: boolean | MetricsServerOptions });
  /** Tracker limits. */
  tracker?: Omit<PerformanceTrackerOptions, "now" | "redact">;
  /** Per-metric history limits. */
  history?: MetricHistoryOptions;
}

/** @internal Options after validation, defaults applied. */
export interface NormalizedOptions {
  readonly persist:
    | false
    | { flushIntervalMs: number; maxFileBytes: number; retentionDays: number; samples: boolean };
  readonly snapshotIntervalMs: number;
  readonly system: false | Omit<SystemSamplerOptions, "onSample" | "onError">;
  readonly prometheus: false | { exporter: PrometheusExporterOptions; server: false | MetricsServerOptions };
  readonly tracker: Omit<PerformanceTrackerOptions, "now" | "redact">;
  readonly history: MetricHistoryOptions;
}
