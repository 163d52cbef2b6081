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
