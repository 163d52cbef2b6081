import { createHmac } from "node:crypto";
import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import { HttpStatusError, redactUrl, toWebhookV4 } from "../wire.ts";

/** Options of {@link webhookHandler}. */
export interface WebhookHandlerOptions {
  /** Where to POST. Tokens in it are never logged: errors name only the scheme and host. */
  readonly url: string;
  /** Handler name (and the body's `receiver`). Default `webhook`. */
  readonly name?: string;
  /** Extra request headers (e.g. `Authorization`); never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** When set, the body is signed: `<signatureHeader>: sha256=<hex HMAC-SHA256 of the raw body>`. Never logged. */
  readonly secret?: string;
  /** Header carrying the signature. Default `X-Tapline-Signature-256`. */
  readonly signatureHeader?: string;
  /** `externalURL` in the body. */
  readonly externalURL?: string;
  /** Cap on alerts per body (`truncatedAlerts` counts the rest). Default 0 (no cap). */
  readonly maxAlerts?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoffMs?: number;
  /** Default true, as in Alertmanager's webhook_config. */
  readonly sendResolved?: boolean;
}

/**
 * A webhook receiver: POSTs each notification as Alertmanager's webhook v4 JSON body, optionally signed with
 * HMAC-SHA256. 5xx, 408, 429 and network errors are retried with backoff; other 4xx are not.
 *
 * @example
 * webhookHandler({ url: "https://hooks.example.com/tapline", secret: process.env.HOOK_SECRET })
 * // verify on the receiving side:
 * // createHmac("sha256", secret).update(rawBody).digest("hex") === header.slice("sha256=".length)
 */
export function webhookHandler(options: WebhookHandlerOptions): AlertHandler {
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    throw new TypeError(
      `webhookHandler: "url" must be an absolute http(s) URL (got ${typeof options.url === "string" ? `a string of ${options.url.length} characters` : typeof options.url})`,
    );
  }
  if (target.protocol !== "http:" && target.protocol !== "https:")
    throw new TypeError(`webhookHandler: "url" must use http or https, got ${target.protocol}`);
  const name = options.name ?? "webhook";
  const where = `webhook ${redactUrl(target)}`;
  const signatureHeader = options.signatureHeader ?? "X-Tapline-Signature-256";
  return defineAlertHandler({
    name,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.retries !== undefined && { retries: options.retries }),
    ...(options.backoffMs !== undefined && { backoffMs: options.backoffMs }),
    ...(options.sendResolved !== undefined && { sendResolved: options.sendResolved }),
    async send(notification, { signal }) {
      const body = JSON.stringify(
        toWebhookV4(notification, {
          receiver: name,
          ...(options.externalURL !== undefined && { externalURL: options.externalURL }),
          ...(options.maxAlerts !== undefined && { maxAlerts: options.maxAlerts }),
        }),
      );
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "Tapline-Alerts/1.0",
        ...options.headers,
      };
      if (options.secret)
        headers[signatureHeader] =
          `sha256=${createHmac("sha256", options.secret).update(body).digest("hex")}`;
      let res: Response;
      try {
        res = await fetch(target, { method: "POST", headers, body, signal, redirect: "error" });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        // fetch errors may quote the URL; keep only the cause's code.
        const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        throw new Error(`${where} unreachable (${code})`);
      }
      const text = await res.text().catch(() => "");
      if (!res.ok) throw new HttpStatusError(where, res.status, text);
    },
  });
}
