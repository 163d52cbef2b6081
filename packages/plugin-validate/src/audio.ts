import type { AudioAnalysis, Silence } from "./audio-analysis.ts";
import type { Engine } from "./engine.ts";
import type { ProbeInfo, ProbeStream } from "./probe.ts";
import { firstStream } from "./probe.ts";
import { checkFileBasics } from "./sniff.ts";
import {
  type CallOptions,
  FindingList,
  result,
  round,
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

/** @internal Audio facts other validators reuse (subtitle sync and coverage, job cross-checks). */
export interface AudioFacts {
  readonly probe?: ProbeInfo;
  readonly stream?: ProbeStream;
  readonly duration?: number;
  readonly analysis?: AudioAnalysis;
  /** Silences with `end` filled in (clamped to the duration). */
  readonly silences: readonly { start: number; end: number }[];
}

// What any audio must be; loudness, true peak and dead air have no default (they are platform expectations).
const DEFAULTS = {
  audibleMin: -40,
  noiseDb: -40,
  minSeconds: 0.5,
  truncationTolerance: 0.15,
  maxFlatFactor: 1,
  maxFullScaleSamples: 64,
};

/** @internal Silence-detector settings for an expectation (shared with subtitle sync so the pass is reused). */
export const silenceParams = (expect: AudioExpect | undefined) => ({
  noiseDb: expect?.silence?.noiseDb ?? DEFAULTS.noiseDb,
  minSeconds: expect?.silence?.minSeconds ?? DEFAULTS.minSeconds,
});

const inList = <T>(allowed: readonly T[] | undefined, v: T | undefined) =>
  allowed === undefined || (v !== undefined && allowed.includes(v));

/**
 * @internal
 * Checks an audio file (or the audio of a video with `stream` selection) into `list`; returns the facts.
 */
export async function inspectAudio(
  engine: Engine,
  path: string,
  expect: AudioExpect,
  list: FindingList,
  metrics: AudioMetrics,
  signal: AbortSignal | undefined,
): Promise<AudioFacts> {
  const basics = await checkFileBasics(path, "audio", list);
  if (!basics.ok || !basics.stat) return { silences: [] };
  metrics.sizeBytes = basics.size;
  if (expect.maxSize !== undefined && basics.size > expect.maxSize) {
    list.error("audio.size", `file is ${basics.size} bytes, over ${expect.maxSize}`, {
      value: basics.size,
      limit: expect.maxSize,
    });
  }
  const hash = await engine.contentHash(path, basics.stat);
  const params = silenceParams(expect);
  const analyze = expect.analyze !== false;
  // Probe and analysis run side by side: both are cheap and each is one process.
  const [probed, analysed] = await Promise.all([
    engine.probe(path, hash, signal),
    analyze ? engine.analyzeAudio(path, hash, params, signal) : undefined,
  ]);
  if (probed.failed) {
    list.error("audio.readable", probed.message);
    return { silences: [] };
  }
  const info = probed.info;
  const stream = firstStream(info, "audio");
  if (!stream) {
    list.error("audio.stream", "no audio stream in the file", { value: info.streams.map((s) => s.type) });
    return { probe: info, silences: [] };
  }
  const duration = stream.duration ?? info.duration;
  Object.assign(metrics, {
    ...(stream.codec && { codec: stream.codec }),
    ...(stream.sampleRate && { sampleRate: stream.sampleRate }),
    ...(stream.channels && { channels: stream.channels }),
    ...((stream.bitRate ?? info.bitRate) && { bitRate: stream.bitRate ?? info.bitRate }),
    ...(duration !== undefined && { durationSeconds: round(duration, 3) }),
  });
  if (!inList(expect.codecs, stream.codec)) {
    list.error("audio.codec", `codec ${stream.codec} is not one of ${expect.codecs!.join(", ")}`, {
      value: stream.codec,
      limit: expect.codecs,
    });
  }
  if (!inList(expect.sampleRates, stream.sampleRate)) {
    list.error(
      "audio.sample_rate",
      `sample rate ${stream.sampleRate} Hz is not one of ${expect.sampleRates!.join(", ")}`,
      {
        value: stream.sampleRate,
        limit: expect.sampleRates,
      },
    );
  }
  if (!inList(expect.channels, stream.channels)) {
    list.error("audio.channels", `${stream.channels} channel(s), expected ${expect.channels!.join(" or ")}`, {
      value: stream.channels,
      limit: expect.channels,
    });
  }
  const bitRate = stream.bitRate ?? info.bitRate;
  if (expect.minBitrate !== undefined && bitRate !== undefined && bitRate < expect.minBitrate) {
    list.error(
      "audio.bitrate",
      `bitrate ${Math.round(bitRate / 1000)} kbps is under ${Math.round(expect.minBitrate / 1000)} kbps`,
      {
        value: bitRate,
        limit: expect.minBitrate,
      },
    );
  }
  if (info.errorLines.length > 0) {
    list.error(
      "audio.integrity",
      `${info.errorLines.length} error line(s) while demuxing: ${info.errorLines.slice(0, 2).join(" | ")}`,
      {
        value: info.errorLines.length,
        limit: 0,
      },
    );
  }
  if (
    stream.declaredFrames !== undefined &&
    stream.readPackets !== undefined &&
    stream.readPackets < stream.declaredFrames * 0.98
  ) {
    list.error(
      "audio.truncated",
      `only ${stream.readPackets} of ${stream.declaredFrames} declared packets are present`,
      {
        value: stream.readPackets,
        limit: stream.declaredFrames,
      },
    );
  }
  if (!analysed) return { probe: info, stream, ...(duration !== undefined && { duration }), silences: [] };
  if (analysed.failed) {
    list.error("audio.analysis", analysed.message);
    return { probe: info, stream, ...(duration !== undefined && { duration }), silences: [] };
  }
  const a = analysed.analysis;
  for (const f of a.missingFilters)
    list.info("audio.skipped", `ffmpeg lacks the ${f} filter: its checks were skipped`, { value: f });
  const decoded = a.samples !== undefined && stream.sampleRate ? a.samples / stream.sampleRate : undefined;
  if (decoded !== undefined) metrics.decodedSeconds = round(decoded, 3);
  const tol = expect.truncationTolerance ?? DEFAULTS.truncationTolerance;
  const headerDuration = duration !== undefined ? duration : undefined;
  if (
    decoded !== undefined &&
    headerDuration !== undefined &&
    Math.abs(headerDuration - decoded) > Math.max(tol, headerDuration * 0.01)
  ) {
    list.error(
      "audio.truncated",
      `decoded ${round(decoded)} s of audio but the header declares ${round(headerDuration)} s (truncated or damaged)`,
      { value: round(decoded, 3), limit: round(headerDuration, 3) },
    );
  }
  const effective = decoded ?? headerDuration;
  if (effective !== undefined) {
    if (expect.minDuration !== undefined && effective < expect.minDuration) {
      list.error("audio.duration", `${round(effective)} s is shorter than ${expect.minDuration} s`, {
        value: round(effective, 3),
        limit: expect.minDuration,
      });
    }
    if (expect.maxDuration !== undefined && effective > expect.maxDuration) {
      list.error("audio.duration", `${round(effective)} s is longer than ${expect.maxDuration} s`, {
        value: round(effective, 3),
        limit: expect.maxDuration,
      });
    }
  }
  Object.assign(metrics, {
    ...(a.integratedLufs !== undefined && { integratedLufs: a.integratedLufs }),
    ...(a.truePeakDbfs !== undefined && { truePeakDbtp: a.truePeakDbfs }),
    ...(a.loudnessRangeLu !== undefined && { loudnessRangeLu: a.loudnessRangeLu }),
    ...(a.meanVolumeDb !== undefined && { meanVolumeDb: a.meanVolumeDb }),
    ...(a.maxVolumeDb !== undefined && { maxVolumeDb: a.maxVolumeDb }),
    ...(a.flatFactor !== undefined && { flatFactor: a.flatFactor }),
  });
  const audibleMin = expect.audibleMin ?? DEFAULTS.audibleMin;
  const silent =
    (a.integratedLufs !== undefined && a.integratedLufs < audibleMin) ||
    (a.maxVolumeDb !== undefined && a.maxVolumeDb < -60);
  if (silent) {
    list.error(
      "audio.silent",
      `audio is silent or near-silent (integrated ${a.integratedLufs} LUFS, max ${a.maxVolumeDb} dB)`,
      {
        value: a.integratedLufs,
        limit: audibleMin,
      },
    );
  } else if (expect.loudness && a.integratedLufs !== undefined) {
    const { target, tolerance } = expect.loudness;
    if (Math.abs(a.integratedLufs - target) > tolerance) {
      list.error(
        "audio.loudness",
        `integrated loudness ${a.integratedLufs} LUFS is ${a.integratedLufs < target ? "under" : "over"} the ${target} ± ${tolerance} LUFS target`,
        { value: a.integratedLufs, limit: [target - tolerance, target + tolerance] },
      );
    }
  }
  const tpMax = expect.truePeakMax;
  if (tpMax !== undefined && a.truePeakDbfs !== undefined && a.truePeakDbfs > tpMax) {
    list.error("audio.true_peak", `true peak ${a.truePeakDbfs} dBTP is over ${tpMax} dBTP`, {
      value: a.truePeakDbfs,
      limit: tpMax,
    });
  }
  if (expect.clipping !== false) {
    const maxFlat = expect.clipping?.maxFlatFactor ?? DEFAULTS.maxFlatFactor;
    const maxFull = expect.clipping?.maxFullScaleSamples ?? DEFAULTS.maxFullScaleSamples;
    if ((a.flatFactor ?? 0) > maxFlat || (a.samplesAt0db ?? 0) > maxFull) {
      list.error(
        "audio.clipping",
        `audio is clipped: flat factor ${round(a.flatFactor ?? 0)}, ${a.samplesAt0db ?? 0} samples at full scale`,
        {
          value: { flatFactor: a.flatFactor, fullScaleSamples: a.samplesAt0db },
          limit: { flatFactor: maxFlat, fullScaleSamples: maxFull },
        },
      );
    }
  }
  const end = effective ?? 0;
  const silences = a.silences.map((s: Silence) => {
    const e = s.end ?? end;
    return { start: s.start, end: end > 0 ? Math.min(e, end) : e };
  });
  if (!silent && end > 0) deadAir(silences, end, expect, list, metrics);
  return {
    probe: info,
    stream,
    ...(effective !== undefined && { duration: effective }),
    analysis: a,
    silences,
  };
}

function deadAir(
  silences: readonly { start: number; end: number }[],
  end: number,
  expect: AudioExpect,
  list: FindingList,
  metrics: AudioMetrics,
): void {
  const edge = 0.05;
  const lead = silences.find((s) => s.start <= edge);
  const trail = silences.find((s) => s.end >= end - edge && s !== lead);
  const leading = lead ? lead.end - lead.start : 0;
  const trailing = trail ? trail.end - trail.start : 0;
  const gaps = silences.filter((s) => s !== lead && s !== trail);
  let longest = 0;
  for (const s of gaps) longest = Math.max(longest, s.end - s.start);
  const silent = silences.reduce((t, s) => t + (s.end - s.start), 0);
  Object.assign(metrics, {
    leadingSilenceSeconds: round(leading, 3),
    trailingSilenceSeconds: round(trailing, 3),
    longestGapSeconds: round(longest, 3),
    speechSeconds: round(Math.max(0, end - silent), 3),
  });
  const leadMax = expect.leadingSilenceMax;
  const trailMax = expect.trailingSilenceMax;
  const gapMax = expect.gapMax;
  if (leadMax !== undefined && leading > leadMax) {
    list.error("audio.leading_silence", `${round(leading)} s of dead air at the start (max ${leadMax} s)`, {
      value: round(leading, 3),
      limit: leadMax,
    });
  }
  if (trailMax !== undefined && trailing > trailMax) {
    list.error("audio.trailing_silence", `${round(trailing)} s of dead air at the end (max ${trailMax} s)`, {
      value: round(trailing, 3),
      limit: trailMax,
    });
  }
  for (const g of gaps) {
    const d = g.end - g.start;
    if (gapMax !== undefined && d > gapMax) {
      list.error("audio.gap", `${round(d)} s silence gap at ${round(g.start)} s (max ${gapMax} s)`, {
        value: round(d, 3),
        limit: gapMax,
      });
    }
  }
}

/**
 * @internal Implementation of `validateAudio` over an engine.
 */
export async function validateAudioWith(
  engine: Engine,
  path: string,
  expect: AudioExpect = {},
  options: CallOptions = {},
): Promise<ValidationResult<AudioMetrics>> {
  const list = new FindingList(path, expect.severity);
  const metrics: AudioMetrics = {};
  await inspectAudio(engine, path, expect, list, metrics, options.signal);
  return result("audio", path, list, metrics);
}
