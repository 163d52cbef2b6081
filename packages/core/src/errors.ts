import { createError, isTaplineError, TaplineError } from "./create-error.ts";
import type { OptionIssue } from "./options.ts";
import { redactSecrets } from "./redact.ts";

/**
 * Core's errors, each made by `createError` from one line: a stable `code` (`TAPLINE_ERR_*`, listed in
 * docs/errors.md), a name, a message from its fields. `isTaplineError(e, code)` checks brand and code, so it
 * keeps working when two copies of `@tapline/core` end up in one install.
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
  | "TAPLINE_ERR_OPTIONS"
  | "TAPLINE_ERR_RUN_SUSPENDED"
  | "TAPLINE_ERR_NO_DURABLE_STORE"
  | "TAPLINE_ERR_RUN_NOT_FOUND"
  | "TAPLINE_ERR_RUN_NOT_SUSPENDED"
  | "TAPLINE_ERR_RESUME_PIPELINE";

/** The codes of a plugin that could not be registered; each names the plugin (`plugin`). */
export type PluginRegistrationCode =
  | "TAPLINE_ERR_PLUGIN_INVALID"
  | "TAPLINE_ERR_PLUGIN_DUPLICATE"
  | "TAPLINE_ERR_PLUGIN_CORE_VERSION"
  | "TAPLINE_ERR_PLUGIN_DEPENDENCY"
  | "TAPLINE_ERR_PLUGIN_OPTIONS"
  | "TAPLINE_ERR_PLUGIN_SETUP";

/** Fields of a registration error: the plugin, why, and (for bad options) every issue. */
export interface PluginRegistrationParams {
  readonly plugin: string;
  /** The whole message. */
  readonly why: string;
  /** Every bad option with its path (only for `TAPLINE_ERR_PLUGIN_OPTIONS`). */
  readonly issues: readonly OptionIssue[];
}

const registration = <C extends PluginRegistrationCode>(code: C, hint: string) =>
  createError(code, "PluginRegistrationError", (p: PluginRegistrationParams) => p.why, hint);

/**
 * @internal The registration errors, one class per code: invalid plugin object, duplicate name, core version
 * outside the plugin's range, missing dependency, invalid options, or a `setup()` that threw.
 */
export const PLUGIN_REGISTRATION_ERRORS = {
  TAPLINE_ERR_PLUGIN_INVALID: registration(
    "TAPLINE_ERR_PLUGIN_INVALID",
    "build plugins with definePlugin() and pass factory(options), e.g. plugins: [retry()]",
  ),
  TAPLINE_ERR_PLUGIN_DUPLICATE: registration(
    "TAPLINE_ERR_PLUGIN_DUPLICATE",
    "register each plugin once; configure it through its options",
  ),
  TAPLINE_ERR_PLUGIN_CORE_VERSION: registration(
    "TAPLINE_ERR_PLUGIN_CORE_VERSION",
    "install a plugin version made for this core major",
  ),
  TAPLINE_ERR_PLUGIN_DEPENDENCY: registration(
    "TAPLINE_ERR_PLUGIN_DEPENDENCY",
    "add the plugin it depends on earlier in plugins",
  ),
  TAPLINE_ERR_PLUGIN_OPTIONS: registration(
    "TAPLINE_ERR_PLUGIN_OPTIONS",
    "fix each listed option (an unknown key names the closest known one)",
  ),
  TAPLINE_ERR_PLUGIN_SETUP: registration("TAPLINE_ERR_PLUGIN_SETUP", "see the error's cause"),
} as const;

/** A plugin could not be registered (any of {@link PluginRegistrationCode}); `plugin` names it. */
export type PluginRegistrationError = TaplineError<PluginRegistrationCode> & PluginRegistrationParams;

/** @internal Makes a registration error of the given code. */
export function registrationError(
  code: PluginRegistrationCode,
  plugin: string,
  why: string,
  options?: { cause?: unknown; issues?: readonly OptionIssue[] },
): PluginRegistrationError {
  const Made = PLUGIN_REGISTRATION_ERRORS[code];
  return new Made(
    { plugin, why, issues: options?.issues ?? [] },
    options && "cause" in options ? { cause: options.cause } : undefined,
  );
}

/**
 * An error thrown inside a plugin's tap, attributed to the plugin and hook (Rollup's `PLUGIN_ERROR`).
 * From observe hooks it is only reported through the `pluginError` hook; from decide hooks it fails the step.
 */
export const PluginError = createError(
  "TAPLINE_ERR_PLUGIN_HOOK",
  "PluginError",
  (p: { plugin: string; hook: string; cause: unknown }) =>
    `plugin "${p.plugin}" failed in hook "${p.hook}": ${describeError(p.cause)}`,
  "fix or report the plugin; observe hooks only report it, decide and around hooks fail the step",
);
export type PluginError = InstanceType<typeof PluginError>;

/** A pipeline definition is wrong; thrown when the pipeline is built, never when it runs. */
export const PipelineDefinitionError = createError(
  "TAPLINE_ERR_PIPELINE_DEFINITION",
  "PipelineDefinitionError",
  (p: {
    pipeline: string;
    step: string | undefined;
    why: string;
    /** Every bad step option with its path (`retry.maxAttempts`), when step options were invalid. */
    issues: readonly OptionIssue[];
  }) => `pipeline "${p.pipeline}"${p.step === undefined ? "" : `, step "${p.step}"`}: ${p.why}`,
  "fix the definition; thrown when building, never when running",
);
export type PipelineDefinitionError = InstanceType<typeof PipelineDefinitionError>;

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
export const StepValidationError = createError(
  "TAPLINE_ERR_STEP_VALIDATION",
  "StepValidationError",
  (p: { why: string; findings: readonly Finding[]; retryable: boolean }) => p.why,
  "see the findings",
);
export type StepValidationError = InstanceType<typeof StepValidationError>;

/** A step ran past its `timeout` step option. This is also the abort reason of the step's signal. */
export const StepTimeoutError = createError(
  "TAPLINE_ERR_STEP_TIMEOUT",
  "StepTimeoutError",
  (p: { step: string; timeoutMs: number }) =>
    `step "${p.step}" timed out after ${p.timeoutMs} ms (raise its "timeout" step option if it needs longer)`,
  "raise the step's timeout or speed the step up",
);
export type StepTimeoutError = InstanceType<typeof StepTimeoutError>;

/** A run was cancelled through its signal (or by `app.close()`); `reason` is the signal's reason. */
export const CancelledError = createError(
  "TAPLINE_ERR_CANCELLED",
  "CancelledError",
  (p: { reason: unknown }) => `run cancelled: ${describeError(p.reason)}`,
  "see reason: the signal's reason",
);
export type CancelledError = InstanceType<typeof CancelledError>;

/**
 * A run's budget stopped it: the next unit's estimate would pass it (the unit did not start), or a unit's
 * spend passed it (no later unit starts). Names the cost unit, what was spent, the limit and the unit.
 */
export const BudgetExceededError = createError(
  "TAPLINE_ERR_BUDGET_EXCEEDED",
  "BudgetExceededError",
  (p: {
    costUnit: string;
    spent: number;
    estimate: number;
    limit: number;
    unit: string;
    when: "before" | "during";
  }) =>
    p.when === "before"
      ? `budget: "${p.unit}" would cost ${fmt(p.estimate)} ${p.costUnit} on top of ${fmt(p.spent)} spent, past the run's limit of ${fmt(p.limit)} ${p.costUnit}; it did not start`
      : `budget: "${p.unit}" brought the run's spend to ${fmt(p.spent)} ${p.costUnit}, past its limit of ${fmt(p.limit)} ${p.costUnit}; no later unit starts`,
  "raise the run's budget (run(input, { budget })) or lower what the units spend",
);
export type BudgetExceededError = InstanceType<typeof BudgetExceededError>;

const fmt = (n: number) => String(Math.round(n * 1e6) / 1e6);

/** The app was closed; no new run or pipeline can start on it. Create a new app instead. */
export const AppClosedError = createError(
  "TAPLINE_ERR_APP_CLOSED",
  "AppClosedError",
  (p: { what: string }) => `cannot ${p.what}: the Tapline app is closed (create a new one)`,
  "create a new app",
);
export type AppClosedError = InstanceType<typeof AppClosedError>;

/**
 * A unit called `ctx.suspend()`: the run ends with status `suspended` (this error is the unit's and the run's
 * `error`). `app.resume(runId, { resumeData })` runs that unit again with `ctx.resumeData` set; the units
 * before it replay.
 */
export const RunSuspendedError = createError(
  "TAPLINE_ERR_RUN_SUSPENDED",
  "RunSuspendedError",
  (p: { unit: string; reason: string; data?: unknown }) =>
    `"${p.unit}" suspended the run: ${p.reason} (resume it with app.resume(runId, { resumeData }) or tapline approve <runId>)`,
  "resume the run: app.resume(runId, { resumeData }), or tapline approve <runId> --data JSON",
);
export type RunSuspendedError = InstanceType<typeof RunSuspendedError>;

/** `app.resume()` or `ctx.suspend()` without a durable store plugin. */
export const NoDurableStoreError = createError(
  "TAPLINE_ERR_NO_DURABLE_STORE",
  "NoDurableStoreError",
  (p: { what: string }) =>
    `${p.what} needs a durable store: add @tapline/plugin-durable (createTapline({ plugins: [durable()] }))`,
  "add @tapline/plugin-durable to the app's plugins",
);
export type NoDurableStoreError = InstanceType<typeof NoDurableStoreError>;

/** `app.resume()` of a run id the durable store does not have (never saved, or pruned). */
export const RunNotFoundError = createError(
  "TAPLINE_ERR_RUN_NOT_FOUND",
  "RunNotFoundError",
  (p: { runId: string }) =>
    `no saved run "${p.runId}" in the durable store (list the saved runs with: tapline runs)`,
  "check the run id with tapline runs; runs older than the store's keep period are pruned",
);
export type RunNotFoundError = InstanceType<typeof RunNotFoundError>;

/** `app.resume(runId, { resumeData })` (an approval) of a run that is not suspended. */
export const RunNotSuspendedError = createError(
  "TAPLINE_ERR_RUN_NOT_SUSPENDED",
  "RunNotSuspendedError",
  (p: { runId: string; status: string }) =>
    `run "${p.runId}" is ${p.status}, not suspended: only a suspended run takes resumeData (resume it without data)`,
  "approve only suspended runs (tapline runs --status suspended); resume others without data",
);
export type RunNotSuspendedError = InstanceType<typeof RunNotSuspendedError>;

/** `app.resume()` of a run whose pipeline this app has not built. */
export const ResumePipelineError = createError(
  "TAPLINE_ERR_RESUME_PIPELINE",
  "ResumePipelineError",
  (p: { runId: string; pipeline: string }) =>
    `run "${p.runId}" is a run of pipeline "${p.pipeline}", which this app has not built: build it (app.pipeline("${p.pipeline}")...build()) before app.resume()`,
  "build the run's pipeline in the app before resuming",
);
export type ResumePipelineError = InstanceType<typeof ResumePipelineError>;

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

export { createError, isTaplineError, TaplineError };
