import { describeError as describe, type OptionIssue } from "@tapline/core";
import { OptionsError, TaplineError } from "@tapline/core/kit";

/**
 * Every error code `@tapline/plugin-metrics` throws or reports. Each is documented in the README's Errors table.
 */
export type MetricsErrorCode =
  | "TAPLINE_ERR_METRICS_OPTIONS"
  | "TAPLINE_ERR_METRICS_PERSIST"
  | "TAPLINE_ERR_METRICS_SERVER"
  | "TAPLINE_ERR_METRICS_READ"
  | "TAPLINE_ERR_METRICS_PROBE";

/**
 * Base class of every error of this package. Carries a stable `code` and the `isMetricsError` brand, so
 * {@link isMetricsError} works across two copies of the package, where `instanceof` does not.
 */
export class MetricsError extends TaplineError {
  readonly isMetricsError = true;
  declare readonly code: MetricsErrorCode;
  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "MetricsError";
  }
}

/** True for any error raised by `@tapline/plugin-metrics`. */
export const isMetricsError = (e: unknown): e is MetricsError =>
  !!e && e instanceof Error && "isMetricsError" in e;

/** One bad option: core's `OptionIssue` (`path`, `message`, and `value`, `expected`, `suggestion` when known). */
export type MetricsOptionIssue = OptionIssue;

/**
 * The options given to `createPerformanceTracker()`, `createSystemSampler()`, `new PrometheusExporter()`,
 * `startMetricsServer()`, `new MetricHistory()`... are invalid. Built from core's option issues (the one
 * mechanism: unknown keys get a did-you-mean), so it is also a core `OptionsError` (`instanceof OptionsError` from `@tapline/core/kit`), with
 * this package's code and brand. Plugin options fail registration with core's `TAPLINE_ERR_PLUGIN_OPTIONS`.
 */
export class MetricsOptionsError extends OptionsError {
  readonly isMetricsError = true;
  readonly isMetricsOptionsError = true;
  declare readonly code: "TAPLINE_ERR_METRICS_OPTIONS";
  constructor(where: string, issues: readonly MetricsOptionIssue[]) {
    super(where, issues, "TAPLINE_ERR_METRICS_OPTIONS");
    this.name = "MetricsOptionsError";
  }
}

/** True for a {@link MetricsOptionsError}. */
export const isMetricsOptionsError = (e: unknown): e is MetricsOptionsError =>
  !!e && e instanceof Error && "isMetricsOptionsError" in e;

/**
 * Records could not be written under the data directory (read-only directory, full disk, permissions).
 * Reported once through `pluginError` (and the store's `onError`); the store then reports `degraded`
 * and drops records instead of retrying in a loop, until a later flush succeeds again.
 */
export class PersistError extends MetricsError {
  readonly isPersistError = true;
  /** The file or directory that could not be written. */
  readonly path: string;
  /** The system error code (`EROFS`, `ENOSPC`, `EACCES`...), when there is one. */
  readonly errno: string | undefined;
  constructor(path: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(
      "TAPLINE_ERR_METRICS_PERSIST",
      `cannot write metrics records to ${path}${errno ? ` (${errno})` : ""}: ${describe(cause)}; ` +
        "records are dropped until the directory is writable again (free disk space or fix permissions)",
      { cause },
    );
    this.name = "PersistError";
    this.path = path;
    this.errno = errno;
  }
}

/** True for a {@link PersistError}. */
export const isPersistError = (e: unknown): e is PersistError =>
  !!e && e instanceof Error && "isPersistError" in e;

/** The Prometheus endpoint could not listen (port in use, bad host). */
export class MetricsServerError extends MetricsError {
  readonly isMetricsServerError = true;
  constructor(message: string, cause: unknown) {
    super("TAPLINE_ERR_METRICS_SERVER", `${message}: ${describe(cause)}`, { cause });
    this.name = "MetricsServerError";
  }
}

/** True for a {@link MetricsServerError}. */
export const isMetricsServerError = (e: unknown): e is MetricsServerError =>
  !!e && e instanceof Error && "isMetricsServerError" in e;

/** `summarize()` or `readStatus()` could not read the data directory (missing, not a Tapline dir). */
export class MetricsReadError extends MetricsError {
  readonly isMetricsReadError = true;
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super("TAPLINE_ERR_METRICS_READ", `${path}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = "MetricsReadError";
    this.path = path;
  }
}

/** True for a {@link MetricsReadError}. */
export const isMetricsReadError = (e: unknown): e is MetricsReadError =>
  !!e && e instanceof Error && "isMetricsReadError" in e;

/** A system probe failed or ran past its timeout; reported through `pluginError`, the sampler carries on. */
export class ProbeError extends MetricsError {
  readonly isProbeError = true;
  readonly probe: string;
  constructor(probe: string, message: string, cause?: unknown) {
    super(
      "TAPLINE_ERR_METRICS_PROBE",
      `system probe "${probe}" ${message}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "ProbeError";
    this.probe = probe;
  }
}

/** True for a {@link ProbeError}. */
export const isProbeError = (e: unknown): e is ProbeError => !!e && e instanceof Error && "isProbeError" in e;
