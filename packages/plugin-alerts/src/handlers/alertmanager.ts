import { describeError, redactSecrets } from "@tapline/core";
import { AlertConfigError, AlertHandlerTimeoutError } from "../errors.ts";
import { type AlertHandler, defineAlertHandler, type HandlerContext } from "../handler.ts";
import type { NotificationAlert } from "../notification.ts";
import { ForwarderOptionsSchema, parseConfig } from "../schemas.ts";
import { instanceKey, type PostableAlert, toPostableAlert, wireLabels } from "../wire.ts";
import { type Endpoint, parseEndpoint, postJson } from "./http.ts";

/** Options of {@link alertmanagerForwarder}. */
export interface AlertmanagerForwarderOptions {
  /**
   * Base URL of Alertmanager, e.g. `http://127.0.0.1:9093` (alerts go to `<url>/api/v2/alerts`). Credentials in
   * it (`http://user:pass@am:9093`) are sent as a Basic `Authorization` header. Redirects are never followed: a
   * 3xx fails the post with an error that says "redirect" and where to.
   */
  readonly url: string;
  /** Handler name. Default `alertmanager`. */
  readonly name?: string;
  /** Extra headers (e.g. `Authorization` for a proxy); never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * How often active alerts are re-sent, in ms. Each firing alert is posted with `endsAt = now + 4 × this`, so
   * Alertmanager keeps it while this process lives and lets it expire if it dies. Default 60 000.
   */
  readonly resendIntervalMs?: number;
  /** `generatorURL` of every alert (a link back to this worker). */
  readonly generatorURL?: string;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoffMs?: number;
  /**
   * Also called with each failure of a background re-send (the next re-send tries again). Such failures are
   * reported anyway like any failed notification: counted in `tapline_alert_notifications_total{outcome="failed"}`
   * and `summary().handlers`, and passed to the manager's `onError` (the plugin's `pluginError`) as an
   * `AlertHandlerError`.
   */
  readonly onResendError?: (error: unknown) => void;
}

const EXAMPLE = "http://127.0.0.1:9093";

/**
 * Forwards alerts to a real Alertmanager (`POST /api/v2/alerts`): each transition at once (Alertmanager does its
 * own grouping, so this handler is `immediate`), active alerts re-sent before they expire, `endsAt` on resolve.
 * When an alert changes level its `severity` label changes, so the old label set is resolved in the same post.
 *
 * @example
 * alertmanagerForwarder({ url: "http://127.0.0.1:9093" })
 */
export function alertmanagerForwarder(input: AlertmanagerForwarderOptions): AlertHandler {
  const subject = "alertmanagerForwarder()";
  const options = parseConfig(ForwarderOptionsSchema, input, { subject }) as AlertmanagerForwarderOptions;
  const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
  let endpoint: Endpoint | string;
  try {
    // resolving keeps user:pass@ of the base, which parseEndpoint turns into Basic auth
    endpoint = parseEndpoint("Alertmanager", new URL("api/v2/alerts", base).href, options.headers, EXAMPLE);
  } catch {
    endpoint = parseEndpoint("Alertmanager", options.url, options.headers, EXAMPLE);
  }
  if (typeof endpoint === "string")
    throw new AlertConfigError({
      issues: [{ path: "url", message: endpoint, value: redactSecrets(options.url) }],
      subject,
    });
  const target = endpoint;
  const resendMs = options.resendIntervalMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  /** instance (labels without severity) → the alert as last posted (firing). */
  const active = new Map<string, NotificationAlert>();
  let timer: NodeJS.Timeout | undefined;

  const post = (alerts: PostableAlert[], signal: AbortSignal): Promise<void> =>
    postJson(target, JSON.stringify(alerts), signal);

  const name = options.name ?? "alertmanager";
  let context: HandlerContext | undefined;

  const resend = () => {
    if (active.size === 0) return;
    const now = Date.now();
    const alerts = [...active.values()].map((a) =>
      toPostableAlert(a, now, 4 * resendMs, options.generatorURL),
    );
    const closed = context?.signal;
    if (closed?.aborted) return;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new AlertHandlerTimeoutError({ handler: name, timeoutMs })),
      timeoutMs,
    );
    const signal = closed ? AbortSignal.any([closed, timeout.signal]) : timeout.signal;
    post(alerts, signal)
      .catch((cause: unknown) => {
        if (closed?.aborted) return; // the manager closed mid-request: nothing to report
        const error = new Error(
          `re-sending ${alerts.length} active alert${alerts.length === 1 ? "" : "s"} failed: ${describeError(cause)}`,
          { cause },
        );
        context?.fail(error);
        options.onResendError?.(error);
      })
      .finally(() => clearTimeout(timer));
  };

  const sync = () => {
    if (active.size > 0 && !timer) {
      timer = setInterval(resend, resendMs);
      timer.unref();
    } else if (active.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return defineAlertHandler({
    name,
    immediate: true,
    timeoutMs,
    ...(options.retries !== undefined && { retries: options.retries }),
    ...(options.backoffMs !== undefined && { backoffMs: options.backoffMs }),
    async send(notification, { signal }) {
      const now = Date.now();
      const body: PostableAlert[] = [];
      for (const alert of notification.alerts) {
        const before = active.get(instanceKey(alert));
        if (before && alert.status === "firing" && !sameLabels(wireLabels(before), wireLabels(alert))) {
          body.push(
            toPostableAlert({ ...before, status: "resolved", endsAt: now }, now, 0, options.generatorURL),
          );
        }
        body.push(toPostableAlert(alert, now, 4 * resendMs, options.generatorURL));
      }
      await post(body, signal);
      for (const alert of notification.alerts) {
        if (alert.status === "firing") active.set(instanceKey(alert), alert);
        else active.delete(instanceKey(alert));
      }
      sync();
    },
    start(ctx) {
      context = ctx;
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  });
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
