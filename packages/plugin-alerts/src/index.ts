/**
 * `@tapline/plugin-alerts`: the `alerts` plugin and the manager behind it (`createAlertManager`), rule files and
 * history, the alert-handler contract with the four built-in handlers, and rule `presets`. Errors are checked
 * with core's `isTaplineError(e, "TAPLINE_ERR_ALERTS_*")`. How a notification looks on the wire (webhook v4,
 * Alertmanager's API, the console line, fingerprints) is in `@tapline/plugin-alerts/formats`.
 */
export {
  type BacktestEvent,
  type BacktestOptions,
  type BacktestRecord,
  type BacktestResult,
  type BacktestRuleResult,
  type BacktestRunRecord,
  type BacktestStepRecord,
  backtest,
} from "./backtest.ts";
export type { RouteInput } from "./dispatcher.ts";
export type { Duration } from "./duration.ts";
export type {
  AlertConfigError,
  AlertConfigIssue,
  AlertHandlerError,
  AlertHandlerTimeoutError,
  AlertManagerClosedError,
  AlertsErrorCode,
} from "./errors.ts";
export {
  type AlertHandler,
  defineAlertHandler,
  type HandlerContext,
  type HandlerStats,
  type SendContext,
} from "./handler.ts";
export { type AlertmanagerForwarderOptions, alertmanagerForwarder } from "./handlers/alertmanager.ts";
export { type ConsoleHandlerOptions, consoleHandler } from "./handlers/console.ts";
export { type FileHandlerOptions, fileHandler } from "./handlers/file.ts";
export { type WebhookHandlerOptions, webhookHandler } from "./handlers/webhook.ts";
export { type AlertHistoryEntry, type ReadAlertHistoryOptions, readAlertHistory } from "./history.ts";
export type {
  AnomalyDirection,
  ConsoleFormat,
  NoDataState,
  RegressionCompare,
  RuleKind,
  RuleScope,
  ThresholdOp,
} from "./kinds.ts";
export { type AlertConfigFile, loadAlertConfig } from "./load.ts";
export {
  type AlertManager,
  type AlertManagerOptions,
  createAlertManager,
  type StepObservation,
  type StepResult,
} from "./manager.ts";
export type { LabelMatcher, MatcherInput, MatchOperator } from "./matchers.ts";
export type { AlertNotification, NotificationAlert } from "./notification.ts";
export { type AlertsPluginOptions, alertManagerOf, alerts, type StepSize } from "./plugin.ts";
export { type PresetOptions, presets } from "./presets.ts";
export type { AlertRuleInput, FlapInput, LevelInput, NoDataInput } from "./rules.ts";
export type { InhibitRuleInput, Silence, SilenceInput } from "./silences.ts";
export type { ActiveAlert, AlertSummary } from "./summary.ts";
export type { Aggregation } from "./window.ts";
