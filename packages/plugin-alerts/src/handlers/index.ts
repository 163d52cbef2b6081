/**
 * `@tapline/plugin-alerts/handlers`: notification handlers for services, each on `defineAlertHandler` (the same
 * queue, timeout, retries and isolation as the built-in ones): Slack incoming webhooks (Block Kit), PagerDuty
 * Events API v2, and email over SMTP (`nodemailer`, an optional peer dependency loaded on the first send).
 */
export {
  type EmailHandlerOptions,
  emailHandler,
  STARTTLS_MODES,
  type StartTlsMode,
} from "./email.ts";
export {
  PAGERDUTY_SEVERITIES,
  type PagerDutyEvent,
  type PagerDutyHandlerOptions,
  type PagerDutySeverity,
  pagerDutyHandler,
} from "./pagerduty.ts";
export { SLACK_COLORS, type SlackHandlerOptions, type SlackMessage, slackHandler } from "./slack.ts";
