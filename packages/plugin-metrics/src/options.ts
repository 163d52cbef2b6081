import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { MetricHistoryOptions } from "./history.ts";
import type { MetricsServerOptions, PrometheusExporterOptions } from "./prometheus.ts";
import type { SystemSamplerOptions } from "./system/sampler.ts";
import type { PerformanceTrackerOptions } from "./tracker.ts";

/** Options of the `metrics()` plugin. Every field is optional. */
export interface MetricsPluginOptions {
  /** JSONL persistence under the app's dir. Default on; `false` turns it off. */
  persist?:
    | boolean
    | {
        /** Most a `kill -9` loses, ms (≤ 1000 recommended). Default 1000. */
        flushIntervalMs?: number;
        /** Size rotation per file, bytes. Default 64 MiB. */
        maxFileBytes?: number;
        /** Days kept. Default 14; 0 keeps all. */
        retentionDays?: number;
        /** Persist every metric hook sample to `<dir>/metrics`. Default true. */
        samples?: boolean;
      };
  /** Tracker snapshot (to `<dir>/snapshots`) and `status.json` interval, ms. Default 15000. */
  snapshotIntervalMs?: number;
  /** System sampling. Default on at 1 s; `false` turns it off. */
  system?: boolean | Omit<SystemSamplerOptions, "onSample" | "onError">;
  /** Prometheus exposition. Default: an exporter (read it with `getMetrics(app).exporter`), no server. `false` turns it off. */
  prometheus?: false | (PrometheusExporterOptions & { server?: boolean | MetricsServerOptions });
  /** Tracker limits. */
  tracker?: Omit<PerformanceTrackerOptions, "now">;
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
  readonly prometheus: false | (PrometheusExporterOptions & { server: false | MetricsServerOptions });
  readonly tracker: Omit<PerformanceTrackerOptions, "now">;
  readonly history: MetricHistoryOptions;
}

type Issue = StandardSchemaV1.Issue;

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

function num(
  issues: Issue[],
  path: string[],
  value: unknown,
  fallback: number,
  min: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    issues.push({
      path,
      message: `must be ${integer ? "an integer" : "a number"} ≥ ${min}, got ${JSON.stringify(value)}`,
    });
    return fallback;
  }
  return value;
}

/** @internal Validates and normalises the plugin's options (once, at registration). */
export function normalizeOptions(input: unknown): { value: NormalizedOptions } | { issues: Issue[] } {
  const issues: Issue[] = [];
  const o = input === undefined ? {} : input;
  if (!isObject(o)) return { issues: [{ message: "options must be an object (or omitted)" }] };
  const known = new Set(["persist", "snapshotIntervalMs", "system", "prometheus", "tracker", "history"]);
  for (const key of Object.keys(o))
    if (!known.has(key))
      issues.push({ path: [key], message: `unknown option (known: ${[...known].join(", ")})` });

  let persist: NormalizedOptions["persist"] = false;
  if (o.persist !== false) {
    const p = o.persist === undefined || o.persist === true ? {} : o.persist;
    if (!isObject(p)) issues.push({ path: ["persist"], message: "must be a boolean or an object" });
    else {
      persist = {
        flushIntervalMs: num(issues, ["persist", "flushIntervalMs"], p.flushIntervalMs, 1000, 10),
        maxFileBytes: num(issues, ["persist", "maxFileBytes"], p.maxFileBytes, 64 * 1024 * 1024, 4096, true),
        retentionDays: num(issues, ["persist", "retentionDays"], p.retentionDays, 14, 0, true),
        samples: p.samples === undefined ? true : p.samples === true,
      };
      if (p.samples !== undefined && typeof p.samples !== "boolean")
        issues.push({ path: ["persist", "samples"], message: "must be a boolean" });
    }
  }
  const snapshotIntervalMs = num(issues, ["snapshotIntervalMs"], o.snapshotIntervalMs, 15_000, 100);

  let system: NormalizedOptions["system"] = false;
  if (o.system !== false) {
    const s = o.system === undefined || o.system === true ? {} : o.system;
    if (!isObject(s)) issues.push({ path: ["system"], message: "must be a boolean or an object" });
    else system = s as NormalizedOptions["system"];
  }

  let prometheus: NormalizedOptions["prometheus"] = false;
  if (o.prometheus !== false) {
    const p = o.prometheus === undefined ? {} : o.prometheus;
    if (!isObject(p)) issues.push({ path: ["prometheus"], message: "must be false or an object" });
    else {
      const server = p.server === undefined || p.server === false ? false : p.server === true ? {} : p.server;
      if (server !== false && !isObject(server))
        issues.push({ path: ["prometheus", "server"], message: "must be a boolean or { host, port, path }" });
      prometheus = { ...(p as PrometheusExporterOptions), server: server as false | MetricsServerOptions };
    }
  }
  const tracker = o.tracker === undefined ? {} : o.tracker;
  if (!isObject(tracker)) issues.push({ path: ["tracker"], message: "must be an object" });
  const history = o.history === undefined ? {} : o.history;
  if (!isObject(history)) issues.push({ path: ["history"], message: "must be an object" });
  if (issues.length > 0) return { issues };
  return {
    value: {
      persist,
      snapshotIntervalMs,
      system,
      prometheus,
      tracker: tracker as NormalizedOptions["tracker"],
      history: history as MetricHistoryOptions,
    },
  };
}

/** @internal The plugin's options as a Standard Schema, so core reports every bad option with its path. */
export const optionsSchema: StandardSchemaV1<MetricsPluginOptions | undefined, NormalizedOptions> = {
  "~standard": {
    version: 1,
    vendor: "@tapline/plugin-metrics",
    validate: (value) => normalizeOptions(value),
  },
};
