import * as v from "valibot";
import type { NormalizedOtelOptions, OtelPluginOptions } from "./options.ts";

// Core's one option mechanism: a valibot strictObject (unknown keys become did-you-mean issues), typed
// against the interface users read (options.ts, no valibot), so published declarations never mention it.

const hasMethod = (name: string) => (x: unknown) =>
  typeof x === "object" && x !== null && typeof (x as Record<string, unknown>)[name] === "function";

/** @internal */
export const OtelOptionsSchema = v.pipe(
  v.optional(
    v.strictObject({
      tracerProvider: v.optional(
        v.custom<NonNullable<OtelPluginOptions["tracerProvider"]>>(
          hasMethod("getTracer"),
          "must be an OpenTelemetry TracerProvider (an object with getTracer(), e.g. the SDK's TracerProvider)",
        ),
      ),
      meterProvider: v.optional(
        v.custom<NonNullable<OtelPluginOptions["meterProvider"]>>(
          hasMethod("getMeter"),
          "must be an OpenTelemetry MeterProvider (an object with getMeter(), e.g. the SDK's MeterProvider)",
        ),
      ),
      traceparentLabel: v.optional(
        v.union(
          [v.pipe(v.string(), v.minLength(1)), v.literal(false)],
          "must be a non-empty label name, or false",
        ),
      ),
      flushTimeout: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(600_000))),
    }),
    {},
  ),
  v.transform(
    (o): NormalizedOtelOptions => ({
      tracerProvider: o.tracerProvider,
      meterProvider: o.meterProvider,
      traceparentLabel: o.traceparentLabel ?? "traceparent",
      flushTimeout: o.flushTimeout ?? 2000,
    }),
  ),
) satisfies v.GenericSchema<OtelPluginOptions | undefined, NormalizedOtelOptions>;
