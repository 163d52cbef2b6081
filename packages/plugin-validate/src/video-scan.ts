/** Parsing of blackdetect / freezedetect output into absolute intervals. */

/** A detected interval in seconds of the file's timeline; `end` undefined = runs to the end of the window. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** Black and frozen intervals found in one window, shifted by `offset`, clamped to `windowEnd`. */
export function parseScan(
  lines: readonly string[],
  offset: number,
  windowEnd: number,
): { black: Interval[]; frozen: Interval[] } {
  const black: Interval[] = [];
  const frozen: Interval[] = [];
  let openFreeze: number | undefined;
  for (const line of lines) {
    const b = /black_start:\s*(-?[\d.]+)\s+black_end:\s*(-?[\d.]+)/.exec(line);
    if (b) {
      black.push({ start: offset + Number(b[1]), end: Math.min(windowEnd, offset + Number(b[2])) });
      continue;
    }
    const fs = /freeze_start:\s*(-?[\d.]+)/.exec(line);
    if (fs) {
      openFreeze = offset + Number(fs[1]);
      continue;
    }
    const fe = /freeze_end:\s*(-?[\d.]+)/.exec(line);
    if (fe && openFreeze !== undefined) {
      frozen.push({ start: openFreeze, end: Math.min(windowEnd, offset + Number(fe[1])) });
      openFreeze = undefined;
    }
  }
  if (openFreeze !== undefined) frozen.push({ start: openFreeze, end: windowEnd });
  return { black, frozen: mergeIntervals(frozen, 0.2) };
}

/**
 * Merges intervals closer than `gap` seconds: freezedetect splits one frozen run at each keyframe
 * (research §3: [23.97,27] [27,EOF] is one freeze).
 */
export function mergeIntervals(intervals: readonly Interval[], gap: number): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.start <= last.end + gap)
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, i.end) };
    else out.push({ ...i });
  }
  return out;
}
