/**
 * `@tapline/plugin-alerts/formats`: how a notification looks where it goes, for authors of alert handlers: the
 * Alertmanager webhook v4 body (what `webhookHandler` and `fileHandler` write), the `POST /api/v2/alerts` shape
 * (what `alertmanagerForwarder` posts), the console line, and the one fingerprint every alert carries.
 */
export { fingerprint } from "./fingerprint.ts";
export { formatNotification } from "./handlers/console.ts";
export {
  type PostableAlert,
  toPostableAlert,
  toWebhookV4,
  type WebhookV4Alert,
  type WebhookV4Options,
  type WebhookV4Payload,
} from "./wire.ts";
