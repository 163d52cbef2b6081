import { extname } from "node:path";
import { type AudioExpect, type AudioMetrics, audioPass } from "./audio.ts";
import type { SubtitleCheckInput } from "./define-check.ts";
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
  runChecks,
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

export const stripTags = (s: string) => s.replace(/<[^>]*>/g, "").replace(/\{\\[^}]*\}/g, "");
export const lineList = (lines: readonly number[]) =>
  `line${lines.length > 1 ? "s" : ""} ${lines.slice(0, 12).join(", ")}${lines.length > 12 ? ", …" : ""}`;

/** `validateSubtitles` over an engine: the subtitle pass, then the validator's subtitle checks and the call's. */
export async function validateSubtitlesWith(
  engine: Engine,
  path: string,
  options: SubtitleOptions = {},
): Promise<ValidationResult<SubtitleMetrics>> {
  const expect = options.expect ?? {};
  const list = new FindingList(path, expect.severity);
  const metrics: SubtitleMetrics = {};
  const facts = await subtitlePass(engine, path, options, expect, list, metrics);
  if (facts) {
    const input = { ...facts, expect, metrics, ...(options.signal && { signal: options.signal }) };
    await runChecks(engine.checksFor(options.checks), "subtitles", list, input, expect.severity);
  }
  return result("subtitles", path, list, metrics);
}

/** The facts of the subtitle pass: what the subtitle checks judge. */
export type SubtitleFacts = Omit<SubtitleCheckInput, "report" | "expect" | "metrics" | "signal">;

/**
 * The subtitle pass: file basics, a capped UTF-8 read, the strict reader; given `audio`, its audio pass
 * (shared with `validateAudio`: same processes, cached) for silences, speech, coverage and sync; given
 * `script`, its text and the word error rate. Its own failures are findings (`file.*`, `subtitles.utf8`,
 * `subtitles.syntax`, `subtitles.empty`, `subtitles.audio`, `subtitles.script`).
 */
async function subtitlePass(
  engine: Engine,
  path: string,
  options: SubtitleOptions,
  expect: SubtitleExpect,
  list: FindingList,
  metrics: SubtitleMetrics,
): Promise<SubtitleFacts | undefined> {
  const basics = await checkFileBasics(path, "subtitles", list);
  if (!basics.ok) return undefined;
  const maxBytes = engine.maxTextBytes;
  let read: Awaited<ReturnType<typeof readCapped>>;
  try {
    read = await readCapped(path, maxBytes);
  } catch (error) {
    list.error("file.readable", `cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    return undefined;
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
    return undefined;
  }
  const ext = extname(path).toLowerCase();
  const format = expect.format ?? (ext === ".vtt" ? "vtt" : ext === ".srt" ? "srt" : undefined);
  const parsed = parseSubtitles(text, format);
  metrics.format = parsed.format;
  metrics.cues = parsed.cues.length;
  metrics.badBlocks = parsed.errors.length;
  for (const e of parsed.errors)
    list.error("subtitles.syntax", `line ${e.line}: ${e.message}`, { value: e.line });
  const cues = parsed.cues;
  if (cues.length === 0) {
    list.error("subtitles.empty", "no valid cue in the file");
    return undefined;
  }
  metrics.firstStart = round(cues[0]!.start, 3);
  metrics.lastEnd = round(latestEnd(cues), 3);
  let worstCpl = 0;
  let worstCps = 0;
  for (const c of cues) {
    const payload = stripTags(c.text).split("\n");
    for (const l of payload) worstCpl = Math.max(worstCpl, codePoints(l));
    worstCps = Math.max(worstCps, codePoints(payload.join("")) / (c.end - c.start));
  }
  metrics.maxCharsPerLine = worstCpl;
  metrics.maxCps = round(worstCps, 1);
  const [audio, script] = await Promise.all([
    options.audio !== undefined ? againstAudio(engine, cues, options, list, metrics) : undefined,
    options.script !== undefined ? scriptText(options.script, maxBytes) : undefined,
  ]);
  if (options.script !== undefined && script === undefined)
    list.error("subtitles.script", "the script could not be read, so the word error rate was not measured");
  if (script !== undefined) {
    const wer = wordErrorRate(words(script), words(cues.map((c) => stripTags(c.text)).join(" ")));
    metrics.wordErrorRate = round(wer, 4);
  }
  return {
    file: path,
    format: parsed.format,
    cues,
    ...(audio && { audio: audio.audio, sync: audio.sync }),
    ...(script !== undefined && { script }),
  };
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
export function latestEnd(cues: readonly Cue[]): number {
  let end = Number.NEGATIVE_INFINITY;
  for (const c of cues) end = Math.max(end, c.end);
  return end;
}

/** The audio's silences and speech, the cues' coverage of the speech and their offsets from speech onsets. */
async function againstAudio(
  engine: Engine,
  cues: readonly Cue[],
  options: SubtitleOptions,
  list: FindingList,
  metrics: SubtitleMetrics,
): Promise<Pick<SubtitleFacts, "audio" | "sync"> | undefined> {
  const audioList = new FindingList(options.audio, undefined);
  const facts = await audioPass(
    engine,
    options.audio!,
    options.audioExpect ?? {},
    audioList,
    {} as AudioMetrics,
    options.signal,
  );
  const duration = facts?.duration;
  if (duration === undefined || !facts?.analysis) {
    const why = audioList.items.find((f) => f.severity === "error")?.message ?? "no duration";
    list.error(
      "subtitles.audio",
      `the audio could not be analysed (${why}): coverage and sync were not checked`,
    );
    return undefined;
  }
  metrics.audioSeconds = round(duration, 3);
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
    metrics.coverageRatio = round(covered / speechTotal, 4);
  }
  // Sync: a cue should start where speech starts. Only onsets after a detected silence are trusted (a
  // leading or internal silence shorter than the detector's minimum is invisible), and a cue more than 1 s
  // into a speech run is taken as a mid-sentence split, not as late.
  const sync: { line: number; offset: number; early: boolean }[] = [];
  for (const c of cues) {
    const silence = facts.silences.find((s) => c.start >= s.start && c.start < s.end);
    if (silence) {
      if (silence.end >= duration - 1e-3) continue; // past the end: its own check
      sync.push({ line: c.line, offset: silence.end - c.start, early: true });
      continue;
    }
    const run = speech.find((s) => c.start >= s.start && c.start < s.end);
    if (!run || run.start === 0) continue;
    const late = c.start - run.start;
    if (late > 1) continue;
    sync.push({ line: c.line, offset: late, early: false });
  }
  if (sync.length > 0) {
    const sorted = sync.map((s) => s.offset).sort((a, b) => a - b);
    metrics.medianSyncOffsetSeconds = round(sorted[Math.floor(sorted.length / 2)]!, 3);
  }
  return { audio: { duration, silences: facts.silences, speech }, sync };
}
