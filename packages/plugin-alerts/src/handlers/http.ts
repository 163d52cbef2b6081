import { Buffer } from "node:buffer";
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
