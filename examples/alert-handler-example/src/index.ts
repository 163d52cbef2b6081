// A third-party alert handler, written against @tapline/plugin-alerts' public API only.
import { type AlertHandler, type AlertNotification, defineAlertHandler } from "@tapline/plugin-alerts";

/** Options of {@link chatHandler}. */
export interface ChatHandlerOptions {
  /** Incoming-webhook URL of the chat (Slack, Mattermost, Rocket.Chat accept `{ text }`). */
  readonly url: string;
  /** Display name of the poster. Default `tapline`. */
  readonly username?: string;
  /** Per-attempt timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
}

const ICON = { info: "ℹ️", warning: "⚠️", error: "❗", critical: "🔥" } as const;

/** Renders a notification as a chat message: one line per alert, an icon per level. */
export function chatText(n: AlertNotification): string {
  const head =
    n.status === "firing"
      ? `*${n.alerts.filter((a) => a.status === "firing").length} alert(s) firing*`
      : "*resolved*";
  const lines = n.alerts.map(
    (a) => `${a.status === "resolved" ? "✅" : ICON[a.level]} ${a.rule}: ${a.message}`,
  );
  return [head, ...lines].join("\n");
}

/**
 * An alert handler posting `{ text, username }` to a chat incoming webhook.
 *
 * @example
 * alerts({ rules, handlers: [chatHandler({ url: process.env.CHAT_HOOK! })] })
 */
export function chatHandler(options: ChatHandlerOptions): AlertHandler {
  const url = new URL(options.url);
  return defineAlertHandler({
    name: "chat",
    timeoutMs: options.timeoutMs ?? 5000,
    retries: 2,
    async send(notification, { signal }) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: chatText(notification), username: options.username ?? "tapline" }),
        signal,
        // never follow a redirect: it would re-post the alerts to another address
        redirect: "manual",
      });
      await res.text();
      if (res.status >= 300 && res.status < 400)
        throw new Error(
          `chat webhook answered HTTP ${res.status}, a redirect (not followed): configure the final URL`,
        );
      if (!res.ok) throw new Error(`chat webhook answered HTTP ${res.status}`);
    },
  });
}
