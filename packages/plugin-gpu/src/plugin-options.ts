import type { PluginDefinition } from "@tapline/core";
import { GpuOptionsError, isGpuOptionsError } from "./errors.ts";
import { type NormalizedWatchOptions, normalizeWatchOptions, type RestartOptions } from "./options.ts";

/** Options of the `gpu()` plugin. */
export interface GpuPluginOptions {
  /** Sampling interval in ms (nvidia-smi `-lms`). Default 1000. */
  interval?: number;
  /** Per-process memory query interval in ms, `0` to turn it off. Default 5000. */
  processInterval?: number;
  /** nvidia-smi path. Default: env `NVIDIA_SMI_PATH`, then `nvidia-smi` on PATH. */
  binary?: string;
  restart?: RestartOptions;
  /** When true, an unavailable GPU makes the status part `critical` (default false: `ok`, "unavailable"). */
  required?: boolean;
  /** Publish samples through the `metric` hook. Default true. */
  metrics?: boolean;
  /** Attach per-step GPU usage to step reports (`report.extensions.gpu`). Default true. */
  stepUsage?: boolean;
  /** When nvidia-smi is unavailable, list other adapters once with systeminformation (status details). Default true. */
  describeAdapters?: boolean;
}

/** Per-step options: `step(name, fn, { gpu: { devices: [0] } })`, or `gpu: false` to skip the step. */
export type GpuStepOptions =
  | false
  | {
      /** GPU indexes or UUIDs the step uses; default: where this app's processes hold memory, else all. */
      devices?: readonly (number | string)[];
    };

/** @internal */
export interface NormalizedPluginOptions {
  readonly watch: NormalizedWatchOptions;
  readonly required: boolean;
  readonly metrics: boolean;
  readonly stepUsage: boolean;
  readonly describeAdapters: boolean;
}

function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw new GpuOptionsError(name, `must be true or false, got ${String(value)}`);
  return value;
}

const KNOWN = new Set([
  "interval",
  "processInterval",
  "binary",
  "restart",
  "required",
  "metrics",
  "stepUsage",
  "describeAdapters",
]);

/** @internal Validates the plugin's options once. Throws a `GpuOptionsError`. */
export function normalizePluginOptions(input: unknown): NormalizedPluginOptions {
  if (input !== undefined && (typeof input !== "object" || input === null || Array.isArray(input))) {
    throw new GpuOptionsError("options", "must be an object");
  }
  const o = (input ?? {}) as GpuPluginOptions;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key))
      throw new GpuOptionsError(key, `is not an option of gpu() (known: ${[...KNOWN].join(", ")})`);
  }
  return {
    watch: normalizeWatchOptions(
      {
        ...(o.interval !== undefined && { interval: o.interval }),
        ...(o.binary !== undefined && { binary: o.binary }),
        ...(o.restart !== undefined && { restart: o.restart }),
        ...(o.processInterval !== undefined && { processInterval: o.processInterval }),
      },
      true,
    ),
    required: checkBoolean("required", o.required, false),
    metrics: checkBoolean("metrics", o.metrics, true),
    stepUsage: checkBoolean("stepUsage", o.stepUsage, true),
    describeAdapters: checkBoolean("describeAdapters", o.describeAdapters, true),
  };
}

/** @internal The options schema given to core (Standard Schema v1): core reports bad options with their path. */
export const gpuOptionsSchema: NonNullable<
  PluginDefinition<NormalizedPluginOptions, GpuPluginOptions | undefined>["options"]
> = {
  "~standard": {
    version: 1,
    vendor: "@tapline/plugin-gpu",
    validate(value) {
      try {
        return { value: normalizePluginOptions(value) };
      } catch (error) {
        if (!isGpuOptionsError(error)) throw error;
        return { issues: [{ message: error.message, path: error.option.split(".") }] };
      }
    },
  },
};

/** @internal Checks one step's `gpu` option (at pipeline build). Returns a message, or undefined when fine. */
export function checkStepOption(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== "object" || value === null)
    return `"gpu" must be false or { devices }, got ${String(value)}`;
  const devices = (value as { devices?: unknown }).devices;
  if (devices === undefined) return undefined;
  if (
    !Array.isArray(devices) ||
    !devices.every(
      (d) =>
        (typeof d === "number" && Number.isInteger(d) && d >= 0) || (typeof d === "string" && d.length > 0),
    )
  ) {
    return `"gpu.devices" must be an array of GPU indexes (integers ≥ 0) or UUIDs, got ${JSON.stringify(devices)}`;
  }
  return undefined;
}
