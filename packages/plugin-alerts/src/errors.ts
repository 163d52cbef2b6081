import { describeError, type OptionIssue } from "@tapline/core";
import { formatOptionIssues, TaplineError } from "@tapline/core/kit";

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

/**
 * Rules, notification or handler options are invalid. Thrown once, when the manager, plugin or handler is
 * created or a rule file is loaded; `issues` lists every bad field with its path, not only the first, and
 * `file` / `subject` say what was being configured.
 *
 * @example
 * // AlertConfigError: invalid alert configuration in alerts.yaml (1 problem):
 * //   - rules[0].levelz: unknown option "levelz"; did you mean "levels"? (known: ...)
 */
export class AlertConfigError extends TaplineError {
  readonly isAlertConfigError = true;
  readonly issues: readonly AlertConfigIssue[];
  /** The rule file, when the rules came from one. */
  readonly file: string | undefined;
  /** What was configured: the rule file, or a factory such as `webhookHandler()` or `createAlertManager()`. */
  readonly subject: string;
  constructor(
    issues: readonly AlertConfigIssue[],
    source?: string | { readonly file?: string; readonly subject?: string },
    options?: { cause?: unknown },
  ) {
    const file = typeof source === "string" ? source : source?.file;
    const subject =
      (typeof source === "object" ? source.subject : undefined) ?? file ?? "alert configuration";
    const head = file
      ? `invalid alert configuration in ${file}`
      : typeof source === "object" && source.subject
        ? `${source.subject}: invalid options`
        : "invalid alert configuration";
    super(
      "TAPLINE_ERR_ALERTS_CONFIG",
      `${head} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${formatOptionIssues(issues)}`,
      options,
    );
    this.name = "AlertConfigError";
    this.issues = issues;
    this.file = file;
    this.subject = subject;
  }
}

/** True for an {@link AlertConfigError}, whichever copy of the package made it. */
export const isAlertConfigError = (e: unknown): e is AlertConfigError =>
  !!e && e instanceof Error && "isAlertConfigError" in e;

/**
 * A handler failed to deliver a notification after all its attempts. Never thrown at the caller: it is
 * reported through `onHandlerError` (the plugin forwards it to `pluginError`) and counted.
 */
export class AlertHandlerError extends TaplineError {
  readonly isAlertHandlerError = true;
  readonly handler: string;
  readonly attempts: number;
  constructor(
    handler: string,
    attempts: number,
    cause: unknown,
    code: AlertsErrorCode = "TAPLINE_ERR_ALERTS_HANDLER",
  ) {
    super(
      code,
      `alert handler "${handler}" failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${describeError(cause)}`,
      { cause },
    );
    this.name = "AlertHandlerError";
    this.handler = handler;
    this.attempts = attempts;
  }
}

/** True for an {@link AlertHandlerError}. */
export const isAlertHandlerError = (e: unknown): e is AlertHandlerError =>
  !!e && e instanceof Error && "isAlertHandlerError" in e;

/** One attempt of a handler ran past its timeout; its signal was aborted with this reason. */
export class AlertHandlerTimeoutError extends TaplineError {
  readonly isAlertHandlerTimeoutError = true;
  readonly handler: string;
  readonly timeoutMs: number;
  constructor(handler: string, timeoutMs: number) {
    super(
      "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT",
      `alert handler "${handler}" did not finish within ${timeoutMs} ms (raise its "timeoutMs" if the receiver is slow)`,
    );
    this.name = "AlertHandlerTimeoutError";
    this.handler = handler;
    this.timeoutMs = timeoutMs;
  }
}

/** True for an {@link AlertHandlerTimeoutError}. */
export const isAlertHandlerTimeoutError = (e: unknown): e is AlertHandlerTimeoutError =>
  !!e && e instanceof Error && "isAlertHandlerTimeoutError" in e;

/** The alert manager was closed; create a new one. */
export class AlertManagerClosedError extends TaplineError {
  readonly isAlertManagerClosedError = true;
  constructor(what: string) {
    super("TAPLINE_ERR_ALERTS_CLOSED", `cannot ${what}: the alert manager is closed (create a new one)`);
    this.name = "AlertManagerClosedError";
  }
}

/** True for an {@link AlertManagerClosedError}. */
export const isAlertManagerClosedError = (e: unknown): e is AlertManagerClosedError =>
  !!e && e instanceof Error && "isAlertManagerClosedError" in e;

/** @internal One line describing a thrown value (core's wording). */
export { describeError };
