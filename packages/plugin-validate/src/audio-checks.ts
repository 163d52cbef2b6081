/** The built-in audio checks: each judges the facts of the one audio pass (`audioPass`) against `AudioExpect`. */
import { AUDIO_DEFAULTS, deadAir } from "./audio.ts";
import { type Check, defineCheck } from "./define-check.ts";
import { round } from "./types.ts";

const inList = <T>(allowed: readonly T[] | undefined, v: T | undefined) =>
  allowed === undefined || (v !== undefined && allowed.includes(v));

const audioCheck = (name: string, run: Parameters<typeof defineCheck<"audio", object>>[0]["run"]) =>
  defineCheck({ kind: "audio", name, run })();

/** In the order their findings appear. */
export const AUDIO_CHECKS: readonly Check<"audio">[] = [
  audioCheck("size", ({ expect, sizeBytes, report }) => {
    if (expect.maxSize !== undefined && sizeBytes > expect.maxSize)
      report.error(`file is ${sizeBytes} bytes, over ${expect.maxSize}`, {
        value: sizeBytes,
        limit: expect.maxSize,
      });
  }),
  audioCheck("codec", ({ expect, stream, report }) => {
    if (!inList(expect.codecs, stream.codec))
      report.error(`codec ${stream.codec} is not one of ${expect.codecs!.join(", ")}`, {
        value: stream.codec,
        limit: expect.codecs,
      });
  }),
  audioCheck("sample_rate", ({ expect, stream, report }) => {
    if (!inList(expect.sampleRates, stream.sampleRate))
      report.error(`sample rate ${stream.sampleRate} Hz is not one of ${expect.sampleRates!.join(", ")}`, {
        value: stream.sampleRate,
        limit: expect.sampleRates,
      });
  }),
  audioCheck("channels", ({ expect, stream, report }) => {
    if (!inList(expect.channels, stream.channels))
      report.error(`${stream.channels} channel(s), expected ${expect.channels!.join(" or ")}`, {
        value: stream.channels,
        limit: expect.channels,
      });
  }),
  audioCheck("bitrate", ({ expect, stream, probe, report }) => {
    const bitRate = stream.bitRate ?? probe.bitRate;
    if (expect.minBitrate !== undefined && bitRate !== undefined && bitRate < expect.minBitrate)
      report.error(
        `bitrate ${Math.round(bitRate / 1000)} kbps is under ${Math.round(expect.minBitrate / 1000)} kbps`,
        { value: bitRate, limit: expect.minBitrate },
      );
  }),
  audioCheck("integrity", ({ probe, report }) => {
    const lines = probe.errorLines;
    if (lines.length > 0)
      report.error(`${lines.length} error line(s) while demuxing: ${lines.slice(0, 2).join(" | ")}`, {
        value: lines.length,
        limit: 0,
      });
  }),
  audioCheck("truncated", ({ expect, stream, probe, analysis, report }) => {
    const { declaredFrames, readPackets } = stream;
    if (declaredFrames !== undefined && readPackets !== undefined && readPackets < declaredFrames * 0.98)
      report.error(`only ${readPackets} of ${declaredFrames} declared packets are present`, {
        value: readPackets,
        limit: declaredFrames,
      });
    const header = stream.duration ?? probe.duration;
    const samples = analysis?.samples;
    const decoded = samples !== undefined && stream.sampleRate ? samples / stream.sampleRate : undefined;
    const tol = expect.truncationTolerance ?? AUDIO_DEFAULTS.truncationTolerance;
    if (
      decoded !== undefined &&
      header !== undefined &&
      Math.abs(header - decoded) > Math.max(tol, header * 0.01)
    )
      report.error(
        `decoded ${round(decoded)} s of audio but the header declares ${round(header)} s (truncated or damaged)`,
        { value: round(decoded, 3), limit: round(header, 3) },
      );
  }),
  audioCheck("duration", ({ expect, duration, report }) => {
    if (duration === undefined) return;
    if (expect.minDuration !== undefined && duration < expect.minDuration)
      report.error(`${round(duration)} s is shorter than ${expect.minDuration} s`, {
        value: round(duration, 3),
        limit: expect.minDuration,
      });
    if (expect.maxDuration !== undefined && duration > expect.maxDuration)
      report.error(`${round(duration)} s is longer than ${expect.maxDuration} s`, {
        value: round(duration, 3),
        limit: expect.maxDuration,
      });
  }),
  audioCheck("silent", ({ expect, analysis: a, silent, report }) => {
    if (a && silent)
      report.error(
        `audio is silent or near-silent (integrated ${a.integratedLufs} LUFS, max ${a.maxVolumeDb} dB)`,
        { value: a.integratedLufs, limit: expect.audibleMin ?? AUDIO_DEFAULTS.audibleMin },
      );
  }),
  audioCheck("loudness", ({ expect, analysis: a, silent, report }) => {
    const lufs = a?.integratedLufs;
    if (silent || !expect.loudness || lufs === undefined) return;
    const { target, tolerance } = expect.loudness;
    if (Math.abs(lufs - target) > tolerance)
      report.error(
        `integrated loudness ${lufs} LUFS is ${lufs < target ? "under" : "over"} the ${target} ± ${tolerance} LUFS target`,
        { value: lufs, limit: [target - tolerance, target + tolerance] },
      );
  }),
  audioCheck("true_peak", ({ expect, analysis: a, report }) => {
    const tpMax = expect.truePeakMax;
    if (tpMax !== undefined && a?.truePeakDbfs !== undefined && a.truePeakDbfs > tpMax)
      report.error(`true peak ${a.truePeakDbfs} dBTP is over ${tpMax} dBTP`, {
        value: a.truePeakDbfs,
        limit: tpMax,
      });
  }),
  audioCheck("clipping", ({ expect, analysis: a, report }) => {
    if (!a || expect.clipping === false) return;
    const maxFlat = expect.clipping?.maxFlatFactor ?? AUDIO_DEFAULTS.maxFlatFactor;
    const maxFull = expect.clipping?.maxFullScaleSamples ?? AUDIO_DEFAULTS.maxFullScaleSamples;
    if ((a.flatFactor ?? 0) > maxFlat || (a.samplesAt0db ?? 0) > maxFull)
      report.error(
        `audio is clipped: flat factor ${round(a.flatFactor ?? 0)}, ${a.samplesAt0db ?? 0} samples at full scale`,
        {
          value: { flatFactor: a.flatFactor, fullScaleSamples: a.samplesAt0db },
          limit: { flatFactor: maxFlat, fullScaleSamples: maxFull },
        },
      );
  }),
  audioCheck("leading_silence", ({ expect, metrics, report }) => {
    const max = expect.leadingSilenceMax;
    const leading = metrics.leadingSilenceSeconds;
    if (max !== undefined && leading !== undefined && leading > max)
      report.error(`${round(leading)} s of dead air at the start (max ${max} s)`, {
        value: leading,
        limit: max,
      });
  }),
  audioCheck("trailing_silence", ({ expect, metrics, report }) => {
    const max = expect.trailingSilenceMax;
    const trailing = metrics.trailingSilenceSeconds;
    if (max !== undefined && trailing !== undefined && trailing > max)
      report.error(`${round(trailing)} s of dead air at the end (max ${max} s)`, {
        value: trailing,
        limit: max,
      });
  }),
  audioCheck("gap", ({ expect, analysis, silent, silences, duration, report }) => {
    const max = expect.gapMax;
    const end = duration ?? 0;
    if (max === undefined || !analysis || silent || end <= 0) return;
    for (const g of deadAir(silences, end).gaps) {
      const d = g.end - g.start;
      if (d > max)
        report.error(`${round(d)} s silence gap at ${round(g.start)} s (max ${max} s)`, {
          value: round(d, 3),
          limit: max,
        });
    }
  }),
];
