import { checkOptions } from "@tapline/core/kit";
import * as v from "valibot";
import { gpuOptionsError } from "./errors.ts";
import type { NormalizedWatchOptions, RestartOptions, WatchGpusOptions } from "./options.ts";
import type { GpuPluginOptions, GpuStepOptions, NormalizedPluginOptions } from "./plugin-options.ts";
import type { SampleGpusOptions } from "./sample.ts";

// Every option schema of the package, with valibot's strictObject (core's one option mechanism: unknown
// keys become did-you-mean issues). Typed with `satisfies` against the interfaces users read, which live in
// files without valibot, so the published declarations never mention it. @internal, all of them.

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

const RestartSchema = v.pipe(
  v.strictObject({
    initialDelay: v.optional(int(0, 600_000)),
    maxDelay: v.optional(int(0, 3_600_000)),
    maxAttempts: v.optional(int(1, 1000)),
  }),
  v.forward(
    v.check((r) => (r.maxDelay ?? 30_000) >= (r.initialDelay ?? 500), "must be ≥ restart.initialDelay"),
    ["maxDelay"],
  ),
) satisfies v.GenericSchema<RestartOptions>;

const binary = v.optional(v.pipe(v.string(), v.minLength(1, "must be a non-empty path or command name")));
const signal = v.optional(v.instance(AbortSignal, "must be an AbortSignal"));

const watchEntries = {
  binary,
  interval: v.optional(int(50, 3_600_000)),
  processInterval: v.optional(int(0, 3_600_000)),
  restart: v.optional(RestartSchema),
};

/** @internal */
export const WatchOptionsSchema = v.strictObject({
  ...watchEntries,
  rootPid: v.optional(int(1, 2 ** 31)),
  signal,
}) satisfies v.GenericSchema<WatchGpusOptions>;

/** @internal */
export const SampleOptionsSchema = v.strictObject({
  binary,
  timeout: v.optional(int(1, 3_600_000)),
  signal,
}) satisfies v.GenericSchema<SampleGpusOptions>;

/** @internal Validates with core's mechanism; throws a {@link GpuOptionsError} naming `subject` and every issue. */
export function parseGpuOptions<T>(schema: v.GenericSchema<T>, input: unknown, subject: string): T {
  const result = checkOptions(schema, input === undefined ? {} : input);
  if (result.issues) throw gpuOptionsError(subject, result.issues);
  return result.value as T;
}

/** @internal The nvidia-smi binary: the option, then env `NVIDIA_SMI_PATH`, then `nvidia-smi` on PATH. */
export function resolveBinary(value: string | undefined): string {
  return value ?? (process.env.NVIDIA_SMI_PATH || "nvidia-smi");
}

/** @internal Validates and normalises watcher options once. Throws a {@link GpuOptionsError}. */
export function normalizeWatchOptions(
  options: WatchGpusOptions | undefined,
  wantsProcesses: boolean,
): NormalizedWatchOptions {
  const o = parseGpuOptions(WatchOptionsSchema, options, "watchGpus()");
  const restart = o.restart ?? {};
  return {
    binary: resolveBinary(o.binary),
    interval: o.interval ?? 1000,
    processInterval: o.processInterval ?? (wantsProcesses ? 5000 : 0),
    rootPid: o.rootPid ?? process.pid,
    initialDelay: restart.initialDelay ?? 500,
    maxDelay: restart.maxDelay ?? 30_000,
    maxAttempts: restart.maxAttempts ?? 5,
  };
}

const PluginSchema = v.pipe(
  v.optional(
    v.strictObject({
      ...watchEntries,
      required: v.optional(v.boolean()),
      metrics: v.optional(v.boolean()),
      stepUsage: v.optional(v.boolean()),
      describeAdapters: v.optional(v.boolean()),
    }),
  ),
  v.transform(
    (o = {}): NormalizedPluginOptions => ({
      // The watcher's own options; watchGpus() normalises them (checked here already, so it cannot throw).
      watch: {
        ...(o.binary !== undefined && { binary: o.binary }),
        ...(o.interval !== undefined && { interval: o.interval }),
        processInterval: o.processInterval ?? 5000,
        ...(o.restart !== undefined && { restart: o.restart }),
      },
      required: o.required ?? false,
      metrics: o.metrics ?? true,
      stepUsage: o.stepUsage ?? true,
      describeAdapters: o.describeAdapters ?? true,
    }),
  ),
);

/** @internal The plugin's options schema, given to core: checked once, at registration. */
export const gpuOptionsSchema = PluginSchema satisfies v.GenericSchema<
  GpuPluginOptions | undefined,
  NormalizedPluginOptions
>;

const StepObject = v.strictObject({
  devices: v.optional(
    v.array(
      v.union(
        [v.pipe(v.number(), v.integer(), v.minValue(0)), v.pipe(v.string(), v.minLength(1))],
        "must be a GPU index (an integer ≥ 0) or a UUID",
      ),
    ),
  ),
});
const StepEither = v.union([v.literal(false), StepObject]);

/**
 * @internal The `gpu` step option, given to core (`definePlugin({ stepOptions: { gpu } })`): checked when
 * `.step()` is called. An object is checked against the object schema itself, so `{ device: [0] }` gets
 * `gpu.device: unknown option "device"; did you mean "devices"?` rather than a flat union mismatch.
 */
export const GpuStepSchema = v.lazy((input) =>
  typeof input === "object" && input !== null ? StepObject : StepEither,
) satisfies v.GenericSchema<GpuStepOptions>;
