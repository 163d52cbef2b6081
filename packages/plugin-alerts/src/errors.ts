import { createError, describeError, isTaplineError, type OptionIssue } from "@tapline/core";
import { formatOptionIssues } from "@tapline/core/kit";

/**
 * plugin-alerts' errors, each made by core's `createError` from one line: a stable `code`, a name, a message
 * from its fields. Check them with core's guard, `isTaplineError(e, "TAPLINE_ERR_ALERTS_CONFIG")`, which narrows
 * to the error's fields and survives two copies of the package.
 */

/** Every error code plugin-alerts throws. */
export type AlertsErrorCode =
  | "TAPLINE_ERR_ALERTS_CONFIG"
  | "TAPLINE_ERR_ALERTS_HANDLER"
  | "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT"
  | "TAPLINE_ERR_ALERTS_CLOSED";

/**
 * One bad field of a rule, route, silence or handler option: its path (`rules[2].levels.warning.threshold`),
 * what is wrong, and when known the value given, what was expected and the closest valid key (core's
 * `OptionIssue`, the same shape every Tapline package reports).
 */
export interface AlertConfigIssue extends OptionIssue {}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Rules, notification or handler options are invalid. Thrown once, when the manager, plugin or handler is
 * created or a rule file is loaded; `issues` lists every bad field with its path, not only the first, `subject`
 * says what was configured (a factory such as `webhookHandler()`, or the rule file) and `file` the rule file.
 *
 * @example
 * // AlertConfigError: invalid alert configuration in alerts.yaml (1 problem):
 * //   - rules[0].levelz: unknown option "levelz"; did you mean "levels"? (known: ...)
 */
export const AlertConfigError = createError(
  "TAPLINE_ERR_ALERTS_CONFIG",
  "AlertConfigError",
  (p: { issues: readonly AlertConfigIssue[]; subject: string; file?: string }) =>
    `${p.file === undefined ? `${p.subject}: invalid options` : `invalid alert configuration in ${p.file}`} (${plural(p.issues.length, "problem")}):\n${formatOptionIssues(p.issues)}`,
  "fix each listed field (an unknown key names the closest known one)",
);
export type AlertConfigError = InstanceType<typeof AlertConfigError>;

type GaveUp = { handler: string; attempts: number; cause: unknown };
const gaveUp = (p: GaveUp) =>
  `alert handler "${p.handler}" failed after ${plural(p.attempts, "attempt")}: ${describeError(p.cause)}`;

/**
 * A handler failed to deliver a notification after all its attempts, or reported a background failure. Never
 * thrown at the caller: it is reported through `onError` (the plugin forwards it to `pluginError`) and counted.
 * When the last attempt timed out its code is `TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT` (see {@link handlerGaveUp}).
 */
export const AlertHandlerError = createError(
  "TAPLINE_ERR_ALERTS_HANDLER",
  "AlertHandlerError",
  gaveUp,
  "see the cause; the handler's counters are in summary().handlers",
);
const AlertHandlerTimedOut = createError(
  "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT",
  "AlertHandlerError",
  gaveUp,
  "raise the handler's timeoutMs if the receiver is slow",
);
export type AlertHandlerError = InstanceType<typeof AlertHandlerError | typeof AlertHandlerTimedOut>;

/** One attempt of a handler ran past its timeout; its signal was aborted with this reason. */
export const AlertHandlerTimeoutError = createError(
  "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT",
  "AlertHandlerTimeoutError",
  (p: { handler: string; timeoutMs: number }) =>
    `alert handler "${p.handler}" did not finish within ${p.timeoutMs} ms (raise its "timeoutMs" if the receiver is slow)`,
  "raise the handler's timeoutMs if the receiver is slow",
);
export type AlertHandlerTimeoutError = InstanceType<typeof AlertHandlerTimeoutError>;

/** The alert manager was closed; create a new one. */
export const AlertManagerClosedError = createError(
  "TAPLINE_ERR_ALERTS_CLOSED",
  "AlertManagerClosedError",
  (p: { what: string }) => `cannot ${p.what}: the alert manager is closed (create a new one)`,
  "create a new manager (the plugin drops alerts that arrive while the app closes)",
);
export type AlertManagerClosedError = InstanceType<typeof AlertManagerClosedError>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_ALERTS_CONFIG: AlertConfigError;
    TAPLINE_ERR_ALERTS_HANDLER: InstanceType<typeof AlertHandlerError>;
    TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT: AlertHandlerTimeoutError | InstanceType<typeof AlertHandlerTimedOut>;
    TAPLINE_ERR_ALERTS_CLOSED: AlertManagerClosedError;
  }
}

/**
 * The error of a handler that gave up after `attempts`: an {@link AlertHandlerError}, whose code is
 * `TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT` when the last attempt timed out (the cause, or its cause, is an
 * {@link AlertHandlerTimeoutError}).
 */
export function handlerGaveUp(handler: string, attempts: number, cause: unknown): AlertHandlerError {
  const timeout = AlertHandlerTimeoutError.code;
  const timedOut =
    isTaplineError(cause, timeout) || (cause instanceof Error && isTaplineError(cause.cause, timeout));
  const Made = timedOut ? AlertHandlerTimedOut : AlertHandlerError;
  return new Made({ handler, attempts, cause });
}
