// Talking to the server: every request carries the token the page was opened with (if any).
const token = new URLSearchParams(location.search).get("token") ?? "";

/** GET a JSON endpoint. */
export async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
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
export const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
export const when = (t: number): string => new Date(t).toLocaleString();
