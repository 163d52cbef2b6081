// Talking to the server: every request carries the token the page was opened with (if any).
const token = new URLSearchParams(location.search).get("token") ?? "";

/** GET a JSON endpoint. */
export async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

/**
 * GET a JSON endpoint for a page to show, without ever rejecting: when the server cannot be reached
 * (it restarted, the network dropped) what the page shows stays, the header says "offline", and the
 * stream's reconnection bumps `live.epoch`, which makes every page fetch again. An HTTP error is
 * logged as a warning with the endpoint.
 */
export function load<T>(path: string, onData: (data: T) => void, onError?: (e: unknown) => void): void {
  get<T>(path).then(onData, (e: unknown) => {
    if (onError) onError(e);
    else if (!(e instanceof TypeError)) console.warn(`tapline dashboard: ${String(e)}`);
  });
}

/** The event stream (EventSource cannot send headers: the token goes in the query). */
export function events(): EventSource {
  return new EventSource(`api/events${token ? `?token=${encodeURIComponent(token)}` : ""}`);
}

/** A file URL from the server, with the token when there is one. */
export function withToken(url: string): string {
  if (!token) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

export const ms = (v: number): string =>
  v >= 60_000
    ? `${(v / 60_000).toFixed(1)} min`
    : v >= 1000
      ? `${(v / 1000).toFixed(2)} s`
      : `${v.toFixed(v < 10 ? 2 : 0)} ms`;
/** A cost for people: `$0.0263 · 264 tokens · 4 images` (usd first, other units rounded); `` when none. */
export function money(cost: Readonly<Record<string, number>> | undefined): string {
  if (!cost) return "";
  const parts: string[] = [];
  if (cost.usd !== undefined) parts.push(`$${cost.usd.toFixed(cost.usd >= 100 ? 2 : 4)}`);
  for (const [unit, n] of Object.entries(cost))
    if (unit !== "usd") parts.push(`${Math.round(n).toLocaleString("en-US")} ${unit}`);
  return parts.join(" · ");
}
export const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
export const when = (t: number): string => new Date(t).toLocaleString();
