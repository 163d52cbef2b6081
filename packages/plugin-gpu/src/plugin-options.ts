import type { RestartOptions, WatchGpusOptions } from "./options.ts";

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
  /** What the plugin gives `watchGpus()` (checked already). */
  readonly watch: WatchGpusOptions;
  readonly required: boolean;
  readonly metrics: boolean;
  readonly stepUsage: boolean;
  readonly describeAdapters: boolean;
}
