import type { AlertLevel } from "@tapline/core";
import * as v from "valibot";
import { formatDuration } from "../duration.ts";
import { AlertConfigError } from "../errors.ts";
import { formatValue } from "../format.ts";
import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import type { AlertNotification, NotificationAlert } from "../notification.ts";
import { delivery, NonEmpty, parseSecretConfig } from "../schemas.ts";
import { parseEndpoint, postJson, withoutSecrets } from "./http.ts";

/** Options of {@link slackHandler}. */
export interface SlackHandlerOptions {
  /**
   * The incoming webhook's URL (`https://hooks.slack.com/services/T…/B…/…`). It is the secret: errors and
   * logs name only `https://hooks.slack.com/…`.
   */
  readonly url: string;
  /** Handler name. Default `slack`. */
  readonly name?: string;
  /**
   * A link for each alert's button (a dashboard, a runbook); `{{fingerprint}}`, `{{rule}}` and
   * `{{labels.NAME}}` are filled in (URL-encoded).
   */
  readonly link?: string;
  /** Alerts shown per message (Slack allows 50 blocks); the rest are counted in a last line. Default 10. */
  readonly maxAlerts?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoffMs?: number;
  /** Post a follow-up when alerts resolve. Default true. */
  readonly sendResolved?: boolean;
}

const SlackOptionsSchema = v.strictObject({
  ...delivery,
  url: v.string(),
  link: v.optional(NonEmpty),
  maxAlerts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20))),
  sendResolved: v.optional(v.boolean()),
});

/** The attachment colour per level (Slack's legacy `color` is the only way to colour a Block Kit message). */
export const SLACK_COLORS: Readonly<Record<AlertLevel | "resolved", string>> = {
  info: "#439fe0",
  warning: "#daa038",
  error: "#e01e5a",
  critical: "#8b0000",
  resolved: "#2eb67d",
};

/**
 * Posts notifications to a Slack incoming webhook as Block Kit messages: one coloured attachment per alert
 * (level colour, a header, the message, value and labels as fields, a button to `link`), plus a plain `text`
 * for notifications and screen readers. An incoming webhook cannot edit a message it posted, so a resolve is a
 * follow-up message in the resolved colour that names the same alert (rule, labels and fingerprint) and how
 * long it fired. 5xx, 408, 429 and network errors are retried; Slack's 4xx answers (`invalid_payload`,
 * `no_service`, `channel_is_archived`) are not. A redirect is never followed.
 *
 * @example
 * slackHandler({ url: process.env.SLACK_WEBHOOK_URL!, link: "https://grafana.example.com/d/tapline?var-fp={{fingerprint}}" })
 */
export function slackHandler(options: SlackHandlerOptions): AlertHandler {
  const subject = "slackHandler()";
  const checked = parseSecretConfig(SlackOptionsSchema, options, subject, ["url"]) as SlackHandlerOptions;
  const endpoint = parseEndpoint(
    "slack",
    checked.url,
    { "user-agent": "Tapline-Alerts/1.0" },
    "https://hooks.slack.com/services/…",
  );
  if (typeof endpoint === "string")
    throw new AlertConfigError({
      issues: [{ path: "url", message: endpoint }], // the URL is the secret: never echoed
      subject,
    });
  const secret = endpoint.url.pathname + endpoint.url.search;
  const max = checked.maxAlerts ?? 10;
  return defineAlertHandler({
    name: checked.name ?? "slack",
    ...(checked.timeoutMs !== undefined && { timeoutMs: checked.timeoutMs }),
    ...(checked.retries !== undefined && { retries: checked.retries }),
    ...(checked.backoffMs !== undefined && { backoffMs: checked.backoffMs }),
    ...(checked.sendResolved !== undefined && { sendResolved: checked.sendResolved }),
    async send(notification, { signal }) {
      const body = JSON.stringify(toSlackMessage(notification, { max, link: checked.link }));
      await withoutSecrets([secret, checked.url], () => postJson(endpoint, body, signal));
    },
  });
}

/** A Slack message: fallback `text` and one attachment of blocks per alert. */
export interface SlackMessage {
  text: string;
  attachments: { color: string; fallback: string; blocks: SlackBlock[] }[];
}
type Text = { type: "plain_text" | "mrkdwn"; text: string; emoji?: boolean };
type SlackBlock =
  | { type: "header"; text: Text }
  | { type: "section"; text: Text; fields?: Text[] }
  | { type: "context"; elements: Text[] }
  | { type: "actions"; elements: { type: "button"; text: Text; url: string }[] };

/** @internal Builds the Block Kit message of a notification (within Slack's documented limits). */
export function toSlackMessage(
  n: AlertNotification,
  options: { readonly max: number; readonly link?: string | undefined },
): SlackMessage {
  const firing = n.alerts.filter((a) => a.status === "firing");
  const title =
    n.status === "firing"
      ? `[FIRING:${firing.length}] ${n.level} ${groupName(n)}`
      : `[RESOLVED] ${groupName(n)}`;
  const shown = n.alerts.slice(0, options.max);
  const attachments = shown.map((a) => attachment(a, n.time, options.link));
  const left = n.alerts.length - shown.length;
  if (left > 0)
    attachments.push({
      color: SLACK_COLORS[n.level],
      fallback: `and ${left} more`,
      blocks: [
        {
          type: "context",
          elements: [mrkdwn(`…and ${left} more alert${left === 1 ? "" : "s"} in this group`)],
        },
      ],
    });
  return { text: cut(`${title}: ${n.alerts.map((a) => a.message).join("; ")}`, 3000), attachments };
}

function groupName(n: AlertNotification): string {
  const names = [...new Set(n.alerts.map((a) => a.rule))];
  return names.length === 1 ? names[0]! : `${names.length} rules`;
}

function attachment(
  a: NotificationAlert,
  now: number,
  link: string | undefined,
): SlackMessage["attachments"][number] {
  const resolved = a.status === "resolved";
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: cut(`${resolved ? "✅ Resolved" : `🔥 ${a.level}`}: ${a.rule}`, 150),
        emoji: true,
      },
    },
  ];
  const fields: Text[] = [];
  if (a.value !== undefined) fields.push(mrkdwn(`*Value*\n${formatValue(a.value)}`));
  fields.push(
    mrkdwn(
      resolved
        ? `*Fired for*\n${formatDuration(Math.max(0, (a.endsAt ?? now) - a.startsAt))}`
        : `*Since*\n<!date^${Math.floor(a.startsAt / 1000)}^{date_short_pretty} {time}|${new Date(a.startsAt).toISOString()}>`,
    ),
  );
  for (const [k, val] of Object.entries(a.labels)) {
    if (k === "alertname" || fields.length >= 10) continue;
    fields.push(mrkdwn(cut(`*${escapeMrkdwn(k)}*\n${escapeMrkdwn(val)}`, 2000)));
  }
  blocks.push({ type: "section", text: mrkdwn(cut(escapeMrkdwn(a.message), 3000)), fields });
  blocks.push({
    type: "context",
    elements: [
      mrkdwn(`fingerprint \`${a.fingerprint}\`${resolved ? " · follows up on the alert above" : ""}`),
    ],
  });
  if (link)
    blocks.push({
      type: "actions",
      elements: [
        { type: "button", text: { type: "plain_text", text: "Open" }, url: cut(fillLink(link, a), 3000) },
      ],
    });
  return {
    color: resolved ? SLACK_COLORS.resolved : SLACK_COLORS[a.level],
    fallback: cut(a.message, 300),
    blocks,
  };
}

function fillLink(template: string, a: NotificationAlert): string {
  return template.replace(/\{\{\s*([a-zA-Z_.][a-zA-Z0-9_.]*)\s*\}\}/g, (whole, key: string) => {
    const value =
      key === "fingerprint"
        ? a.fingerprint
        : key === "rule"
          ? a.rule
          : key.startsWith("labels.")
            ? (a.labels[key.slice(7)] ?? "")
            : undefined;
    return value === undefined ? whole : encodeURIComponent(value);
  });
}

const mrkdwn = (text: string): Text => ({ type: "mrkdwn", text });
/** Slack's mrkdwn escapes: &, < and > only. */
const escapeMrkdwn = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
