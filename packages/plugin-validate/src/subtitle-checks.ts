/** The built-in subtitle checks (defaults: Netflix Timed Text Style Guide): timing, readability, audio, script. */
import { type Check, defineCheck, type SubtitleCheckInput } from "./define-check.ts";
import { codePoints } from "./internal/read.ts";
import { latestEnd, lineList, stripTags } from "./subtitles.ts";
import { round } from "./types.ts";

const subtitleCheck = (name: string, run: (input: SubtitleCheckInput) => void) =>
  defineCheck({ kind: "subtitles", name, run })();

/** Cue lines (1-based timing lines) whose payload breaks a limit; one warning listing them. */
const perCue = (
  name: string,
  test: (input: SubtitleCheckInput) => ((payload: string[], duration: number) => boolean) | undefined,
  message: (
    input: SubtitleCheckInput,
    lines: readonly number[],
  ) => [string, { value?: unknown; limit?: unknown }],
) =>
  subtitleCheck(name, (input) => {
    const bad = test(input);
    if (!bad) return;
    const lines: number[] = [];
    for (const c of input.cues) if (bad(stripTags(c.text).split("\n"), c.end - c.start)) lines.push(c.line);
    if (lines.length > 0) input.report.warn(...message(input, lines));
  });

const longestLine = (payload: readonly string[]) => {
  let longest = 0;
  for (const l of payload) longest = Math.max(longest, codePoints(l));
  return longest;
};

/** In the order their findings appear. */
export const SUBTITLE_CHECKS: readonly Check<"subtitles">[] = [
  subtitleCheck("order", ({ cues, report }) => {
    for (let i = 1; i < cues.length; i++) {
      const prev = cues[i - 1]!;
      const cur = cues[i]!;
      if (cur.start < prev.start)
        report.error(
          `line ${cur.line}: cue starts (${round(cur.start, 3)} s) before the previous one (line ${prev.line}, ${round(prev.start, 3)} s)`,
          { value: cur.line },
        );
    }
  }),
  subtitleCheck("overlap", ({ cues, report }) => {
    for (let i = 1; i < cues.length; i++) {
      const prev = cues[i - 1]!;
      const cur = cues[i]!;
      if (cur.start >= prev.start && cur.start < prev.end)
        report.error(
          `line ${cur.line}: cue starts at ${round(cur.start, 3)} s, before the previous cue (line ${prev.line}) ends at ${round(prev.end, 3)} s`,
          { value: round(prev.end - cur.start, 3), limit: 0 },
        );
    }
  }),
  subtitleCheck("gap", ({ cues, expect, report }) => {
    const minGap = expect.minGap ?? 2 / 24;
    const tight: number[] = [];
    for (let i = 0; i + 1 < cues.length; i++) {
      const gap = cues[i + 1]!.start - cues[i]!.end;
      if (gap > 0 && gap < minGap - 1e-6) tight.push(cues[i + 1]!.line);
    }
    if (tight.length > 0)
      report.warn(
        `${tight.length} cue(s) follow the previous one by less than ${round(minGap, 3)} s (${lineList(tight)})`,
        { value: tight.length, limit: minGap },
      );
  }),
  perCue(
    "cpl",
    ({ expect }) => {
      const max = expect.maxCharsPerLine ?? 42;
      return (payload) => longestLine(payload) > max;
    },
    ({ expect, metrics }, lines) => {
      const max = expect.maxCharsPerLine ?? 42;
      return [
        `${lines.length} cue(s) have lines over ${max} characters (${lineList(lines)})`,
        { value: metrics.maxCharsPerLine, limit: max },
      ];
    },
  ),
  perCue(
    "lines",
    ({ expect }) =>
      (payload) =>
        payload.length > (expect.maxLines ?? 2),
    ({ expect }, lines) => [
      `${lines.length} cue(s) have more than ${expect.maxLines ?? 2} lines (${lineList(lines)})`,
      { value: lines.length, limit: expect.maxLines ?? 2 },
    ],
  ),
  perCue(
    "cps",
    ({ expect }) =>
      (payload, d) =>
        codePoints(payload.join("")) / d > (expect.maxCps ?? 20),
    ({ expect, metrics }, lines) => [
      `${lines.length} cue(s) read faster than ${expect.maxCps ?? 20} characters/s (${lineList(lines)})`,
      { value: metrics.maxCps, limit: expect.maxCps ?? 20 },
    ],
  ),
  subtitleCheck("duration", ({ cues, expect, report }) => {
    const minDur = expect.minCueDuration ?? 5 / 6;
    const maxDur = expect.maxCueDuration ?? 7;
    const short: number[] = [];
    const long: number[] = [];
    for (const c of cues) {
      const d = c.end - c.start;
      if (d < minDur - 1e-6) short.push(c.line);
      if (d > maxDur + 1e-6) long.push(c.line);
    }
    if (short.length)
      report.warn(`${short.length} cue(s) shorter than ${round(minDur, 3)} s (${lineList(short)})`, {
        limit: round(minDur, 3),
      });
    if (long.length)
      report.warn(`${long.length} cue(s) longer than ${maxDur} s (${lineList(long)})`, { limit: maxDur });
  }),
  subtitleCheck("past_end", ({ cues, audio, expect, report }) => {
    if (!audio) return;
    const { duration } = audio;
    const pastEndMax = expect.pastEndMax ?? 0.5;
    const lastEnd = latestEnd(cues);
    const after = cues.filter((c) => c.start >= duration);
    if (after.length > 0)
      report.error(
        `${after.length} cue(s) start after the audio ends at ${round(duration)} s (${lineList(after.map((c) => c.line))})`,
        { value: round(after[0]!.start, 3), limit: round(duration, 3) },
      );
    else if (lastEnd > duration + pastEndMax)
      report.error(
        `the last cue ends at ${round(lastEnd)} s, ${round(lastEnd - duration)} s after the audio (max ${pastEndMax} s)`,
        { value: round(lastEnd - duration, 3), limit: pastEndMax },
      );
  }),
  subtitleCheck("coverage", ({ metrics, expect, report }) => {
    const ratio = metrics.coverageRatio;
    const min = expect.minCoverage ?? 0.9;
    if (ratio !== undefined && ratio < min)
      report.error(`cues cover ${round(ratio * 100, 1)} % of the speech (min ${round(min * 100, 1)} %)`, {
        value: ratio,
        limit: min,
      });
  }),
  subtitleCheck("sync", ({ sync, expect, report }) => {
    const tol = expect.syncTolerance ?? 0.125;
    const off = (sync ?? [])
      .filter((s) => s.offset > tol)
      .map((s) => `line ${s.line} starts ${round(s.offset)} s ${s.early ? "before" : "after"} speech`);
    if (off.length > 0)
      report.warn(`${off.length} cue(s) out of sync by more than ${tol} s: ${off.slice(0, 6).join("; ")}`, {
        value: off.length,
        limit: tol,
      });
  }),
  subtitleCheck("wer", ({ metrics, expect, report }) => {
    const wer = metrics.wordErrorRate;
    const max = expect.werMax ?? 0.1;
    if (wer !== undefined && wer > max)
      report.warn(`subtitle text differs from the script: word error rate ${round(wer, 3)} (max ${max})`, {
        value: wer,
        limit: max,
      });
  }),
];
