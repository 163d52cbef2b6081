/**
 * `@tapline/core/kit`: what plugin and tool authors need beyond the app API: core's error classes (to throw a
 * `StepValidationError` from a validator, to extend `OptionsError`), the option helpers behind
 * `parseOptions`, and the redaction helpers behind `redactSecrets`.
 */
export { TaplineError } from "./create-error.ts";
export { type Duration, parseDuration } from "./duration.ts";
export {
  AppClosedError,
  BudgetExceededError,
  CancelledError,
  PipelineDefinitionError,
  PluginError,
  StepTimeoutError,
  StepValidationError,
} from "./errors.ts";
export { silentLogger } from "./logger.ts";
export { checkOptions, formatOptionIssues, OptionsError, prefixOptionIssues } from "./options.ts";
export { createRedactor, isSecretKey, REDACTED, redactFields } from "./redact.ts";
