import * as v from "valibot";
import type { MetricHistoryOptions } from "./history.ts";
import type { ListsEvery } from "./internal/lists.ts";
import type { MetricsServerOptions, PrometheusExporterOptions } from "./prometheus.ts";
import type { SystemProbe, SystemSamplerOptions, SystemSource } from "./system/sampler.ts";
import type { PerformanceTrackerOptions } from "./tracker.ts";

// The option schemas of every factory of this package, written with valibot's strictObject (core's one
// option mechanism: unknown keys become did-you-mean issues). Each is typed against the hand-written
// interface users read, so the published declarations never mention valibot. @internal, all of them.

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const atLeast = (min: number) => v.pipe(v.number(), v.finite(), v.minValue(min));
/**
 * @internal `boolean | { ... }` (or `false | { ... }`): an object is checked against the object schema itself,
 * so a misspelt key inside it gets its path and a did-you-mean (a plain union would only say "expected
 * boolean | Object").
 */
export function orObject<TBase extends v.GenericSchema, TObject extends v.GenericSchema>(
  base: TBase,
  object: TObject,
) {
  const either = v.union([base, object]);
  return v.lazy((input) => (typeof input === "object" && input !== null ? object : either));
}

const fn = <F>() => v.custom<F>((x) => typeof x === "function", "must be a function");

/** @internal */
export const TrackerOptionsSchema = v.strictObject({
  maxSeries: v.optional(int(1)),
  maxErrorsPerSeries: v.optional(int(0)),
  redact: v.optional(fn<(text: string) => string>()),
  now: v.optional(fn<() => number>()),
}) satisfies v.GenericSchema<PerformanceTrackerOptions>;

/** @internal */
export const HistoryOptionsSchema = v.strictObject({
  capacity: v.optional(int(2)),
  maxSeries: v.optional(int(1)),
}) satisfies v.GenericSchema<MetricHistoryOptions>;

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const exporterEntries = {
  buckets: v.optional(
    v.pipe(
      v.array(v.pipe(v.number(), v.finite(), v.gtValue(0))),
      v.minLength(1),
      v.check(
        (b) => b.every((x, i) => i === 0 || x > b[i - 1]!),
        "must be a non-empty array of increasing positive numbers (seconds)",
      ),
    ),
  ),
  maxSeriesPerMetric: v.optional(int(1)),
  maxMetrics: v.optional(int(1)),
  defaultLabels: v.optional(
    v.record(v.pipe(v.string(), v.regex(LABEL, "is not a valid Prometheus label name")), v.string()),
  ),
};

/** @internal */
export const ExporterOptionsSchema = v.strictObject(
  exporterEntries,
) as v.GenericSchema<PrometheusExporterOptions>;

/** @internal */
export const ServerOptionsSchema = v.strictObject({
  host: v.optional(v.pipe(v.string(), v.minLength(1))),
  port: v.optional(int(0, 65535)),
  path: v.optional(v.pipe(v.string(), v.startsWith("/", 'must start with "/"'))),
}) satisfies v.GenericSchema<MetricsServerOptions>;

/** Every `source` of the system sampler (a `SystemSource` missing here does not compile). */
const SYSTEM_SOURCES = ["auto", "proc", "systeminformation"] as const satisfies readonly SystemSource[];
const _everySource: ListsEvery<typeof SYSTEM_SOURCES, SystemSource> = true;

const samplerEntries = {
  intervalMs: v.optional(atLeast(100)),
  probeTimeoutMs: v.optional(v.pipe(v.number(), v.finite(), v.gtValue(0))),
  mounts: v.optional(v.array(v.string())),
  source: v.optional(v.picklist(SYSTEM_SOURCES)),
  probes: v.optional(v.record(v.string(), fn<SystemProbe>())),
};

/** @internal */
export const SamplerOptionsSchema = v.strictObject({
  ...samplerEntries,
  onSample: v.optional(fn<NonNullable<SystemSamplerOptions["onSample"]>>()),
  onError: v.optional(fn<NonNullable<SystemSamplerOptions["onError"]>>()),
}) satisfies v.GenericSchema<SystemSamplerOptions>;

/** @internal The plugin's own sub-schemas (no callbacks: the plugin wires those). */
export const PluginSamplerSchema = v.strictObject(samplerEntries);
/** @internal */
export const PluginExporterSchema = v.strictObject({
  ...exporterEntries,
  server: v.optional(orObject(v.boolean(), ServerOptionsSchema)),
});
/** @internal */
export const PluginTrackerSchema = v.strictObject({
  maxSeries: v.optional(int(1)),
  maxErrorsPerSeries: v.optional(int(0)),
});
/** @internal */
export const PersistSchema = v.strictObject({
  flushIntervalMs: v.optional(atLeast(10)),
  maxFileBytes: v.optional(int(4096)),
  retentionDays: v.optional(int(0)),
  samples: v.optional(v.boolean()),
});
