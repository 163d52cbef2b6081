import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import * as v from "valibot";
import { AlertConfigError } from "../errors.ts";
import { formatValue } from "../format.ts";
import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import type { AlertNotification } from "../notification.ts";
import { delivery, NonEmpty, parseSecretConfig } from "../schemas.ts";
import { withoutSecrets } from "./http.ts";

/** How the email handler uses STARTTLS. */
export const STARTTLS_MODES = ["opportunistic", "required", "off"] as const;
/** `opportunistic` (default): upgrade when the server offers it; `required`: fail without it; `off`: never (a local relay). */
export type StartTlsMode = (typeof STARTTLS_MODES)[number];

/** Options of {@link emailHandler}. */
export interface EmailHandlerOptions {
  /** SMTP server host. */
  readonly host: string;
  /** Default 465 with `secure`, else 587. */
  readonly port?: number;
  /** Implicit TLS from the first byte (port 465). Default false. */
  readonly secure?: boolean;
  /** STARTTLS on a plain connection. Default `opportunistic`. */
  readonly starttls?: StartTlsMode;
  /** SMTP login. The password is a secret: never in logs, history or errors. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** The sender (`"Tapline <alerts@example.com>"`). */
  readonly from: string;
  /** Recipients. */
  readonly to: string | readonly string[];
  /** Prefix of every subject. Default `[tapline]`. */
  readonly subjectPrefix?: string;
  /** Handler name. Default `email`. */
  readonly name?: string;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoffMs?: number;
  readonly sendResolved?: boolean;
}

const Address = v.pipe(v.string(), v.regex(/@/, 'expected an email address such as "ops@example.com"'));
const EmailOptionsSchema = v.strictObject({
  ...delivery,
  host: NonEmpty,
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535))),
  secure: v.optional(v.boolean()),
  starttls: v.optional(v.picklist(STARTTLS_MODES)),
  auth: v.optional(v.strictObject({ user: NonEmpty, pass: v.string() })),
  from: Address,
  to: v.union(
    [Address, v.pipe(v.array(Address), v.minLength(1, "expected at least one recipient"))],
    "expected an address or a list of addresses",
  ),
  subjectPrefix: v.optional(v.string()),
  sendResolved: v.optional(v.boolean()),
});

type CreateTransport = typeof import("nodemailer")["createTransport"];
let loaded: Promise<CreateTransport> | undefined;

/**
 * Sends each notification as one email (a group's alerts together), plain text and HTML, over SMTP with
 * `nodemailer` (an optional peer dependency: `npm install nodemailer`). A connection per notification; a
 * refusal with a permanent (5xx) reply or a failed login is not retried, a 4xx reply or a network error is.
 *
 * @example
 * emailHandler({ host: "smtp.example.com", auth: { user: "alerts", pass: process.env.SMTP_PASSWORD! },
 *   from: "Tapline <alerts@example.com>", to: ["ops@example.com"] })
 */
export function emailHandler(options: EmailHandlerOptions): AlertHandler {
  const subject = "emailHandler()";
  const checked = parseSecretConfig(EmailOptionsSchema, options, subject, [
    "auth.pass",
  ]) as EmailHandlerOptions;
  try {
    createRequire(import.meta.url).resolve("nodemailer");
  } catch {
    throw new AlertConfigError({
      issues: [
        { path: "(options)", message: "emailHandler() needs the nodemailer package: npm install nodemailer" },
      ],
      subject,
    });
  }
  const secure = checked.secure ?? false;
  const port = checked.port ?? (secure ? 465 : 587);
  const starttls = checked.starttls ?? "opportunistic";
  const pass = checked.auth?.pass;
  const secrets = pass
    ? [
        pass,
        Buffer.from(`\u0000${checked.auth!.user}\u0000${pass}`).toString("base64"),
        Buffer.from(pass).toString("base64"),
      ]
    : [];
  const where = `email smtp${secure ? "s" : ""}://${checked.host}:${port}`;
  const to = typeof checked.to === "string" ? [checked.to] : [...checked.to];
  const prefix = checked.subjectPrefix ?? "[tapline]";
  const timeoutMs = checked.timeoutMs ?? 10_000;
  return defineAlertHandler({
    name: checked.name ?? "email",
    ...(checked.timeoutMs !== undefined && { timeoutMs: checked.timeoutMs }),
    ...(checked.retries !== undefined && { retries: checked.retries }),
    ...(checked.backoffMs !== undefined && { backoffMs: checked.backoffMs }),
    ...(checked.sendResolved !== undefined && { sendResolved: checked.sendResolved }),
    async send(notification, { signal }) {
      loaded ??= import("nodemailer").then((m) => m.createTransport);
      const createTransport = await loaded;
      const transport = createTransport({
        host: checked.host,
        port,
        secure,
        ignoreTLS: starttls === "off",
        requireTLS: starttls === "required",
        ...(checked.auth && { auth: { user: checked.auth.user, pass: checked.auth.pass } }),
        // A little past the handler's own timeout, which abandons the attempt first (code ..._HANDLER_TIMEOUT);
        // these then end the socket.
        connectionTimeout: timeoutMs + 1000,
        greetingTimeout: timeoutMs + 1000,
        socketTimeout: timeoutMs + 1000,
        logger: false,
      });
      const onAbort = () => transport.close();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await withoutSecrets(secrets, async () => {
          try {
            await transport.sendMail({
              from: checked.from,
              to,
              subject: `${prefix ? `${prefix} ` : ""}${emailSubject(notification)}`,
              text: emailText(notification),
              html: emailHtml(notification),
            });
          } catch (error) {
            if (signal.aborted) throw signal.reason;
            throw smtpError(where, error);
          }
        });
      } finally {
        signal.removeEventListener("abort", onAbort);
        transport.close();
      }
    },
  });
}

/** An SMTP failure named by server and reply, never by credentials; permanent replies are not retried. */
function smtpError(where: string, error: unknown): Error {
  const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
  const reply = e.response ? `: ${e.response.slice(0, 200)}` : e.code ? ` (${e.code})` : "";
  const what =
    e.code === "EAUTH"
      ? "rejected the login"
      : e.responseCode !== undefined
        ? "refused the message"
        : "failed";
  const out = new Error(`${where} ${what}${reply}`) as Error & { retryable: boolean; responseCode?: number };
  out.name = "SmtpError";
  out.retryable = !(e.code === "EAUTH" || (e.responseCode !== undefined && e.responseCode >= 500));
  if (e.responseCode !== undefined) out.responseCode = e.responseCode;
  return out;
}

/** @internal `[FIRING:2] warning StepSlow` / `[RESOLVED] StepSlow`. */
export function emailSubject(n: AlertNotification): string {
  const names = [...new Set(n.alerts.map((a) => a.rule))];
  const what = names.length === 1 ? names[0]! : `${names.length} rules`;
  const firing = n.alerts.filter((a) => a.status === "firing").length;
  return n.status === "firing" ? `[FIRING:${firing}] ${n.level} ${what}` : `[RESOLVED] ${what}`;
}

/** @internal The plain-text body: one block per alert. */
export function emailText(n: AlertNotification): string {
  return `${n.alerts
    .map((a) => {
      const lines = [
        `${a.status === "firing" ? a.level.toUpperCase() : "RESOLVED"} ${a.rule}`,
        a.message,
        ...(a.value !== undefined ? [`value: ${formatValue(a.value)}`] : []),
        `since: ${new Date(a.startsAt).toISOString()}${a.endsAt !== undefined ? `, resolved ${new Date(a.endsAt).toISOString()}` : ""}`,
        `labels: ${Object.entries(a.labels)
          .map(([k, val]) => `${k}=${val}`)
          .join(", ")}`,
        `fingerprint: ${a.fingerprint}`,
      ];
      return lines.join("\n");
    })
    .join("\n\n")}\n`;
}

const html = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const COLORS = {
  info: "#439fe0",
  warning: "#daa038",
  error: "#e01e5a",
  critical: "#8b0000",
  resolved: "#2eb67d",
};

/** @internal The HTML body: a table per alert (every value escaped). */
export function emailHtml(n: AlertNotification): string {
  const blocks = n.alerts.map((a) => {
    const color = a.status === "firing" ? COLORS[a.level] : COLORS.resolved;
    const rows = Object.entries(a.labels)
      .map(([k, val]) => `<tr><td><b>${html(k)}</b></td><td>${html(val)}</td></tr>`)
      .join("");
    return `<div style="border-left:4px solid ${color};padding:4px 12px;margin:12px 0"><h3 style="margin:4px 0">${html(a.status === "firing" ? a.level : "resolved")}: ${html(a.rule)}</h3><p>${html(a.message)}</p>${a.value !== undefined ? `<p>value: ${html(formatValue(a.value))}</p>` : ""}<table>${rows}</table><p style="color:#666">since ${html(new Date(a.startsAt).toISOString())} · fingerprint <code>${html(a.fingerprint)}</code></p></div>`;
  });
  return `<!doctype html><html><body><h2>${html(emailSubject(n))}</h2>${blocks.join("")}</body></html>`;
}
