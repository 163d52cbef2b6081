/**
 * The app API: ten values (createTapline, definePlugin, WrapStage, createError, isTaplineError, describeError,
 * parseOptions, redactSecrets, createConsoleLogger, CORE_VERSION) and the types of the vocabulary and hooks.
 * What plugin and tool authors need beyond it (error classes to throw, option and redaction helpers) is in
 * `@tapline/core/kit`.
 */
export { type AppStatus, createTapline, type TaplineApp, type TaplineOptions } from "./app.ts";
export {
  createError,
  type ErrorArgs,
  isTaplineError,
  type TaplineError,
  type TaplineErrorClass,
  type TaplineErrorMap,
} from "./create-error.ts";
export {
  type AppClosedError,
  type BudgetExceededError,
  type CancelledError,
  describeError,
  type Finding,
  type FindingSeverity,
  type NoDurableStoreError,
  type PipelineDefinitionError,
  type PluginError,
  type PluginRegistrationCode,
  type PluginRegistrationError,
  type ResumePipelineError,
  type RunNotFoundError,
  type RunNotSuspendedError,
  type RunSuspendedError,
  type StepTimeoutError,
  type StepValidationError,
  type TaplineErrorCode,
} from "./errors.ts";
export type {
  CostOptions,
  Costs,
  LoadRunEvent,
  MetricOptions,
  PipelineBuildEvent,
  PluginErrorEvent,
  ReplayedUnit,
  ReplayUnitEvent,
  ResumeOptions,
  RunContext,
  RunEndEvent,
  RunOptions,
  RunStartEvent,
  SavedRun,
  SaveUnitEvent,
  StepAttemptEvent,
  StepContext,
  StepDefinition,
  StepEndEvent,
  StepInputEvent,
  StepOptions,
  StepOutputEvent,
  StepRunner,
  StepStartEvent,
  SuspendOptions,
  WrapStepInfo,
} from "./events.ts";
export { type TaplineHooks, WrapStage } from "./hooks.ts";
export { createConsoleLogger, type LogLevel } from "./logger.ts";
export { type OptionIssue, type OptionsError, type OptionsResult, parseOptions } from "./options.ts";
export type {
  MapItemResult,
  MapOptions,
  Pipeline,
  PipelineBuilder,
  PipelineOptions,
  StepFunction,
  SubPipeline,
  UnitOutput,
  UnitSpec,
} from "./pipeline.ts";
export {
  definePlugin,
  type PluginApi,
  type PluginDefinition,
  type PluginDispose,
  type PluginFactory,
  type TaplinePlugin,
} from "./plugin.ts";
export { type RedactOptions, type Redactor, redactSecrets } from "./redact.ts";
export type {
  AttemptReport,
  RunReport,
  RunStatus,
  StepExtensions,
  StepReport,
  StepReportExtensions,
  StepStatus,
} from "./report.ts";
export { CORE_VERSION } from "./version.ts";
export type {
  AlertEvent,
  AlertLevel,
  AlertState,
  Artifact,
  Labels,
  Logger,
  MetricSample,
  StatusLevel,
  StatusPart,
} from "./vocabulary.ts";
