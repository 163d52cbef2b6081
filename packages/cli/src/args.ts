import { usage } from "./errors.ts";

/**
 * Reads a point in time: an ISO date (`2026-05-01T10:00Z`), epoch milliseconds, or a duration before now
 * (`90s`, `15m`, `2h`, `7d`).
 */
export function parseSince(raw: string, now = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(raw.trim());
  if (relative) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
      relative[2] as "s"
    ];
    return now - Number(relative[1]) * unit;
  }
  if (/^\d{10,}$/.test(raw.trim())) return Number(raw);
  const time = Date.parse(raw);
  if (Number.isNaN(time))
    throw usage(`--since "${raw}" is neither a duration (15m, 2h, 7d) nor a date (2026-05-01T10:00Z)`);
  return time;
}
