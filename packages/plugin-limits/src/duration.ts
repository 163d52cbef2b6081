/**
 * Durations as the options take them: a number of ms, or text such as `"1m"`, `"30s"`, `"500ms"`, `"1h"`,
 * `"1d"`, optionally with a count (`"10s"`, `"1.5m"`). Parsed once, when options are normalised.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A duration: ms, or `"<n><unit>"` with unit `ms`, `s`, `m` (or `min`), `h`, `d`. */
export type Duration =
  | number
  | `${number}${"ms" | "s" | "m" | "min" | "h" | "d"}`
  | "ms"
  | "s"
  | "m"
  | "h"
  | "d";

/** ms for a duration, or `undefined` when it is not one (negative, not finite, unknown unit). */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)?\s*(ms|s|min|m|h|d)\s*$/.exec(value);
  if (!match) return undefined;
  const n = match[1] === undefined ? 1 : Number(match[1]);
  return n * UNIT_MS[match[2]!]!;
}
