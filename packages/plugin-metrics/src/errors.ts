import { createError, describeError, type OptionIssue } from "@tapline/core";
import { formatOptionIssues } from "@tapline/core/kit";

/**
 * `@tapline/plugin-metrics`' errors, each made by core's `createError` from one line: a stable `code` (listed in
 * the README's Errors table), a name, a message from its fields. Check them with core's guard, which works
 * across two copies of a package: `isTaplineError(e, "TAPLINE_ERR_METRICS_PERSIST")` narrows to
 * {@link PersistError} (this file augments core's `TaplineErrorMap`).
 */

/** Every error code `@tapline/plugin-metrics` throws or reports. */
export type MetricsErrorCode =
  | "TAPLINE_ERR_METRICS_OPTIONS"
  | "TAPLINE_ERR_METRICS_PERSIST"
  | "TAPLINE_ERR_METRICS_SERVER"
  | "TAPLINE_ERR_METRICS_READ"
  | "TAPLINE_ERR_METRICS_PROBE";

/**
 * The options given to `createPerformanceTracker()`, `createSystemSampler()`, `new PrometheusExporter()`,
 * `startMetricsServer()`... are invalid: `subject` names the factory, `issues` every bad option (core's
 * `OptionIssue`: an unknown key gets a did-you-mean). Plugin options fail registration with core's
 * `TAPLINE_ERR_PLUGIN_OPTIONS` instead.
 */
export const MetricsOptionsError = createError(
  "TAPLINE_ERR_METRICS_OPTIONS",
  "MetricsOptionsError",
  (p: { subject: string; issues: readonly OptionIssue[] }) =>
    `${p.subject}: invalid options:\n${formatOptionIssues(p.issues)}`,
  "fix each listed option (an unknown key names the closest known one)",
);
export type MetricsOptionsError = InstanceType<typeof MetricsOptionsError>;

/**
 * Records could not be written under the data directory (read-only directory, full disk, permissions):
 * `path` is the file or folder, `errno` the system code (`EROFS`, `ENOSPC`, `EACCES`...) when there is one.
 * Reported once through `pluginError` (and the store's `onError`); the store then reports `degraded` and
 * drops records instead of retrying in a loop, until a later flush succeeds again.
 */
export const PersistError = createError(
  "TAPLINE_ERR_METRICS_PERSIST",
  "PersistError",
  (p: { path: string; errno: string | undefined; cause: unknown }) =>
    `cannot write metrics records to ${p.path}${p.errno ? ` (${p.errno})` : ""}: ${describeError(p.cause)}; ` +
    "records are dropped until the directory is writable again (free disk space or fix permissions)",
  "free disk space or fix the data directory's permissions",
);
export type PersistError = InstanceType<typeof PersistError>;

/** A {@link PersistError} for `path`, with the errno of `cause`. */
export const persistError = (path: string, cause: unknown): PersistError =>
  new PersistError({ path, errno: (cause as NodeJS.ErrnoException | undefined)?.code, cause });

/** The Prometheus endpoint could not listen on `host`:`port` (port in use, bad host). */
export const MetricsServerError = createError(
  "TAPLINE_ERR_METRICS_SERVER",
  "MetricsServerError",
  (p: { host: string; port: number; cause: unknown }) =>
    `cannot listen on ${p.host}:${p.port}: ${describeError(p.cause)}`,
  "pick a free port (0 takes any) or a host this machine has",
);
export type MetricsServerError = InstanceType<typeof MetricsServerError>;

/** `summarize()` or `readStatus()` could not read `path` (missing, not a Tapline dir, bad JSON); `reason` says why. */
export const MetricsReadError = createError(
  "TAPLINE_ERR_METRICS_READ",
  "MetricsReadError",
  (p: { path: string; reason: string; cause?: unknown }) => `${p.path}: ${p.reason}`,
  "point --dir (or the dir argument) at the app's data directory",
);
export type MetricsReadError = InstanceType<typeof MetricsReadError>;

/** A system probe (`probe`) failed or ran past its timeout; reported through `pluginError`, the sampler carries on. */
export const ProbeError = createError(
  "TAPLINE_ERR_METRICS_PROBE",
  "ProbeError",
  (p: { probe: string; reason: string; cause?: unknown }) => `system probe "${p.probe}" ${p.reason}`,
  "see the cause; a hung probe (NFS statfs) is skipped until it ends",
);
export type ProbeError = InstanceType<typeof ProbeError>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_METRICS_OPTIONS: MetricsOptionsError;
    TAPLINE_ERR_METRICS_PERSIST: PersistError;
    TAPLINE_ERR_METRICS_SERVER: MetricsServerError;
    TAPLINE_ERR_METRICS_READ: MetricsReadError;
    TAPLINE_ERR_METRICS_PROBE: ProbeError;
  }
}
