import type { Silence } from "./audio-analysis.ts";
import type { AudioCheckInput } from "./define-check.ts";
import type { Engine } from "./engine.ts";
import { firstStream } from "./probe.ts";
import { checkFileBasics } from "./sniff.ts";
import {
  type CallOptions,
  FindingList,
  result,
  round,
  runChecks,
  type SeverityOverrides,
  type ValidationResult,
} from "./types.ts";

/** What an audio file should look like. Every field is optional; defaults are noted. */
export interface AudioExpect {
  /** Seconds. */
  readonly minDuration?: number;
  /** Seconds. */
  readonly maxDuration?: number;
  /** Allowed codec names as ffprobe spells them (`mp3`, `aac`, `pcm_s16le`...). */
  readonly codecs?: readonly string[];
  /** Allowed sample rates in Hz. */
  readonly sampleRates?: readonly number[];
  /** Allowed channel counts. */
  readonly channels?: readonly number[];
  /** Lowest bitrate, bits per second. */
  readonly minBitrate?: number;
  /** Largest file size in bytes. */
  readonly maxSize?: number;
  /**
   * Integrated loudness target and tolerance (LUFS, LU). Unchecked unless given (a platform expectation:
   * the short-form profiles say -14 ± 1, `podcast` -16 ± 1, `ebu-r128` -23 ± 0.5). `false` skips it.
   */
  readonly loudness?: { readonly target: number; readonly tolerance: number } | false;
  /** Highest true peak in dBTP; unchecked unless given (the platform profiles say -1). */
  readonly truePeakMax?: number;
  /** Quieter than this integrated loudness (LUFS) counts as silent or near-silent (default -40). */
  readonly audibleMin?: number;
  /** Clipping: astats flat factor above this (default 1) or more samples at 0 dBFS than `maxFullScaleSamples` (default 64). */
  readonly clipping?: { readonly maxFlatFactor?: number; readonly maxFullScaleSamples?: number } | false;
  /** Longest leading silence in seconds; unchecked unless given (the short-form profiles say 0.5). */
  readonly leadingSilenceMax?: number;
  /** Longest trailing silence in seconds; unchecked unless given (the short-form profiles say 1). */
  readonly trailingSilenceMax?: number;
  /** Longest silence between speech in seconds, a dropped TTS segment; unchecked unless given (short-form: 2). */
  readonly gapMax?: number;
  /** Silence detector: noise floor dBFS (default -40) and shortest silence seconds (default 0.5). */
  readonly silence?: { readonly noiseDb?: number; readonly minSeconds?: number };
  /** Decoded vs header duration, seconds (default 0.15): a larger difference means truncation. */
  readonly truncationTolerance?: number;
  /** Skip the ffmpeg analysis pass (probe-level checks only). */
  readonly analyze?: boolean;
  /** Per-check severity overrides (`{ "audio.loudness": "warning" }`). */
  readonly severity?: SeverityOverrides;
}

/** What {@link validateAudio} measured. */
export interface AudioMetrics {
  sizeBytes?: number;
  codec?: string;
  sampleRate?: number;
  channels?: number;
  bitRate?: number;
  /** Duration the header declares. */
  durationSeconds?: number;
  /** Duration actually decoded (samples / rate). */
  decodedSeconds?: number;
  integratedLufs?: number;
  truePeakDbtp?: number;
  loudnessRangeLu?: number;
  meanVolumeDb?: number;
  maxVolumeDb?: number;
  flatFactor?: number;
  leadingSilenceSeconds?: number;
  trailingSilenceSeconds?: number;
  longestGapSeconds?: number;
  /** Seconds not covered by silence. */
  speechSeconds?: number;
}

// What any audio must be; loudness, true peak and dead air have no default (they are platform expectations).
export const AUDIO_DEFAULTS = {
  audibleMin: -40,
  noiseDb: -40,
  minSeconds: 0.5,
  truncationTolerance: 0.15,
  maxFlatFactor: 1,
  maxFullScaleSamples: 64,
};

/** Silence-detector settings for an expectation (shared with subtitle sync so the pass is reused). */
export const silenceParams = (expect: AudioExpect | undefined) => ({
  noiseDb: expect?.silence?.noiseDb ?? AUDIO_DEFAULTS.noiseDb,
  minSeconds: expect?.silence?.minSeconds ?? AUDIO_DEFAULTS.minSeconds,
});

/** The facts of the audio pass: what the audio checks judge (and what subtitle sync and coverage reuse). */
export type AudioFacts = Omit<AudioCheckInput, "report" | "expect" | "metrics" | "signal">;

/**
 * The audio pass: file basics, then one ffprobe and one ffmpeg analysis side by side, into `metrics`. Its own
 * failures are findings (`file.*`, `audio.readable`, `audio.stream`, `audio.analysis`, `audio.skipped`);
 * returns undefined when there is nothing for the checks to judge.
 */
export async function audioPass(
  engine: Engine,
  path: string,
  expect: AudioExpect,
  list: FindingList,
  metrics: AudioMetrics,
  signal: AbortSignal | undefined,
): Promise<AudioFacts | undefined> {
  const basics = await checkFileBasics(path, "audio", list);
  if (!basics.ok || !basics.stat) return undefined;
  metrics.sizeBytes = basics.size;
  const hash = await engine.contentHash(path, basics.stat);
  const analyze = expect.analyze !== false;
  // Probe and analysis run side by side: both are cheap and each is one process.
  const [probed, analysed] = await Promise.all([
    engine.probe(path, hash, signal),
    analyze ? engine.analyzeAudio(path, hash, silenceParams(expect), signal) : undefined,
  ]);
  if (probed.failed) {
    list.error("audio.readable", probed.message);
    return undefined;
  }
  const info = probed.info;
  const stream = firstStream(info, "audio");
  if (!stream) {
    list.error("audio.stream", "no audio stream in the file", { value: info.streams.map((s) => s.type) });
    return undefined;
  }
  const header = stream.duration ?? info.duration;
  Object.assign(metrics, {
    ...(stream.codec && { codec: stream.codec }),
    ...(stream.sampleRate && { sampleRate: stream.sampleRate }),
    ...(stream.channels && { channels: stream.channels }),
    ...((stream.bitRate ?? info.bitRate) && { bitRate: stream.bitRate ?? info.bitRate }),
    ...(header !== undefined && { durationSeconds: round(header, 3) }),
  });
  const base = { file: path, sizeBytes: basics.size, probe: info, stream };
  if (analysed?.failed) list.error("audio.analysis", analysed.message);
  if (!analysed || analysed.failed)
    return { ...base, ...(header !== undefined && { duration: header }), silent: false, silences: [] };
  const a = analysed.analysis;
  for (const f of a.missingFilters)
    list.info("audio.skipped", `ffmpeg lacks the ${f} filter: its checks were skipped`, { value: f });
  const decoded = a.samples !== undefined && stream.sampleRate ? a.samples / stream.sampleRate : undefined;
  if (decoded !== undefined) metrics.decodedSeconds = round(decoded, 3);
  Object.assign(metrics, {
    ...(a.integratedLufs !== undefined && { integratedLufs: a.integratedLufs }),
    ...(a.truePeakDbfs !== undefined && { truePeakDbtp: a.truePeakDbfs }),
    ...(a.loudnessRangeLu !== undefined && { loudnessRangeLu: a.loudnessRangeLu }),
    ...(a.meanVolumeDb !== undefined && { meanVolumeDb: a.meanVolumeDb }),
    ...(a.maxVolumeDb !== undefined && { maxVolumeDb: a.maxVolumeDb }),
    ...(a.flatFactor !== undefined && { flatFactor: a.flatFactor }),
  });
  const effective = decoded ?? header;
  const audibleMin = expect.audibleMin ?? AUDIO_DEFAULTS.audibleMin;
  const silent =
    (a.integratedLufs !== undefined && a.integratedLufs < audibleMin) ||
    (a.maxVolumeDb !== undefined && a.maxVolumeDb < -60);
  const end = effective ?? 0;
  const silences = a.silences.map((s: Silence) => {
    const e = s.end ?? end;
    return { start: s.start, end: end > 0 ? Math.min(e, end) : e };
  });
  if (!silent && end > 0) {
    const dead = deadAir(silences, end);
    Object.assign(metrics, {
      leadingSilenceSeconds: round(dead.leading, 3),
      trailingSilenceSeconds: round(dead.trailing, 3),
      longestGapSeconds: round(dead.longest, 3),
      speechSeconds: round(dead.speech, 3),
    });
  }
  return { ...base, ...(effective !== undefined && { duration: effective }), analysis: a, silent, silences };
}

/** Leading and trailing silences and the gaps between, of silences clamped to `end`. */
export function deadAir(silences: readonly { start: number; end: number }[], end: number) {
  const edge = 0.05;
  const lead = silences.find((s) => s.start <= edge);
  const trail = silences.find((s) => s.end >= end - edge && s !== lead);
  const gaps = silences.filter((s) => s !== lead && s !== trail);
  let longest = 0;
  for (const s of gaps) longest = Math.max(longest, s.end - s.start);
  const silent = silences.reduce((t, s) => t + (s.end - s.start), 0);
  return {
    leading: lead ? lead.end - lead.start : 0,
    trailing: trail ? trail.end - trail.start : 0,
    gaps,
    longest,
    speech: Math.max(0, end - silent),
  };
}

/** `validateAudio` over an engine: the pass, then the validator's audio checks and the call's. */
export async function validateAudioWith(
  engine: Engine,
  path: string,
  expect: AudioExpect = {},
  options: CallOptions = {},
): Promise<ValidationResult<AudioMetrics>> {
  const list = new FindingList(path, expect.severity);
  const metrics: AudioMetrics = {};
  const facts = await audioPass(engine, path, expect, list, metrics, options.signal);
  if (facts) {
    const input = { ...facts, expect, metrics, ...(options.signal && { signal: options.signal }) };
    await runChecks(engine.checksFor(options.checks), "audio", list, input, expect.severity);
  }
  return result("audio", path, list, metrics);
}
