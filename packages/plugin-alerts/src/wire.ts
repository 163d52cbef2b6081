import type { Labels } from "@tapline/core";
import { labelKey } from "./fingerprint.ts";
import type { AlertNotification, NotificationAlert } from "./notification.ts";

/** Alertmanager's "zero" time, which a firing alert carries as `endsAt` in webhook v4 bodies. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** One alert of an Alertmanager webhook v4 body. */
export interface WebhookV4Alert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** The JSON body Alertmanager posts to a webhook receiver (version 4), as captured from Alertmanager 0.25. */
export interface WebhookV4Payload {
  receiver: string;
  status: "firing" | "resolved";
  alerts: WebhookV4Alert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
}

/** Options of {@link toWebhookV4}. */
export interface WebhookV4Options {
  /** The receiver name in the body. */
  readonly receiver: string;
  /** `externalURL` in the body (where a human can see the alerts). Default `""`. */
  readonly externalURL?: string;
  /** `generatorURL` of each alert. Default `""`. */
  readonly generatorURL?: string;
  /** Cap on alerts per body; the rest are counted in `truncatedAlerts` (Alertmanager's `max_alerts`). 0 = no cap. */
  readonly maxAlerts?: number;
}

/** @internal The labels an alert carries on the wire: identity labels, `severity`, and `run_id` for run-scoped ones. */
export function wireLabels(alert: NotificationAlert): Record<string, string> {
  const labels: Record<string, string> = { ...alert.labels };
  if (alert.runId !== undefined && labels.run_id === undefined) labels.run_id = alert.runId;
  return labels;
}

/** @internal The identity of an alert instance across level changes: its wire labels without `severity`. */
export function instanceKey(alert: NotificationAlert): string {
  const { severity: _severity, ...rest } = wireLabels(alert);
  return labelKey(rest);
}

/**
 * Converts a notification to the body Alertmanager sends to webhooks (v4), so receivers written for
 * Alertmanager work unchanged. Each alert's `fingerprint` is the alert's one fingerprint, the one Alertmanager
 * computes over the same labels (`severity` and `run_id` included).
 */
export function toWebhookV4(notification: AlertNotification, options: WebhookV4Options): WebhookV4Payload {
  const max = options.maxAlerts ?? 0;
  const alerts = max > 0 ? notification.alerts.slice(0, max) : notification.alerts;
  return {
    receiver: options.receiver,
    status: notification.status,
    alerts: alerts.map((a) => {
      const labels = wireLabels(a);
      return {
        status: a.status,
        labels,
        annotations: { ...a.annotations },
        startsAt: new Date(a.startsAt).toISOString(),
        endsAt: a.endsAt === undefined ? ZERO_TIME : new Date(a.endsAt).toISOString(),
        generatorURL: options.generatorURL ?? "",
        fingerprint: a.fingerprint,
      };
    }),
    groupLabels: { ...notification.groupLabels },
    commonLabels: commonWire(notification.alerts.map(wireLabels)),
    commonAnnotations: { ...notification.commonAnnotations },
    externalURL: options.externalURL ?? "",
    version: "4",
    groupKey: notification.groupKey,
    truncatedAlerts: notification.alerts.length - alerts.length,
  };
}

function commonWire(sets: Labels[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0] };
  for (const set of sets.slice(1)) for (const k of Object.keys(out)) if (set[k] !== out[k]) delete out[k];
  return out;
}

/** One alert of Alertmanager's `POST /api/v2/alerts` body. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * Converts an alert to Alertmanager's API v2 shape. A firing alert gets `endsAt = now + validForMs` (so it
 * expires in Alertmanager if this process dies, as Prometheus does); a resolved one its real `endsAt`.
 */
export function toPostableAlert(
  alert: NotificationAlert,
  now: number,
  validForMs: number,
  generatorURL?: string,
): PostableAlert {
  return {
    labels: wireLabels(alert),
    annotations: { ...alert.annotations },
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: new Date(alert.status === "resolved" ? (alert.endsAt ?? now) : now + validForMs).toISOString(),
    ...(generatorURL && { generatorURL }),
  };
}

/** @internal A URL safe for logs and errors: scheme and host only (paths and queries often carry tokens). */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return "<invalid url>";
  }
}

/** @internal An HTTP error from a receiver; 4xx other than 408/429 are not retried. */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly retryable: boolean;
  constructor(what: string, status: number, body: string) {
    super(`${what} answered HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ""}`);
    this.name = "HttpStatusError";
    this.status = status;
    this.retryable = status >= 500 || status === 408 || status === 429;
  }
}
