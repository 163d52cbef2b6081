export { type AppStatus, createTapline, type TaplineApp, type TaplineOptions } from "./app.ts";
export {
  AppClosedError,
  CancelledError,
  describeError,
  type Finding,
  type FindingSeverity,
  isAppClosedError,
  isCancelledError,
  isPipelineDefinitionError,
  isPluginError,
  isPluginRegistrationError,
  isStepTimeoutError,
  isStepValidationError,
  isTaplineError,
  PipelineDefinitionError,
  PluginError,
  PluginRegistrationError,
  StepTimeoutError,
  StepValidationError,
  TaplineError,
  type TaplineErrorCode,
} from "./errors.ts";
export type {
  MetricOptions,
  PipelineBuildEvent,
  PluginErrorEvent,
  RunContext,
  RunEndEvent,
  RunOptions,
  RunStartEvent,
  StepAttemptEvent,
  StepContext,
  StepDefinition,
  StepEndEvent,
  StepInputEvent,
  StepOptions,
  StepOutputEvent,
  StepRunner,
  StepStartEvent,
  WrapStepInfo,
} from "./events.ts";
export { type TaplineHooks, WrapStage } from "./hooks.ts";
export { createConsoleLogger, type LogLevel, silentLogger } from "./logger.ts";
export {
  checkOptions,
  formatOptionIssues,
  isOptionsError,
  type OptionIssue,
  OptionsError,
  type OptionsResult,
  parseOptions,
  prefixOptionIssues,
} from "./options.ts";
export type { Pipeline, PipelineBuilder, StepFunction } from "./pipeline.ts";
export {
  definePlugin,
  type PluginApi,
  type PluginDefinition,
  type PluginDispose,
  type PluginFactory,
  type TaplinePlugin,
} from "./plugin.ts";
export {
  createRedactor,
  isSecretKey,
  REDACTED,
  type RedactOptions,
  type Redactor,
  redactFields,
  redactSecrets,
} from "./redact.ts";
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
