import type { OptionIssue } from "@tapline/core";
import { OptionsError, TaplineError } from "@tapline/core/kit";

/** Every error code `@tapline/plugin-gpu` uses. */
export type GpuErrorCode =
  | "TAPLINE_ERR_GPU_OPTIONS"
  | "TAPLINE_ERR_GPU_UNAVAILABLE"
  | "TAPLINE_ERR_GPU_SAMPLER_EXITED";

/** Why GPU sampling is not possible on this machine. */
export type GpuUnavailableReason =
  /** The nvidia-smi binary was not found (ENOENT) or could not be executed. */
  | "missing"
  /** nvidia-smi ran but found no GPU, or could not talk to the driver. */
  | "no-gpu"
  /** nvidia-smi rejected the query (an old driver that lacks a field, a bad binary). */
  | "rejected"
  /** nvidia-smi kept dying before producing a sample; the sampler gave up. */
  | "gave-up";

/**
 * Options given to `watchGpus()`, `sampleGpus()` or `gpu()` are invalid. Thrown once, when the watcher or
 * plugin is created. Built from core's option issues (the one mechanism: every bad option with its path, a
 * misspelt key with the closest known one), so it is also a core `OptionsError` (`instanceof OptionsError` from `@tapline/core/kit`,
 * `subject`, `issues`), with this package's code. Plugin options fail registration with core's
 * `TAPLINE_ERR_PLUGIN_OPTIONS` instead; a bad `gpu` step option fails `.step()` with a `PipelineDefinitionError`.
 */
export class GpuOptionsError extends OptionsError {
  readonly isGpuOptionsError = true;
  declare readonly code: "TAPLINE_ERR_GPU_OPTIONS";
  /** The first bad option's path, e.g. `interval` or `restart.maxDelay`. */
  readonly option: string;
  constructor(subject: string, issues: readonly OptionIssue[]) {
    super(`@tapline/plugin-gpu: ${subject}`, issues, "TAPLINE_ERR_GPU_OPTIONS");
    this.name = "GpuOptionsError";
    this.option = issues[0]?.path ?? "(options)";
  }
}

/** True for a {@link GpuOptionsError}, whichever copy of the package made it. */
export const isGpuOptionsError = (e: unknown): e is GpuOptionsError =>
  !!e && e instanceof Error && "isGpuOptionsError" in e;

/**
 * No NVIDIA GPU can be sampled here: nvidia-smi is missing, finds no GPU, rejects the query, or kept dying.
 * `sampleGpus()` rejects with it; a watcher and the plugin report it once (status `unavailable`) and carry on.
 */
export class GpuUnavailableError extends TaplineError {
  readonly isGpuUnavailableError = true;
  readonly reason: GpuUnavailableReason;
  /** The nvidia-smi path that was tried. */
  readonly binary: string;
  /** What nvidia-smi printed (a bounded tail), when it ran. */
  readonly output: string;
  constructor(reason: GpuUnavailableReason, binary: string, message: string, output = "", cause?: unknown) {
    super("TAPLINE_ERR_GPU_UNAVAILABLE", message, cause === undefined ? undefined : { cause });
    this.name = "GpuUnavailableError";
    this.reason = reason;
    this.binary = binary;
    this.output = output;
  }
}

/** True for a {@link GpuUnavailableError}, whichever copy of the package made it. */
export const isGpuUnavailableError = (e: unknown): e is GpuUnavailableError =>
  !!e && e instanceof Error && "isGpuUnavailableError" in e;

/**
 * The long-lived nvidia-smi process died after it had produced samples. Reported (through `onError`, or the
 * `pluginError` hook in a pipeline); the watcher restarts it after `restartInMs`.
 */
export class NvidiaSmiExitedError extends TaplineError {
  readonly isNvidiaSmiExitedError = true;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Bounded tail of what the process wrote to stderr. */
  readonly stderr: string;
  /** Delay before the next start, in ms. */
  readonly restartInMs: number;
  /** How many times in a row it has died. */
  readonly attempt: number;
  constructor(info: {
    exitCode: number | undefined;
    signal: string | undefined;
    stderr: string;
    restartInMs: number;
    attempt: number;
  }) {
    const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${String(info.exitCode)}`;
    const tail = info.stderr ? ` (${info.stderr.trim().split("\n").at(-1)})` : "";
    super(
      "TAPLINE_ERR_GPU_SAMPLER_EXITED",
      `nvidia-smi ${how}${tail}; restarting in ${info.restartInMs} ms (attempt ${info.attempt})`,
    );
    this.name = "NvidiaSmiExitedError";
    this.exitCode = info.exitCode;
    this.signal = info.signal;
    this.stderr = info.stderr;
    this.restartInMs = info.restartInMs;
    this.attempt = info.attempt;
  }
}

/** True for a {@link NvidiaSmiExitedError}, whichever copy of the package made it. */
export const isNvidiaSmiExitedError = (e: unknown): e is NvidiaSmiExitedError =>
  !!e && e instanceof Error && "isNvidiaSmiExitedError" in e;
