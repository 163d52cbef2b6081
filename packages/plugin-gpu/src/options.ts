import { GpuOptionsError } from "./errors.ts";

/** How a watcher restarts nvidia-smi when it dies. */
export interface RestartOptions {
  /** First delay, in ms (doubled per death in a row, with jitter). Default 500. */
  initialDelay?: number;
  /** Cap on the delay, in ms. Default 30 000. */
  maxDelay?: number;
  /** Deaths in a row without a sample before the watcher gives up (status `unavailable`). Default 5. */
  maxAttempts?: number;
}

/** Options shared by `watchGpus()`, `sampleGpus()` and the plugin. */
export interface NvidiaSmiOptions {
  /** Path or name of nvidia-smi. Default: env `NVIDIA_SMI_PATH`, then `nvidia-smi` on PATH. */
  binary?: string;
}

/** Options of `watchGpus()`. */
export interface WatchGpusOptions extends NvidiaSmiOptions {
  /** Sampling interval in ms, passed to nvidia-smi as `-lms`. 50..3 600 000, default 1000. */
  interval?: number;
  /**
   * Interval of the per-process query (`--query-compute-apps`) in ms, or `0` for none. It spawns a short
   * nvidia-smi each time, so keep it slow. Default 5000 when `onProcesses` is given, else 0.
   */
  processInterval?: number;
  /** Root of the process tree whose GPU memory `onProcesses` reports. Default `process.pid`. */
  rootPid?: number;
  restart?: RestartOptions;
  /** Aborting it closes the watcher. */
  signal?: AbortSignal;
}

/** @internal Options after validation, with defaults. */
export interface NormalizedWatchOptions {
  readonly binary: string;
  readonly interval: number;
  readonly processInterval: number;
  readonly rootPid: number;
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly maxAttempts: number;
}

/** @internal Checks a number option; throws a {@link GpuOptionsError} naming it. */
export function checkNumber(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  integer = true,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new GpuOptionsError(
      name,
      `must be a finite ${integer ? "integer" : "number"}, got ${String(value)}`,
    );
  }
  if (value < min || value > max) {
    throw new GpuOptionsError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** @internal Resolves the binary option. */
export function checkBinary(value: unknown): string {
  if (value === undefined) return process.env.NVIDIA_SMI_PATH || "nvidia-smi";
  if (typeof value !== "string" || value.length === 0) {
    throw new GpuOptionsError("binary", `must be a non-empty path or command name, got ${String(value)}`);
  }
  return value;
}

/** @internal Validates and normalises watcher options once. */
export function normalizeWatchOptions(
  options: WatchGpusOptions | undefined,
  wantsProcesses: boolean,
): NormalizedWatchOptions {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new GpuOptionsError("options", "must be an object");
  }
  const o = options ?? {};
  const restart = o.restart ?? {};
  const initialDelay = checkNumber("restart.initialDelay", restart.initialDelay, 500, 0, 600_000);
  const maxDelay = checkNumber("restart.maxDelay", restart.maxDelay, 30_000, 0, 3_600_000);
  if (maxDelay < initialDelay) {
    throw new GpuOptionsError("restart.maxDelay", `must be ≥ restart.initialDelay (${initialDelay})`);
  }
  return {
    binary: checkBinary(o.binary),
    interval: checkNumber("interval", o.interval, 1000, 50, 3_600_000),
    processInterval: checkNumber(
      "processInterval",
      o.processInterval,
      wantsProcesses ? 5000 : 0,
      0,
      3_600_000,
    ),
    rootPid: checkNumber("rootPid", o.rootPid, process.pid, 1, 2 ** 31),
    initialDelay,
    maxDelay,
    maxAttempts: checkNumber("restart.maxAttempts", restart.maxAttempts, 5, 1, 1000),
  };
}
