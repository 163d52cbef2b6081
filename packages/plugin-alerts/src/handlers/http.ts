import { Buffer } from "node:buffer";
import { REDACTED } from "@tapline/core/kit";
import { HttpStatusError, redactUrl } from "../wire.ts";

/** @internal A receiver URL checked once, with `user:pass@` moved into a Basic `Authorization` header. */
export interface Endpoint {
  /** The URL without credentials (what fetch is given). */
  readonly url: URL;
  /** `<what> <scheme>://<host>/…`, safe for errors and logs. */
  readonly where: string;
  /** Headers sent with every request (content type, user agent, the caller's, Basic auth from the URL). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * @internal
 * Checks a receiver URL (absolute, http or https) and moves URL credentials into a Basic `Authorization`
 * header: fetch refuses URLs with credentials, so `https://user:pass@host/` would otherwise fail every
 * delivery. Credentials together with an `Authorization` header are ambiguous and rejected. Returns the
 * problem as a message (the caller turns it into its typed error).
 */
export function parseEndpoint(
  what: string,
  raw: string,
  headers: Readonly<Record<string, string>> | undefined,
  example = "https://hooks.example.com/tapline",
): Endpoint | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `must be an absolute http(s) URL such as ${example} (got a string of ${raw.length} characters)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `must use http or https, got ${url.protocol}`;
  const out: Record<string, string> = { "content-type": "application/json", ...headers };
  if (url.username !== "" || url.password !== "") {
    if (Object.keys(headers ?? {}).some((k) => k.toLowerCase() === "authorization"))
      return "has user:password@ credentials and an Authorization header is also set; keep only one";
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    out.authorization = `Basic ${Buffer.from(`${user}:${pass}`, "utf8").toString("base64")}`;
    url = new URL(url.href);
    url.username = "";
    url.password = "";
  }
  return { url, where: `${what} ${redactUrl(url)}`, headers: out };
}

/** @internal A receiver answered with a redirect, which handlers never follow (it would re-send the body and headers elsewhere). */
export class RedirectError extends Error {
  readonly status: number;
  /** Scheme and host of the `Location` (paths and queries often carry tokens). */
  readonly location: string;
  readonly retryable = false;
  constructor(where: string, status: number, location: string) {
    super(
      `${where} answered HTTP ${status}, a redirect to ${location}; redirects are never followed (they would re-send the alerts and headers to another address): configure the final URL`,
    );
    this.name = "RedirectError";
    this.status = status;
    this.location = location;
  }
}

/**
 * @internal
 * POSTs a JSON body once, never following a redirect (a 3xx is a failure naming where it pointed), and turns
 * network errors and non-2xx answers into errors that name only the receiver's scheme and host.
 */
export async function postJson(
  endpoint: Endpoint,
  body: string,
  signal: AbortSignal,
  extraHeaders?: Readonly<Record<string, string>>,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(endpoint.url, {
      method: "POST",
      headers: extraHeaders ? { ...endpoint.headers, ...extraHeaders } : endpoint.headers,
      body,
      signal,
      redirect: "manual",
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    // fetch errors may quote the URL; keep only the cause's code.
    const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new Error(`${endpoint.where} unreachable (${code})`);
  }
  const text = await res.text().catch(() => "");
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get("location");
    let target = "an address it did not give (no Location header)";
    if (location) {
      try {
        target = redactUrl(new URL(location, endpoint.url));
      } catch {
        target = "an invalid Location";
      }
    }
    throw new RedirectError(endpoint.where, res.status, target);
  }
  if (!res.ok) throw new HttpStatusError(endpoint.where, res.status, text);
}

/**
 * @internal
 * Runs `fn` and rethrows any error with every given secret (a webhook path, a routing key, a password) cut
 * out of its message and its causes' messages, keeping `retryable` and `status`, so a receiver that echoes a
 * secret back cannot put it in an error, a log or the history.
 */
export async function withoutSecrets<T>(secrets: readonly string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw scrub(
      error,
      secrets.filter((s) => s.length >= 4),
    );
  }
}

function scrub(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error) || secrets.length === 0) return error;
  const clean = (text: string) => secrets.reduce((t, s) => t.split(s).join(REDACTED), text);
  if (!secrets.some((s) => error.message.includes(s) || String(error.stack).includes(s)) && !error.cause)
    return error;
  const out = new Error(
    clean(error.message),
    error.cause ? { cause: scrub(error.cause, secrets) } : undefined,
  );
  out.name = error.name;
  for (const key of ["retryable", "status", "code", "responseCode"] as const)
    if (key in error)
      (out as unknown as Record<string, unknown>)[key] = (error as unknown as Record<string, unknown>)[key];
  // An error the runner knows (a timeout, an abort) keeps its identity: it carries no receiver text.
  if ((error as { code?: unknown }).code === "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT") return error;
  return out;
}
