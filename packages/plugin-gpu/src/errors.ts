import { createError, type OptionIssue } from "@tapline/core";
import { formatOptionIssues } from "@tapline/core/kit";

/**
 * `@tapline/plugin-gpu`'s errors, each made by core's `createError` from one line: a stable `code` (listed in
 * the README's Errors table), a name, a message from its fields. Check them with core's guard, which works
 * across two copies of a package: `isTaplineError(e, "TAPLINE_ERR_GPU_UNAVAILABLE")` narrows to
 * {@link GpuUnavailableError} (this file augments core's `TaplineErrorMap`).
 */

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
 * Options given to `watchGpus()` or `sampleGpus()` are invalid. Thrown once, when the watcher is created or
 * the sample asked for: `subject` names the function, `issues` every bad option (core's `OptionIssue`: a
 * misspelt key gets the closest known one), `option` the first bad option's path (`interval`,
 * `restart.maxDelay`). Plugin options fail registration with core's `TAPLINE_ERR_PLUGIN_OPTIONS` instead; a
 * bad `gpu` step option fails `.step()` with a `PipelineDefinitionError`.
 */
export const GpuOptionsError = createError(
  "TAPLINE_ERR_GPU_OPTIONS",
  "GpuOptionsError",
  (p: { subject: string; issues: readonly OptionIssue[]; option: string }) =>
    `${p.subject}: invalid options:\n${formatOptionIssues(p.issues)}`,
  "fix each listed option (an unknown key names the closest known one)",
);
export type GpuOptionsError = InstanceType<typeof GpuOptionsError>;

/** A {@link GpuOptionsError} for `subject` (a function of this package) and its issues. */
export const gpuOptionsError = (subject: string, issues: readonly OptionIssue[]): GpuOptionsError =>
  new GpuOptionsError({
    subject: `@tapline/plugin-gpu: ${subject}`,
    issues,
    option: issues[0]?.path ?? "(options)",
  });

/**
 * No NVIDIA GPU can be sampled here (`reason`): nvidia-smi is missing, finds no GPU, rejects the query, or
 * kept dying. `binary` is the nvidia-smi path tried, `output` a bounded tail of what it printed ("" when it did
 * not run). `sampleGpus()` rejects with it; a watcher and the plugin report it once (status `unavailable`)
 * and carry on.
 */
export const GpuUnavailableError = createError(
  "TAPLINE_ERR_GPU_UNAVAILABLE",
  "GpuUnavailableError",
  (p: { reason: GpuUnavailableReason; binary: string; detail: string; output: string; cause?: unknown }) =>
    p.detail,
  'install the NVIDIA driver, or pass the "binary" option / set NVIDIA_SMI_PATH; see reason and output',
);
export type GpuUnavailableError = InstanceType<typeof GpuUnavailableError>;

/** nvidia-smi could not be started (`code`: ENOENT, EACCES...): a {@link GpuUnavailableError}, reason `missing`. */
export const missingBinary = (
  binary: string,
  code: string | undefined,
  cause?: unknown,
): GpuUnavailableError =>
  new GpuUnavailableError({
    reason: "missing",
    binary,
    detail:
      `nvidia-smi not found or not executable (${code}: ${binary}); install the NVIDIA driver, or pass the ` +
      `"binary" option / set NVIDIA_SMI_PATH`,
    output: "",
    ...(cause !== undefined && { cause }),
  });

/**
 * The long-lived nvidia-smi process died after it had produced samples (`exitCode` or `signal`, a bounded
 * `stderr` tail). Reported (through `onError`, or the `pluginError` hook in a pipeline); the watcher restarts
 * it after `restartInMs` (`attempt`: deaths in a row).
 */
export const NvidiaSmiExitedError = createError(
  "TAPLINE_ERR_GPU_SAMPLER_EXITED",
  "NvidiaSmiExitedError",
  (p: {
    exitCode: number | undefined;
    signal: string | undefined;
    stderr: string;
    restartInMs: number;
    attempt: number;
  }) => {
    const how = p.signal ? `was killed by ${p.signal}` : `exited with code ${String(p.exitCode)}`;
    const tail = p.stderr ? ` (${p.stderr.trim().split("\n").at(-1)})` : "";
    return `nvidia-smi ${how}${tail}; restarting in ${p.restartInMs} ms (attempt ${p.attempt})`;
  },
  "none needed: it is restarted with backoff; see stderr if it keeps dying",
);
export type NvidiaSmiExitedError = InstanceType<typeof NvidiaSmiExitedError>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_GPU_OPTIONS: GpuOptionsError;
    TAPLINE_ERR_GPU_UNAVAILABLE: GpuUnavailableError;
    TAPLINE_ERR_GPU_SAMPLER_EXITED: NvidiaSmiExitedError;
  }
}
