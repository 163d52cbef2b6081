import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import type { ConsoleFormat } from "../kinds.ts";
import type { AlertNotification } from "../notification.ts";
import { ConsoleOptionsSchema, parseConfig } from "../schemas.ts";

/** Options of {@link consoleHandler}. */
export interface ConsoleHandlerOptions {
  /** Handler name. Default `console`. */
  readonly name?: string;
  /** Where lines go. Default `process.stderr`. */
  readonly write?: (line: string) => void;
  /** `text` (default): one readable line per alert; `json`: the notification as one JSON line. */
  readonly format?: ConsoleFormat;
}

/**
 * Prints notifications: `[FIRING:2] critical StepFailureRate: step tts failing 62% over 5m`.
 *
 * @example
 * createAlertManager({ rules, handlers: [consoleHandler()] });
 */
export function consoleHandler(input: ConsoleHandlerOptions = {}): AlertHandler {
  const options = (parseConfig(ConsoleOptionsSchema, input, { subject: "consoleHandler()" }) ??
    {}) as ConsoleHandlerOptions;
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  return defineAlertHandler({
    name: options.name ?? "console",
    retries: 0,
    send(notification) {
      write(
        options.format === "json" ? `${JSON.stringify(notification)}\n` : formatNotification(notification),
      );
    },
  });
}

/** Formats a notification as readable lines, one per alert, under a `[FIRING:n]` / `[RESOLVED]` header. */
export function formatNotification(n: AlertNotification): string {
  const firing = n.alerts.filter((a) => a.status === "firing").length;
  const head = n.status === "firing" ? `[FIRING:${firing}]` : "[RESOLVED]";
  // Under `[RESOLVED]` the header already says it; in a firing group a resolved alert is marked `resolved`.
  const what = (a: AlertNotification["alerts"][number]) =>
    a.status === "firing" ? `${a.level} ` : n.status === "firing" ? "resolved " : "";
  return `${n.alerts.map((a) => `${head} ${what(a)}${a.rule}: ${a.message}`).join("\n")}\n`;
}
