import type { AlertLevel } from "@tapline/core";
import * as v from "valibot";
import { AlertConfigError } from "../errors.ts";
import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import { LEVELS } from "../kinds.ts";
import type { NotificationAlert } from "../notification.ts";
import { delivery, NonEmpty, parseSecretConfig } from "../schemas.ts";
import { instanceKey, wireLabels } from "../wire.ts";
import { parseEndpoint, postJson, withoutSecrets } from "./http.ts";

/** PagerDuty's event severities (Events API v2 `payload.severity`). */
export const PAGERDUTY_SEVERITIES = ["critical", "error", "warning", "info"] as const;
/** A PagerDuty event severity. */
export type PagerDutySeverity = (typeof PAGERDUTY_SEVERITIES)[number];

/** Options of {@link pagerDutyHandler}. */
export interface PagerDutyHandlerOptions {
  /** The integration's routing key (32 characters). A secret: never in logs, history or errors. */
  readonly routingKey: string;
  /** Handler name. Default `pagerduty`. */
  readonly name?: string;
  /** The Events API endpoint. Default `https://events.pagerduty.com/v2/enqueue` (EU: `https://events.eu.pagerduty.com/v2/enqueue`). */
  readonly url?: string;
  /** `payload.source`. Default the host name. */
  readonly source?: string;
  /** Severity per level. Default: the same names (info → info, …, critical → critical). */
  readonly severities?: Partial<Readonly<Record<AlertLevel, PagerDutySeverity>>>;
  /** A link sent with each trigger (`links[0].href`); `{{fingerprint}}` and `{{rule}}` are filled in. */
  readonly link?: string;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoffMs?: number;
}

const PagerDutyOptionsSchema = v.strictObject({
  ...delivery,
  routingKey: v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9]{32}$/, "the integration's 32-character routing key (Events API v2)"),
  ),
  url: v.optional(v.string()),
  source: v.optional(NonEmpty),
  severities: v.optional(
    v.strictObject(
      Object.fromEntries(LEVELS.map((l) => [l, v.optional(v.picklist(PAGERDUTY_SEVERITIES))])) as Record<
        AlertLevel,
        v.OptionalSchema<v.PicklistSchema<typeof PAGERDUTY_SEVERITIES, undefined>, undefined>
      >,
    ),
  ),
  link: v.optional(NonEmpty),
});

/** One Events API v2 event, as documented (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty). */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: "trigger" | "resolve";
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
  client?: string;
}

/** Most instances a handler remembers (for resolving the old dedup key on a level change). */
const MAX_REMEMBERED = 10_000;

/**
 * Sends alerts to PagerDuty's Events API v2: one `trigger` per firing alert and one `resolve` per resolved
 * one, each with `dedup_key` = the alert's fingerprint, so PagerDuty dedups re-sends and the resolve closes the
 * incident it opened. The fingerprint includes `severity`: when an alert changes level, the handler resolves
 * the old level's incident and triggers the new one. 429, 5xx and network errors are retried; a 400 (a bad
 * event or routing key) is not.
 *
 * @example
 * pagerDutyHandler({ routingKey: process.env.PD_ROUTING_KEY!, severities: { error: "critical" } })
 */
export function pagerDutyHandler(options: PagerDutyHandlerOptions): AlertHandler {
  const subject = "pagerDutyHandler()";
  const checked = parseSecretConfig(PagerDutyOptionsSchema, options, subject, [
    "routingKey",
    "url",
  ]) as PagerDutyHandlerOptions;
  const endpoint = parseEndpoint(
    "pagerduty",
    checked.url ?? "https://events.pagerduty.com/v2/enqueue",
    { "user-agent": "Tapline-Alerts/1.0" },
    "https://events.pagerduty.com/v2/enqueue",
  );
  if (typeof endpoint === "string")
    throw new AlertConfigError({ issues: [{ path: "url", message: endpoint }], subject });
  const key = checked.routingKey;
  const source = checked.source ?? process.env.HOSTNAME ?? "tapline";
  const severity = (level: AlertLevel): PagerDutySeverity => checked.severities?.[level] ?? level;
  // instance (labels without severity) → the fingerprint PagerDuty has open for it
  const open = new Map<string, string>();
  const post = (event: PagerDutyEvent, signal: AbortSignal) =>
    withoutSecrets([key], () => postJson(endpoint, JSON.stringify(event), signal));
  return defineAlertHandler({
    name: checked.name ?? "pagerduty",
    ...(checked.timeoutMs !== undefined && { timeoutMs: checked.timeoutMs }),
    ...(checked.retries !== undefined && { retries: checked.retries }),
    ...(checked.backoffMs !== undefined && { backoffMs: checked.backoffMs }),
    async send(notification, { signal }) {
      for (const alert of notification.alerts) {
        const instance = instanceKey(alert);
        const before = open.get(instance);
        if (alert.status === "resolved") {
          await post(resolveEvent(key, before ?? alert.fingerprint), signal);
          open.delete(instance);
          continue;
        }
        if (before === alert.fingerprint) {
          await post(triggerEvent(key, alert, source, severity(alert.level), checked.link), signal); // a repeat: PagerDuty dedups it
          continue;
        }
        if (before !== undefined) await post(resolveEvent(key, before), signal); // level changed: close the old one
        await post(triggerEvent(key, alert, source, severity(alert.level), checked.link), signal);
        open.delete(instance);
        if (open.size >= MAX_REMEMBERED) open.delete(open.keys().next().value!);
        open.set(instance, alert.fingerprint);
      }
    },
  });
}

function resolveEvent(routingKey: string, dedupKey: string): PagerDutyEvent {
  return { routing_key: routingKey, event_action: "resolve", dedup_key: dedupKey };
}

function triggerEvent(
  routingKey: string,
  a: NotificationAlert,
  source: string,
  severity: PagerDutySeverity,
  link: string | undefined,
): PagerDutyEvent {
  const labels = wireLabels(a);
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: a.fingerprint,
    payload: {
      summary: a.message.length <= 1024 ? a.message : `${a.message.slice(0, 1023)}…`,
      source,
      severity,
      timestamp: new Date(a.startsAt).toISOString(),
      ...(labels.step !== undefined && { component: labels.step }),
      ...(labels.pipeline !== undefined && { group: labels.pipeline }),
      class: a.rule,
      custom_details: {
        labels,
        annotations: a.annotations,
        ...(a.value !== undefined && { value: a.value }),
        ...(a.runId !== undefined && { runId: a.runId }),
      },
    },
    ...(link && {
      links: [
        {
          href: link.replace(/\{\{\s*(fingerprint|rule)\s*\}\}/g, (_w, k: string) =>
            encodeURIComponent(k === "rule" ? a.rule : a.fingerprint),
          ),
          text: a.rule,
        },
      ],
    }),
    client: "Tapline",
  };
}
