/**
 * Reading server hints about when to come back: `Retry-After` (seconds or an HTTP date), `retry-after-ms`
 * (OpenAI, Azure), rate-limit reset headers (`x-ratelimit-reset-requests: 6m0s`, `x-ratelimit-reset: <epoch s>`,
 * `anthropic-ratelimit-*-reset: <RFC 3339>`), and `retryAfter`/`retryAfterMs` fields on error objects.
 */

/** Hints above this (one day) are treated as garbage, not honoured. */
const MAX_HINT_MS = 86_400_000;

/**
 * Parses a `Retry-After` value: a non-negative number of seconds, or an HTTP date. Returns ms from `now`
 * (0 for a date in the past), or `undefined` for garbage, negative numbers or hints longer than a day.
 *
 * @example
 * parseRetryAfter("120") // 120000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT")) // 60000
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value === "number") return value >= 0 && value * 1000 <= MAX_HINT_MS ? value * 1000 : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Number(text) * 1000;
    return ms <= MAX_HINT_MS ? ms : undefined;
  }
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands); must name a weekday or month.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const ms = Math.max(0, at - now);
  return ms <= MAX_HINT_MS ? ms : undefined;
}

/** Parses a Go-style duration as OpenAI sends it (`1s`, `6m0s`, `20ms`, `1h2m3.5s`); ms or undefined. */
export function parseDurationHint(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g)) {
    const v = Number(n);
    ms += unit === "h" ? v * 3_600_000 : unit === "m" ? v * 60_000 : unit === "s" ? v * 1000 : v;
  }
  return ms <= MAX_HINT_MS ? ms : undefined;
}

type HeaderBag = { get(name: string): string | null | undefined } | Record<string, unknown>;

function header(headers: HeaderBag | undefined, name: string): unknown {
  if (!headers || typeof headers !== "object") return undefined;
  if (typeof (headers as { get?: unknown }).get === "function") {
    try {
      return (headers as { get(n: string): unknown }).get(name) ?? undefined;
    } catch {
      return undefined;
    }
  }
  const bag = headers as Record<string, unknown>;
  if (name in bag) return bag[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(bag)) if (key.toLowerCase() === lower) return bag[key];
  return undefined;
}

/** Finds the headers of an HTTP error as SDKs shape them (`error.headers`, `error.response.headers`). */
function headersOf(error: object): HeaderBag | undefined {
  const e = error as { headers?: HeaderBag; response?: { headers?: HeaderBag } };
  return e.headers ?? e.response?.headers;
}

/**
 * The delay in ms a failure asks for, from its fields or headers, or `undefined`. Reads, in order:
 * `error.retryAfterMs`, `error.retryAfter` (seconds), `retry-after-ms`, `Retry-After`, `x-ratelimit-reset-requests`
 * / `x-ratelimit-reset-tokens` (durations; the larger wins), `x-ratelimit-reset` (epoch seconds or seconds),
 * `anthropic-ratelimit-requests-reset` / `-tokens-reset` (RFC 3339). Garbage and negative values are ignored.
 */
export function retryAfterFromError(error: unknown, now: number = Date.now()): number | undefined {
  if (!error || typeof error !== "object") return undefined;
  const e = error as { retryAfterMs?: unknown; retryAfter?: unknown };
  if (typeof e.retryAfterMs === "number" && e.retryAfterMs >= 0 && e.retryAfterMs <= MAX_HINT_MS)
    return e.retryAfterMs;
  if (e.retryAfter !== undefined) {
    const v = parseRetryAfter(e.retryAfter, now);
    if (v !== undefined) return v;
  }
  const headers = headersOf(error);
  if (!headers) return undefined;
  const ms = header(headers, "retry-after-ms");
  if (ms !== undefined && ms !== null) {
    const n = Number(ms);
    if (String(ms).trim() !== "" && Number.isFinite(n) && n >= 0 && n <= MAX_HINT_MS) return n;
  }
  const ra = parseRetryAfter(header(headers, "retry-after"), now);
  if (ra !== undefined) return ra;
  let best: number | undefined;
  for (const name of ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]) {
    const v = parseDurationHint(header(headers, name));
    if (v !== undefined) best = Math.max(best ?? 0, v);
  }
  if (best !== undefined) return best;
  const reset = header(headers, "x-ratelimit-reset");
  if (reset !== undefined && reset !== null && /^\d+(\.\d+)?$/.test(String(reset).trim())) {
    const n = Number(reset);
    // Large values are epoch seconds (GitHub), small ones a number of seconds.
    const v = n > 1e9 ? n * 1000 - now : n * 1000;
    if (v >= 0 && v <= MAX_HINT_MS) return v;
    if (v < 0) return 0;
  }
  for (const name of ["anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset"]) {
    const raw = header(headers, name);
    if (typeof raw !== "string") continue;
    const at = Date.parse(raw);
    if (Number.isNaN(at)) continue;
    const v = Math.max(0, at - now);
    if (v <= MAX_HINT_MS) best = Math.max(best ?? 0, v);
  }
  return best;
}
