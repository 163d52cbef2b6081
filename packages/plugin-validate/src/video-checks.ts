/** The built-in video checks: each judges the facts of the one video pass (`videoPass`) against `VideoExpect`. */
import { type Check, defineCheck, type VideoCheckInput } from "./define-check.ts";
import { round } from "./types.ts";
import type { Interval } from "./video-scan.ts";

const inList = <T>(allowed: readonly T[] | undefined, v: T | undefined) =>
  allowed === undefined || (v !== undefined && allowed.includes(v));

function aspectValue(a: string | number): number {
  if (typeof a === "number") return a;
  const [w, h] = a.split(/[:/x]/).map(Number);
  return w && h ? w / h : Number.NaN;
}

const videoCheck = (name: string, run: (input: VideoCheckInput) => void) =>
  defineCheck({ kind: "video", name, run })();

/** An allowed-values check of the video or audio stream. */
const oneOf = (
  name: string,
  pick: (i: VideoCheckInput) => { allowed?: readonly (string | number)[]; value?: string | number },
  message: (value: string | number | undefined, allowed: readonly (string | number)[]) => string,
) =>
  videoCheck(name, (input) => {
    const { allowed, value } = pick(input);
    if (!inList(allowed, value)) input.report.error(message(value, allowed!), { value, limit: allowed });
  });

/** Black or frozen intervals at the start, at the end, or inside (a warning). */
const frames = (
  kind: "black" | "frozen",
  where: "start" | "end" | "inside",
  message: (seconds: number, at: Interval) => string,
) =>
  videoCheck(where === "inside" ? kind : `${kind}_${where}`, ({ frames: found, duration = 0, report }) => {
    const near = 0.1;
    for (const b of found?.[kind] ?? []) {
      const at = b.start <= near ? "start" : b.end >= duration - near ? "end" : "inside";
      if (at !== where) continue;
      const d = round(b.end - b.start);
      if (where === "inside") report.warn(message(d, b), { value: d });
      else report.error(message(d, b), { value: d });
    }
  });

/** In the order their findings appear. */
export const VIDEO_CHECKS: readonly Check<"video">[] = [
  videoCheck("size", ({ expect, sizeBytes, report }) => {
    if (expect.maxSize !== undefined && sizeBytes > expect.maxSize)
      report.error(`file is ${sizeBytes} bytes, over ${expect.maxSize}`, {
        value: sizeBytes,
        limit: expect.maxSize,
      });
  }),
  videoCheck("width", ({ expect, video: { width }, report }) => {
    if (expect.width !== undefined && width !== expect.width)
      report.error(`width ${width} px, expected ${expect.width}`, { value: width, limit: expect.width });
    if (expect.maxWidth !== undefined && width !== undefined && width > expect.maxWidth)
      report.error(`width ${width} px is over ${expect.maxWidth}`, { value: width, limit: expect.maxWidth });
  }),
  videoCheck("height", ({ expect, video: { height }, report }) => {
    if (expect.height !== undefined && height !== expect.height)
      report.error(`height ${height} px, expected ${expect.height}`, { value: height, limit: expect.height });
    if (expect.maxHeight !== undefined && height !== undefined && height > expect.maxHeight)
      report.error(`height ${height} px is over ${expect.maxHeight}`, {
        value: height,
        limit: expect.maxHeight,
      });
  }),
  videoCheck("aspect", ({ expect, video: { width, height }, report }) => {
    if (!width || !height) return;
    const ratio = width / height;
    if (expect.aspect !== undefined) {
      const want = aspectValue(expect.aspect);
      if (!(Math.abs(ratio - want) <= want * 0.01))
        report.error(`aspect ${width}:${height} is not ${expect.aspect}`, {
          value: round(ratio, 4),
          limit: expect.aspect,
        });
    }
    if (expect.maxAspectRatio !== undefined && ratio > expect.maxAspectRatio + 1e-9)
      report.error(`aspect ${width}:${height} is wider than ${expect.maxAspectRatio}`, {
        value: round(ratio, 4),
        limit: expect.maxAspectRatio,
      });
  }),
  videoCheck("fps", ({ expect, video: { fps }, report }) => {
    if (fps === undefined) return;
    if (
      (expect.minFps !== undefined && fps < expect.minFps - 0.01) ||
      (expect.maxFps !== undefined && fps > expect.maxFps + 0.01)
    )
      report.error(`${round(fps)} fps is outside ${expect.minFps ?? 0}–${expect.maxFps ?? "∞"} fps`, {
        value: round(fps, 3),
        limit: [expect.minFps, expect.maxFps],
      });
  }),
  videoCheck("vfr", ({ video: { fps, rFps }, report }) => {
    if (fps !== undefined && rFps !== undefined && Math.abs(rFps - fps) > 0.05 * fps)
      report.warn(`variable frame rate: average ${round(fps)} fps, base ${round(rFps)} fps`, {
        value: round(fps, 3),
      });
  }),
  oneOf(
    "codec",
    ({ expect, video }) => ({ allowed: expect.codecs, value: video.codec }),
    (v, allowed) => `codec ${v} is not one of ${allowed.join(", ")}`,
  ),
  oneOf(
    "profile",
    ({ expect, video }) => ({ allowed: expect.profiles, value: video.profile }),
    (v, allowed) => `codec profile ${v} is not one of ${allowed.join(", ")}`,
  ),
  oneOf(
    "pix_fmt",
    ({ expect, video }) => ({ allowed: expect.pixelFormats, value: video.pixFmt }),
    (v, allowed) => `pixel format ${v} is not one of ${allowed.join(", ")}`,
  ),
  videoCheck("bitrate", ({ expect, probe: { bitRate: br }, report }) => {
    if (br !== undefined && expect.maxBitrate !== undefined && br > expect.maxBitrate)
      report.error(`bitrate ${round(br / 1e6)} Mbps is over ${round(expect.maxBitrate / 1e6)} Mbps`, {
        value: br,
        limit: expect.maxBitrate,
      });
  }),
  videoCheck("bitrate_low", ({ expect, probe: { bitRate: br }, report }) => {
    if (br !== undefined && expect.minBitrate !== undefined && br < expect.minBitrate)
      report.error(`bitrate ${round(br / 1e6)} Mbps is under ${round(expect.minBitrate / 1e6)} Mbps`, {
        value: br,
        limit: expect.minBitrate,
      });
  }),
  videoCheck("duration", ({ expect, duration, report }) => {
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
  // Integrity: every packet was demuxed by the probe; errors and missing packets mean damage or truncation.
  videoCheck("integrity", ({ probe: { errorLines: lines }, report }) => {
    if (lines.length > 0)
      report.error(`${lines.length} error line(s) while demuxing: ${lines.slice(0, 2).join(" | ")}`, {
        value: lines.length,
        limit: 0,
      });
  }),
  videoCheck("truncated", ({ video, audio, report }) => {
    for (const s of [video, audio]) {
      if (s?.declaredFrames && s.readPackets !== undefined && s.readPackets < s.declaredFrames * 0.98)
        report.error(
          `${s.type} stream: only ${s.readPackets} of ${s.declaredFrames} declared packets are present`,
          {
            value: s.readPackets,
            limit: s.declaredFrames,
          },
        );
    }
  }),
  videoCheck("audio_stream", ({ expect, audio, report }) => {
    if (!audio && expect.requireAudio !== false) report.error("no audio stream in the video");
  }),
  oneOf(
    "audio_codec",
    ({ expect, audio }) => ({ allowed: audio && expect.audioCodecs, value: audio?.codec }),
    (v, allowed) => `audio codec ${v} is not one of ${allowed.join(", ")}`,
  ),
  oneOf(
    "audio_sample_rate",
    ({ expect, audio }) => ({ allowed: audio && expect.audioSampleRates, value: audio?.sampleRate }),
    (v, allowed) => `audio sample rate ${v} Hz is not one of ${allowed.join(", ")}`,
  ),
  oneOf(
    "audio_channels",
    ({ expect, audio }) => ({ allowed: audio && expect.audioChannels, value: audio?.channels }),
    (v, allowed) => `${v} audio channel(s), expected ${allowed.join(" or ")}`,
  ),
  videoCheck("av_mismatch", ({ expect, video: v, audio: a, report }) => {
    const tol = expect.avTolerance ?? 0.1;
    if (a && v.duration !== undefined && a.duration !== undefined && Math.abs(v.duration - a.duration) > tol)
      report.error(`video lasts ${round(v.duration)} s but audio ${round(a.duration)} s`, {
        value: round(v.duration - a.duration, 3),
        limit: tol,
      });
  }),
  videoCheck("faststart", ({ expect, layout, report }) => {
    if (expect.faststart !== false && layout?.moovFirst === false)
      report.error("moov atom comes after mdat: not fast start (remux with -movflags +faststart)", {
        value: layout.boxes.join(","),
      });
  }),
  frames("black", "start", (d) => `black frames for ${d} s at the start`),
  frames("black", "end", (d) => `black frames for ${d} s at the end`),
  frames("black", "inside", (d, b) => `black frames for ${d} s at ${round(b.start)} s`),
  frames("frozen", "start", (d) => `frozen picture for ${d} s at the start`),
  frames("frozen", "end", (d) => `frozen picture for the last ${d} s`),
  frames("frozen", "inside", (d, f) => `frozen picture for ${d} s at ${round(f.start)} s`),
];
