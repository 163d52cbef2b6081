/**
 * @internal
 * Reads the pause a 429 asks for. Plugins never import each other, so this is a small reading of the hints
 * plugin-retry reads in full: `error.retryAfterMs`, `error.retryAfter` (seconds or an HTTP date), and the
 * `retry-after-ms` / `Retry-After` headers (`error.headers` or `error.response.headers`, a `Headers` or a
 * plain object). A hint over a day is ignored as garbage.
 */
const MAX_MS = 86_400_000;

type Bag = { get?(name: string): unknown } & Record<string, unknown>;

function header(headers: unknown, name: string): unknown {
  if (!headers || typeof headers !== "object") return undefined;
  const bag = headers as Bag;
  if (typeof bag.get === "function") {
    try {
      return bag.get(name) ?? undefined;
    } catch {
      return undefined;
    }
  }
  for (const key of Object.keys(bag)) if (key.toLowerCase() === name) return bag[key];
  return undefined;
}

function seconds(value: unknown, now: number): number | undefined {
  if (typeof value === "number") return value >= 0 ? value * 1000 : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const bounded = (ms: number | undefined) => (ms !== undefined && ms <= MAX_MS ? ms : undefined);

/** The HTTP status an error carries (`status`, `statusCode`, `response.status`), if any. */
export function statusOf(error: unknown): number | undefined {
  if (!error || typeof error !== "object") return undefined;
  const e = error as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } };
  const s = e.status ?? e.statusCode ?? e.response?.status;
  return typeof s === "number" ? s : undefined;
}

/** ms a 429 asks the caller to wait, or `undefined` when the error is not a 429 with a usable hint. */
export function pauseFor429(error: unknown, now: number): number | undefined {
  if (statusOf(error) !== 429) return undefined;
  const e = error as {
    retryAfterMs?: unknown;
    retryAfter?: unknown;
    headers?: unknown;
    response?: { headers?: unknown };
  };
  if (typeof e.retryAfterMs === "number" && e.retryAfterMs >= 0) return bounded(e.retryAfterMs);
  const own = bounded(seconds(e.retryAfter, now));
  if (own !== undefined) return own;
  const headers = e.headers ?? e.response?.headers;
  const ms = header(headers, "retry-after-ms");
  if (ms !== undefined && ms !== null && String(ms).trim() !== "") {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return bounded(n);
  }
  return bounded(seconds(header(headers, "retry-after"), now));
}
