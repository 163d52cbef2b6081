import type { OptionIssue } from "./options.ts";
import { redactSecrets } from "./redact.ts";

/**
 * Every error core throws carries a stable `code` (`TAPLINE_ERR_*`, listed in docs/errors.md), a brand
 * property and an `isX()` guard. Guards check the brand, not `instanceof`, so they keep working when two
 * copies of `@tapline/core` end up in one install (a third-party plugin pinning another version).
 */

/** Every error code core can throw. */
export type TaplineErrorCode =
  | "TAPLINE_ERR_PLUGIN_INVALID"
  | "TAPLINE_ERR_PLUGIN_DUPLICATE"
  | "TAPLINE_ERR_PLUGIN_CORE_VERSION"
  | "TAPLINE_ERR_PLUGIN_DEPENDENCY"
  | "TAPLINE_ERR_PLUGIN_OPTIONS"
  | "TAPLINE_ERR_PLUGIN_SETUP"
  | "TAPLINE_ERR_PLUGIN_HOOK"
  | "TAPLINE_ERR_PIPELINE_DEFINITION"
  | "TAPLINE_ERR_STEP_VALIDATION"
  | "TAPLINE_ERR_STEP_TIMEOUT"
  | "TAPLINE_ERR_CANCELLED"
  | "TAPLINE_ERR_APP_CLOSED"
  | "TAPLINE_ERR_OPTIONS";

/** Base class of every error thrown by Tapline packages. */
export class TaplineError extends Error {
  readonly isTaplineError = true;
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TaplineError";
    this.code = code;
  }
}

/** True for any error raised by a Tapline package (core or plugin), whichever copy of core made it. */
export const isTaplineError = (e: unknown): e is TaplineError =>
  !!e && e instanceof Error && "isTaplineError" in e && typeof (e as TaplineError).code === "string";

/**
 * A plugin could not be registered: invalid plugin object, duplicate name, core version outside the
 * plugin's range, missing dependency, invalid options, or a `setup()` that threw.
 */
export class PluginRegistrationError extends TaplineError {
  readonly isPluginRegistrationError = true;
  readonly plugin: string;
  /** Every bad option with its path (only for `TAPLINE_ERR_PLUGIN_OPTIONS`). */
  readonly issues: readonly OptionIssue[];
  constructor(
    code: TaplineErrorCode,
    plugin: string,
    message: string,
    options?: { cause?: unknown; issues?: readonly OptionIssue[] },
  ) {
    super(code, message, options);
    this.name = "PluginRegistrationError";
    this.plugin = plugin;
    this.issues = options?.issues ?? [];
  }
}

export const isPluginRegistrationError = (e: unknown): e is PluginRegistrationError =>
  !!e && e instanceof Error && "isPluginRegistrationError" in e;

/**
 * An error thrown inside a plugin's tap, attributed to the plugin and hook (Rollup's `PLUGIN_ERROR`).
 * From observe hooks it is only reported through the `pluginError` hook; from decide hooks it fails the step.
 */
export class PluginError extends TaplineError {
  readonly isPluginError = true;
  readonly plugin: string;
  readonly hook: string;
  constructor(plugin: string, hook: string, cause: unknown) {
    super("TAPLINE_ERR_PLUGIN_HOOK", `plugin "${plugin}" failed in hook "${hook}": ${describeError(cause)}`, {
      cause,
    });
    this.name = "PluginError";
    this.plugin = plugin;
    this.hook = hook;
  }
}

export const isPluginError = (e: unknown): e is PluginError =>
  !!e && e instanceof Error && "isPluginError" in e;

/** A pipeline definition is wrong; thrown when the pipeline is built, never when it runs. */
export class PipelineDefinitionError extends TaplineError {
  readonly isPipelineDefinitionError = true;
  readonly pipeline: string;
  readonly step: string | undefined;
  /** Every bad step option with its path (`retry.maxAttempts`), when step options were invalid. */
  readonly issues: readonly OptionIssue[];
  constructor(
    pipeline: string,
    step: string | undefined,
    message: string,
    issues: readonly OptionIssue[] = [],
  ) {
    super(
      "TAPLINE_ERR_PIPELINE_DEFINITION",
      `pipeline "${pipeline}"${step === undefined ? "" : `, step "${step}"`}: ${message}`,
    );
    this.name = "PipelineDefinitionError";
    this.pipeline = pipeline;
    this.step = step;
    this.issues = issues;
  }
}

export const isPipelineDefinitionError = (e: unknown): e is PipelineDefinitionError =>
  !!e && e instanceof Error && "isPipelineDefinitionError" in e;

/** Severity of a validation finding. */
export type FindingSeverity = "error" | "warning" | "info";

/** One result of a check on a step's input, output or artifacts. */
export interface Finding {
  /** Stable id of the check, e.g. `audio.loudness`. */
  readonly check: string;
  readonly severity: FindingSeverity;
  readonly message: string;
  readonly value?: unknown;
  readonly limit?: unknown;
  /** The file the finding is about, when there is one. */
  readonly file?: string;
}

/**
 * A step's input or output was rejected by a validator. Throw it from a `validateStepInput` or
 * `validateStepOutput` tap; `retryable` tells retry policies whether a new attempt may fix it
 * (a badly generated TTS file may be regenerated; a missing input will not appear by retrying).
 */
export class StepValidationError extends TaplineError {
  readonly isStepValidationError = true;
  readonly findings: readonly Finding[];
  readonly retryable: boolean;
  constructor(message: string, findings: readonly Finding[], options?: { retryable?: boolean }) {
    super("TAPLINE_ERR_STEP_VALIDATION", message);
    this.name = "StepValidationError";
    this.findings = findings;
    this.retryable = options?.retryable ?? false;
  }
}

export const isStepValidationError = (e: unknown): e is StepValidationError =>
  !!e && e instanceof Error && "isStepValidationError" in e;

/** A step ran past its `timeout` step option. This is also the abort reason of the step's signal. */
export class StepTimeoutError extends TaplineError {
  readonly isStepTimeoutError = true;
  readonly step: string;
  readonly timeoutMs: number;
  constructor(step: string, timeoutMs: number) {
    super(
      "TAPLINE_ERR_STEP_TIMEOUT",
      `step "${step}" timed out after ${timeoutMs} ms (raise its "timeout" step option if it needs longer)`,
    );
    this.name = "StepTimeoutError";
    this.step = step;
    this.timeoutMs = timeoutMs;
  }
}

export const isStepTimeoutError = (e: unknown): e is StepTimeoutError =>
  !!e && e instanceof Error && "isStepTimeoutError" in e;

/** A run was cancelled through its signal (or by `app.close()`); `reason` is the signal's reason. */
export class CancelledError extends TaplineError {
  readonly isCancelledError = true;
  readonly reason: unknown;
  constructor(reason: unknown) {
    super("TAPLINE_ERR_CANCELLED", `run cancelled: ${describeError(reason)}`, { cause: reason });
    this.name = "CancelledError";
    this.reason = reason;
  }
}

export const isCancelledError = (e: unknown): e is CancelledError =>
  !!e && e instanceof Error && "isCancelledError" in e;

/** The app was closed; no new run or pipeline can start on it. Create a new app instead. */
export class AppClosedError extends TaplineError {
  readonly isAppClosedError = true;
  constructor(what: string) {
    super("TAPLINE_ERR_APP_CLOSED", `cannot ${what}: the Tapline app is closed (create a new one)`);
    this.name = "AppClosedError";
  }
}

export const isAppClosedError = (e: unknown): e is AppClosedError =>
  !!e && e instanceof Error && "isAppClosedError" in e;

/**
 * A short, single-line description of any thrown value, for error messages: an Error's message, a string as
 * as JSON, with secrets redacted ({@link redactSecrets}). Plugins use it so every package words causes the
 * same way and no API key in an error message reaches a record, a metric or an alert.
 */
export function describeError(value: unknown): string {
  return redactSecrets(rawDescription(value));
}

function rawDescription(value: unknown): string {
  if (value instanceof Error) return value.message || value.name;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
