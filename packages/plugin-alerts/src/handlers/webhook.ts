import { createHmac } from "node:crypto";
import { redactSecrets } from "@tapline/core";
import { AlertConfigError } from "../errors.ts";
import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import { parseConfig, WebhookOptionsSchema } from "../schemas.ts";
import { toWebhookV4 } from "../wire.ts";
import { parseEndpoint, postJson } from "./http.ts";

/** Options of {@link webhookHandler}. */
export interface WebhookHandlerOptions {
  /**
   * Where to POST. Tokens in it are never logged: errors name only the scheme and host. Credentials in the URL
   * (`https://user:pass@host/...`) are sent as a Basic `Authorization` header (fetch refuses them in URLs);
   * giving them together with an `Authorization` header is a configuration error.
   */
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
 * HMAC-SHA256. 5xx, 408, 429 and network errors are retried with backoff; other 4xx are not. A redirect (3xx)
 * is never followed (it would re-post the alerts and headers to another address): it fails the delivery with
 * an error that says "redirect" and names the target's scheme and host.
 *
 * @example
 * webhookHandler({ url: "https://hooks.example.com/tapline", secret: process.env.HOOK_SECRET })
 * // verify on the receiving side:
 * // createHmac("sha256", secret).update(rawBody).digest("hex") === header.slice("sha256=".length)
 */
export function webhookHandler(options: WebhookHandlerOptions): AlertHandler {
  const subject = "webhookHandler()";
  const checked = parseConfig(WebhookOptionsSchema, options, { subject }) as WebhookHandlerOptions;
  const endpoint = parseEndpoint("webhook", checked.url, {
    "user-agent": "Tapline-Alerts/1.0",
    ...checked.headers,
  });
  if (typeof endpoint === "string")
    throw new AlertConfigError({
      issues: [{ path: "url", message: endpoint, value: redactSecrets(checked.url) }],
      subject,
    });
  const name = checked.name ?? "webhook";
  const signatureHeader = checked.signatureHeader ?? "X-Tapline-Signature-256";
  const { secret } = checked;
  return defineAlertHandler({
    name,
    ...(checked.timeoutMs !== undefined && { timeoutMs: checked.timeoutMs }),
    ...(checked.retries !== undefined && { retries: checked.retries }),
    ...(checked.backoffMs !== undefined && { backoffMs: checked.backoffMs }),
    ...(checked.sendResolved !== undefined && { sendResolved: checked.sendResolved }),
    async send(notification, { signal }) {
      const body = JSON.stringify(
        toWebhookV4(notification, {
          receiver: name,
          ...(checked.externalURL !== undefined && { externalURL: checked.externalURL }),
          ...(checked.maxAlerts !== undefined && { maxAlerts: checked.maxAlerts }),
        }),
      );
      const signature = secret
        ? { [signatureHeader]: `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` }
        : undefined;
      await postJson(endpoint, body, signal, signature);
    },
  });
}
