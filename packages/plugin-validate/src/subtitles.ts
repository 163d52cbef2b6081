import { extname } from "node:path";
import { type AudioExpect, type AudioFacts, type AudioMetrics, inspectAudio } from "./audio.ts";
import type { Engine } from "./engine.ts";
import { codePoints, decodeUtf8, readCapped } from "./internal/read.ts";
import { checkFileBasics } from "./sniff.ts";
import { type Cue, parseSubtitles } from "./subtitle-reader.ts";
import { looksLikePath, type TextSource } from "./text.ts";
import {
  type CallOptions,
  FindingList,
  result,
  round,
  type SeverityOverrides,
  type ValidationResult,
} from "./types.ts";
import { wordErrorRate, words } from "./wer.ts";

/** Readability and sync limits for subtitles (defaults: Netflix Timed Text Style Guide, research §4). */
export interface SubtitleExpect {
  /** Force a format; default from the extension (`.vtt` → vtt) or the content. */
  readonly format?: "srt" | "vtt";
  /** Characters per line (default 42). */
  readonly maxCharsPerLine?: number;
  /** Lines per cue (default 2). */
  readonly maxLines?: number;
  /** Characters per second (default 20). */
  readonly maxCps?: number;
  /** Shortest cue in seconds (default 5/6). */
  readonly minCueDuration?: number;
  /** Longest cue in seconds (default 7). */
  readonly maxCueDuration?: number;
  /** Shortest gap between cues in seconds (default 2 frames at 24 fps ≈ 0.083); 0 allows touching cues. */
  readonly minGap?: number;
  /** How far a cue start may sit from the speech onset, seconds (default 3 frames ≈ 0.125; needs `audio`). */
  readonly syncTolerance?: number;
  /** How far the last cue may run past the end of the audio, seconds (default 0.5). */
  readonly pastEndMax?: number;
  /** Share of speech time the cues must cover, 0..1 (default 0.9; needs `audio`). */
  readonly minCoverage?: number;
  /** Highest word error rate of the cue text against the script (default 0.1; needs `script`). */
  readonly werMax?: number;
  readonly severity?: SeverityOverrides;
}

/** Options of {@link validateSubtitles}. */
export interface SubtitleOptions extends CallOptions {
  /** The audio the subtitles belong to: enables coverage, sync and past-the-end checks. */
  readonly audio?: string;
  /** The script (path, `{ text }` or `{ path }`): enables the word error rate check. */
  readonly script?: TextSource;
  readonly expect?: SubtitleExpect;
  /** Expectations for the audio's silence detector (shared with `validateAudio` so its pass is reused). */
  readonly audioExpect?: AudioExpect;
}

/** What {@link validateSubtitles} measured. */
export interface SubtitleMetrics {
  format?: "srt" | "vtt";
  cues?: number;
  badBlocks?: number;
  firstStart?: number;
  lastEnd?: number;
  maxCharsPerLine?: number;
  maxCps?: number;
  audioSeconds?: number;
  /** Share of speech time covered by cues, 0..1. */
  coverageRatio?: number;
  /** Median |cue start − speech onset| in seconds over cues that could be matched. */
  medianSyncOffsetSeconds?: number;
  wordErrorRate?: number;
}

const stripTags = (s: string) => s.replace(/<[^>]*>/g, "").replace(/\{\\[^}]*\}/g, "");
const lineList = (lines: readonly number[]) =>
  `line${lines.length > 1 ? "s" : ""} ${lines.slice(0, 12).join(", ")}${lines.length > 12 ? ", …" : ""}`;

/** @internal Implementation of `validateSubtitles` over an engine. */
export async function validateSubtitlesWith(
  engine: Engine,
  path: string,
  options: SubtitleOptions = {},
): Promise<ValidationResult<SubtitleMetrics>> {
  const expect = options.expect ?? {};
  const list = new FindingList(path, expect.severity);
  const metrics: SubtitleMetrics = {};
  const done = () => result("subtitles", path, list, metrics);
  const basics = await checkFileBasics(path, "subtitles", list);
  if (!basics.ok) return done();
  const maxBytes = engine.maxTextBytes;
  let read: Awaited<ReturnType<typeof readCapped>>;
  try {
    read = await readCapped(path, maxBytes);
  } catch (error) {
    list.error("file.readable", `cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    return done();
  }
  if (read.truncated) {
    list.error(
      "file.too_large",
      `file is ${read.size} bytes, over the ${maxBytes}-byte cap for subtitles: only the first ${maxBytes} bytes were checked (raise maxTextBytes to read more)`,
      { value: read.size, limit: maxBytes },
    );
  }
  const text = decodeUtf8(read.bytes, read.truncated);
  if (text === undefined) {
    list.error("subtitles.utf8", "not valid UTF-8");
    return done();
  }
  const format =
    expect.format ??
    (extname(path).toLowerCase() === ".vtt"
      ? "vtt"
      : extname(path).toLowerCase() === ".srt"
        ? "srt"
        : undefined);
  const parsed = parseSubtitles(text, format);
  metrics.format = parsed.format;
  metrics.cues = parsed.cues.length;
  metrics.badBlocks = parsed.errors.length;
  for (const e of parsed.errors)
    list.error("subtitles.syntax", `line ${e.line}: ${e.message}`, { value: e.line });
  const cues = parsed.cues;
  if (cues.length === 0) {
    list.error("subtitles.empty", "no valid cue in the file");
    return done();
  }
  metrics.firstStart = round(cues[0]!.start, 3);
  metrics.lastEnd = round(latestEnd(cues), 3);
  checkTiming(cues, expect, list);
  checkReadability(cues, expect, list, metrics);

  const tasks: Promise<void>[] = [];
  if (options.audio !== undefined)
    tasks.push(checkAgainstAudio(engine, cues, options, expect, list, metrics));
  if (options.script !== undefined) {
    tasks.push(
      (async () => {
        const script = await scriptText(options.script!, maxBytes);
        if (script === undefined) {
          list.error(
            "subtitles.script",
            "the script could not be read, so the word error rate was not measured",
          );
          return;
        }
        const wer = wordErrorRate(words(script), words(cues.map((c) => stripTags(c.text)).join(" ")));
        metrics.wordErrorRate = round(wer, 4);
        const max = expect.werMax ?? 0.1;
        if (wer > max) {
          list.warn(
            "subtitles.wer",
            `subtitle text differs from the script: word error rate ${round(wer, 3)} (max ${max})`,
            { value: round(wer, 4), limit: max },
          );
        }
      })(),
    );
  }
  await Promise.all(tasks);
  return done();
}

async function scriptText(source: TextSource, maxBytes: number): Promise<string | undefined> {
  if (typeof source === "object" && "text" in source) return source.text;
  const path = typeof source === "string" ? source : source.path;
  if (typeof source === "string" && !(await looksLikePath(source))) return source;
  try {
    const read = await readCapped(path, maxBytes);
    return decodeUtf8(read.bytes, read.truncated);
  } catch {
    return undefined;
  }
}

/** The end of the last cue to end (a loop: a cue list may be long). */
function latestEnd(cues: readonly Cue[]): number {
  let end = Number.NEGATIVE_INFINITY;
  for (const c of cues) end = Math.max(end, c.end);
  return end;
}

function checkTiming(cues: readonly Cue[], expect: SubtitleExpect, list: FindingList): void {
  for (let i = 1; i < cues.length; i++) {
    const prev = cues[i - 1]!;
    const cur = cues[i]!;
    if (cur.start < prev.start) {
      list.error(
        "subtitles.order",
        `line ${cur.line}: cue starts (${round(cur.start, 3)} s) before the previous one (line ${prev.line}, ${round(prev.start, 3)} s)`,
        {
          value: cur.line,
        },
      );
    } else if (cur.start < prev.end) {
      list.error(
        "subtitles.overlap",
        `line ${cur.line}: cue starts at ${round(cur.start, 3)} s, before the previous cue (line ${prev.line}) ends at ${round(prev.end, 3)} s`,
        {
          value: round(prev.end - cur.start, 3),
          limit: 0,
        },
      );
    }
  }
  const minGap = expect.minGap ?? 2 / 24;
  const tight = cues.flatMap((c, i) => {
    const next = cues[i + 1];
    if (!next) return [];
    const gap = next.start - c.end;
    return gap >= 0 && gap < minGap - 1e-6 && gap > 0 ? [next.line] : [];
  });
  if (tight.length > 0)
    list.warn(
      "subtitles.gap",
      `${tight.length} cue(s) follow the previous one by less than ${round(minGap, 3)} s (${lineList(tight)})`,
      { value: tight.length, limit: minGap },
    );
}

function checkReadability(
  cues: readonly Cue[],
  expect: SubtitleExpect,
  list: FindingList,
  metrics: SubtitleMetrics,
): void {
  const maxCpl = expect.maxCharsPerLine ?? 42;
  const maxLines = expect.maxLines ?? 2;
  const maxCps = expect.maxCps ?? 20;
  const minDur = expect.minCueDuration ?? 5 / 6;
  const maxDur = expect.maxCueDuration ?? 7;
  const cpl: number[] = [];
  const lines: number[] = [];
  const cps: number[] = [];
  const short: number[] = [];
  const long: number[] = [];
  let worstCpl = 0;
  let worstCps = 0;
  for (const c of cues) {
    const payload = stripTags(c.text).split("\n");
    let longest = 0;
    for (const l of payload) longest = Math.max(longest, codePoints(l));
    worstCpl = Math.max(worstCpl, longest);
    if (longest > maxCpl) cpl.push(c.line);
    if (payload.length > maxLines) lines.push(c.line);
    const d = c.end - c.start;
    const rate = codePoints(payload.join("")) / d;
    worstCps = Math.max(worstCps, rate);
    if (rate > maxCps) cps.push(c.line);
    if (d < minDur - 1e-6) short.push(c.line);
    if (d > maxDur + 1e-6) long.push(c.line);
  }
  metrics.maxCharsPerLine = worstCpl;
  metrics.maxCps = round(worstCps, 1);
  if (cpl.length)
    list.warn(
      "subtitles.cpl",
      `${cpl.length} cue(s) have lines over ${maxCpl} characters (${lineList(cpl)})`,
      { value: worstCpl, limit: maxCpl },
    );
  if (lines.length)
    list.warn(
      "subtitles.lines",
      `${lines.length} cue(s) have more than ${maxLines} lines (${lineList(lines)})`,
      { value: lines.length, limit: maxLines },
    );
  if (cps.length)
    list.warn(
      "subtitles.cps",
      `${cps.length} cue(s) read faster than ${maxCps} characters/s (${lineList(cps)})`,
      { value: round(worstCps, 1), limit: maxCps },
    );
  if (short.length)
    list.warn(
      "subtitles.duration",
      `${short.length} cue(s) shorter than ${round(minDur, 3)} s (${lineList(short)})`,
      { limit: round(minDur, 3) },
    );
  if (long.length)
    list.warn("subtitles.duration", `${long.length} cue(s) longer than ${maxDur} s (${lineList(long)})`, {
      limit: maxDur,
    });
}

async function checkAgainstAudio(
  engine: Engine,
  cues: readonly Cue[],
  options: SubtitleOptions,
  expect: SubtitleExpect,
  list: FindingList,
  metrics: SubtitleMetrics,
): Promise<void> {
  const audioList = new FindingList(options.audio, undefined);
  const facts: AudioFacts = await inspectAudio(
    engine,
    options.audio!,
    options.audioExpect ?? {},
    audioList,
    {} as AudioMetrics,
    options.signal,
  );
  const duration = facts.duration;
  if (duration === undefined || !facts.analysis) {
    const why = audioList.items.find((f) => f.severity === "error")?.message ?? "no duration";
    list.error(
      "subtitles.audio",
      `the audio could not be analysed (${why}): coverage and sync were not checked`,
    );
    return;
  }
  metrics.audioSeconds = round(duration, 3);
  const pastEndMax = expect.pastEndMax ?? 0.5;
  const lastEnd = latestEnd(cues);
  const after = cues.filter((c) => c.start >= duration);
  if (after.length > 0) {
    list.error(
      "subtitles.past_end",
      `${after.length} cue(s) start after the audio ends at ${round(duration)} s (${lineList(after.map((c) => c.line))})`,
      {
        value: round(after[0]!.start, 3),
        limit: round(duration, 3),
      },
    );
  } else if (lastEnd > duration + pastEndMax) {
    list.error(
      "subtitles.past_end",
      `the last cue ends at ${round(lastEnd)} s, ${round(lastEnd - duration)} s after the audio (max ${pastEndMax} s)`,
      {
        value: round(lastEnd - duration, 3),
        limit: pastEndMax,
      },
    );
  }
  // Speech = the audio minus the silences silencedetect found.
  const speech: { start: number; end: number }[] = [];
  let t = 0;
  for (const s of facts.silences) {
    if (s.start > t) speech.push({ start: t, end: s.start });
    t = Math.max(t, s.end);
  }
  if (t < duration) speech.push({ start: t, end: duration });
  const speechTotal = speech.reduce((n, s) => n + (s.end - s.start), 0);
  if (speechTotal > 0) {
    let covered = 0;
    const sorted = [...cues].sort((a, b) => a.start - b.start);
    for (const s of speech) {
      let cursor = s.start;
      for (const c of sorted) {
        const a = Math.max(cursor, c.start);
        const b = Math.min(s.end, c.end);
        if (b > a) {
          covered += b - a;
          cursor = b;
        }
      }
    }
    const ratio = covered / speechTotal;
    metrics.coverageRatio = round(ratio, 4);
    const min = expect.minCoverage ?? 0.9;
    if (ratio < min) {
      list.error(
        "subtitles.coverage",
        `cues cover ${round(ratio * 100, 1)} % of the speech (min ${round(min * 100, 1)} %)`,
        { value: round(ratio, 4), limit: min },
      );
    }
  }
  // Sync: a cue should start where speech starts. Only onsets after a detected silence are trusted (a
  // leading or internal silence shorter than the detector's minimum is invisible), and a cue more than 1 s
  // into a speech run is taken as a mid-sentence split, not as late.
  const tol = expect.syncTolerance ?? 0.125;
  const offsets: number[] = [];
  const off: string[] = [];
  for (const c of cues) {
    const silence = facts.silences.find((s) => c.start >= s.start && c.start < s.end);
    if (silence) {
      if (silence.end >= duration - 1e-3) continue; // past the end: reported above
      const early = silence.end - c.start;
      offsets.push(early);
      if (early > tol) off.push(`line ${c.line} starts ${round(early)} s before speech`);
      continue;
    }
    const run = speech.find((s) => c.start >= s.start && c.start < s.end);
    if (!run || run.start === 0) continue;
    const late = c.start - run.start;
    if (late > 1) continue;
    offsets.push(late);
    if (late > tol) off.push(`line ${c.line} starts ${round(late)} s after speech`);
  }
  if (offsets.length > 0) {
    const sorted = offsets.sort((a, b) => a - b);
    metrics.medianSyncOffsetSeconds = round(sorted[Math.floor(sorted.length / 2)]!, 3);
  }
  if (off.length > 0)
    list.warn(
      "subtitles.sync",
      `${off.length} cue(s) out of sync by more than ${tol} s: ${off.slice(0, 6).join("; ")}`,
      { value: off.length, limit: tol },
    );
}
