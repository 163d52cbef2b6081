import type { OptionIssue } from "@tapline/core";
import { checkOptions } from "@tapline/core/kit";
import * as v from "valibot";
import { MetricsOptionsError } from "./errors.ts";
import type { MetricsPluginOptions, NormalizedOptions } from "./plugin-options.ts";
import type { PrometheusExporterOptions } from "./prometheus.ts";
import {
  HistoryOptionsSchema,
  orObject,
  PersistSchema,
  PluginExporterSchema,
  PluginSamplerSchema,
  PluginTrackerSchema,
} from "./schemas.ts";

const PluginSchema = v.pipe(
  v.optional(
    v.strictObject({
      persist: v.optional(orObject(v.boolean(), PersistSchema)),
      snapshotIntervalMs: v.optional(v.pipe(v.number(), v.finite(), v.minValue(100))),
      system: v.optional(orObject(v.boolean(), PluginSamplerSchema)),
      prometheus: v.optional(orObject(v.literal(false), PluginExporterSchema)),
      tracker: v.optional(PluginTrackerSchema),
      history: v.optional(HistoryOptionsSchema),
    }),
  ),
  v.transform((o = {}): NormalizedOptions => {
    const p = o.persist === undefined || o.persist === true ? {} : o.persist;
    const s = o.system === undefined || o.system === true ? {} : o.system;
    const prom = o.prometheus === undefined ? {} : o.prometheus;
    return {
      persist:
        p === false
          ? false
          : {
              flushIntervalMs: p.flushIntervalMs ?? 1000,
              maxFileBytes: p.maxFileBytes ?? 64 * 1024 * 1024,
              retentionDays: p.retentionDays ?? 14,
              samples: p.samples ?? true,
            },
      snapshotIntervalMs: o.snapshotIntervalMs ?? 15_000,
      system: s === false ? false : (s as NormalizedOptions["system"]),
      prometheus:
        prom === false
          ? false
          : {
              exporter: withoutServer(prom as PrometheusExporterOptions & { server?: unknown }),
              server:
                prom.server === undefined || prom.server === false
                  ? false
                  : prom.server === true
                    ? {}
                    : prom.server,
            },
      tracker: o.tracker ?? {},
      history: o.history ?? {},
    };
  }),
);

function withoutServer(o: PrometheusExporterOptions & { server?: unknown }): PrometheusExporterOptions {
  const { server: _server, ...exporter } = o;
  return exporter;
}

/**
 * @internal The plugin's options schema, given to core (`definePlugin({ options })`): core validates once, at
 * registration, and lists every bad option with its path and the closest known key.
 */
export const optionsSchema = PluginSchema as unknown as v.GenericSchema<
  MetricsPluginOptions | undefined,
  NormalizedOptions
>;

/**
 * @internal Validates the options of a standalone factory (`createPerformanceTracker()`...) with core's
 * mechanism; throws a {@link MetricsOptionsError} (an `OptionsError`) naming the factory and every issue.
 */
export function parseFactoryOptions<T>(schema: v.GenericSchema<T>, input: unknown, subject: string): T {
  const result = checkOptions(schema, input === undefined ? {} : input);
  if (result.issues) throw new MetricsOptionsError({ subject, issues: result.issues as OptionIssue[] });
  return result.value as T;
}
