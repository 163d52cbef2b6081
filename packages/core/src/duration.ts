/**
 * Durations as options take them: a number of ms, or text such as `"500ms"`, `"30s"`, `"1m"`, `"1h"`, `"7d"`,
 * optionally with a fractional count (`"1.5m"`). One parser for every package; parse once, when options are
 * normalised.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration: ms, or `"<n><unit>"` with unit `ms`, `s`, `m` (or `min`), `h`, `d`, `w`. */
export type Duration = number | `${number}${"ms" | "s" | "m" | "min" | "h" | "d" | "w"}`;

/** ms for a duration, or `undefined` when it is not one (negative, not finite, unknown unit). */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)?\s*(ms|s|min|m|h|d|w)\s*$/.exec(value);
  if (!match) return undefined;
  const n = match[1] === undefined ? 1 : Number(match[1]);
  return n * UNIT_MS[match[2]!]!;
}
