export type { RouteInput } from "./dispatcher.ts";
export { type Duration, formatDuration, parseDuration } from "./duration.ts";
export {
  AlertConfigError,
  type AlertConfigIssue,
  AlertHandlerError,
  AlertHandlerTimeoutError,
  AlertManagerClosedError,
  type AlertsErrorCode,
  isAlertConfigError,
  isAlertHandlerError,
  isAlertHandlerTimeoutError,
  isAlertManagerClosedError,
} from "./errors.ts";
export { fingerprint } from "./fingerprint.ts";
export { formatValue } from "./format.ts";
export { type AlertHandler, defineAlertHandler, type HandlerStats, type SendContext } from "./handler.ts";
export { type AlertmanagerForwarderOptions, alertmanagerForwarder } from "./handlers/alertmanager.ts";
export { type ConsoleHandlerOptions, consoleHandler, formatNotification } from "./handlers/console.ts";
export { type FileHandlerOptions, fileHandler } from "./handlers/file.ts";
export { type WebhookHandlerOptions, webhookHandler } from "./handlers/webhook.ts";
export { type AlertHistoryEntry, type ReadAlertHistoryOptions, readAlertHistory } from "./history.ts";
export { type AlertConfigFile, loadAlertConfig, parseAlertConfig } from "./load.ts";
export {
  type AlertManager,
  type AlertManagerOptions,
  checkAlertManagerOptions,
  createAlertManager,
  STEP_DURATION_METRIC,
  STEP_FAILED_METRIC,
  type StepObservation,
  type StepResult,
} from "./manager.ts";
export type { LabelMatcher, MatcherInput, MatchOperator } from "./matchers.ts";
export type { AlertNotification, NotificationAlert } from "./notification.ts";
export { type AlertsPluginOptions, alertManagerOf, alerts, PLUGIN_ERROR_METRIC } from "./plugin.ts";
export {
  breakerOpen,
  diskAlmostFull,
  gpuHot,
  gpuMemoryNearFull,
  memoryHigh,
  type PresetOptions,
  pluginErrors,
  stepFailureRate,
  stepP95,
  stuckStep,
  validationFailures,
} from "./presets.ts";
export { type AlertRuleInput, LEVELS, type LevelInput, type NoDataInput, type ThresholdOp } from "./rules.ts";
export type { InhibitRuleInput, Silence, SilenceInput } from "./silences.ts";
export type { ActiveAlert, AlertSummary } from "./summary.ts";
export type { Aggregation } from "./window.ts";
export {
  type PostableAlert,
  toPostableAlert,
  toWebhookV4,
  type WebhookV4Alert,
  type WebhookV4Options,
  type WebhookV4Payload,
  ZERO_TIME,
} from "./wire.ts";
