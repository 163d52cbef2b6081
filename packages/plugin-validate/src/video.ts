import type { Engine } from "./engine.ts";
import { readBoxLayout } from "./mp4-boxes.ts";
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
import { type Interval, mergeIntervals, parseScan } from "./video-scan.ts";

/** What a video file should look like. Every field is optional; checks without a limit only measure. */
export interface VideoExpect {
  readonly width?: number;
  readonly height?: number;
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  /** Display aspect as `"9:16"` or width/height; within 1 %. */
  readonly aspect?: string | number;
  /** Widest allowed width/height ratio (1 = square or taller). */
  readonly maxAspectRatio?: number;
  readonly minFps?: number;
  readonly maxFps?: number;
  /** Video codecs as ffprobe names them (`h264`, `hevc`). */
  readonly codecs?: readonly string[];
  /** Codec profiles (`High`, `Main`). */
  readonly profiles?: readonly string[];
  /** Pixel formats (`yuv420p`). */
  readonly pixelFormats?: readonly string[];
  /** Bits per second, whole file. */
  readonly minBitrate?: number;
  readonly maxBitrate?: number;
  /** Seconds. */
  readonly minDuration?: number;
  readonly maxDuration?: number;
  /** Bytes. */
  readonly maxSize?: number;
  /** An audio stream must be present (default true). */
  readonly requireAudio?: boolean;
  readonly audioCodecs?: readonly string[];
  readonly audioSampleRates?: readonly number[];
  readonly audioChannels?: readonly number[];
  /** Largest |video − audio| duration difference in seconds (default 0.1). */
  readonly avTolerance?: number;
  /** `moov` before `mdat` for mp4/mov (default true). */
  readonly faststart?: boolean;
  /** Seconds checked at each end for black and frozen frames in fast mode (default 3); `0` turns edges off. */
  readonly edgeSeconds?: number;
  /** Decode the whole file for black and frozen frames anywhere (slow: ~3 s per 30 s of 1080p on 2 cores). */
  readonly thorough?: boolean;
  /** blackdetect: shortest black run (default 0.5 s) and pixel threshold (default 0.10). */
  readonly black?: { readonly minSeconds?: number; readonly pixelThreshold?: number };
  /** freezedetect: noise (default -60 dB) and shortest frozen run (default 2 s). */
  readonly freeze?: { readonly noiseDb?: number; readonly minSeconds?: number };
  /** Per-check severity overrides (`{ "video.bitrate_low": "warning" }`). */
  readonly severity?: SeverityOverrides;
}

/** What {@link validateVideo} measured. */
export interface VideoMetrics {
  sizeBytes?: number;
  container?: string;
  codec?: string;
  profile?: string;
  width?: number;
  height?: number;
  fps?: number;
  pixelFormat?: string;
  bitRate?: number;
  durationSeconds?: number;
  videoSeconds?: number;
  audioSeconds?: number;
  audioCodec?: string;
  audioSampleRate?: number;
  audioChannels?: number;
  /** Packets read / declared, video stream. */
  packetRatio?: number;
  moovFirst?: boolean;
  blackSeconds?: number;
  frozenSeconds?: number;
}

const inList = <T>(allowed: readonly T[] | undefined, v: T | undefined) =>
  allowed === undefined || (v !== undefined && allowed.includes(v));

function aspectValue(a: string | number): number {
  if (typeof a === "number") return a;
  const [w, h] = a.split(/[:/x]/).map(Number);
  return w && h ? w / h : Number.NaN;
}

/** @internal Implementation of `validateVideo` over an engine. */
export async function validateVideoWith(
  engine: Engine,
  path: string,
  expect: VideoExpect = {},
  options: CallOptions = {},
): Promise<ValidationResult<VideoMetrics>> {
  const list = new FindingList(path, expect.severity);
  const metrics: VideoMetrics = {};
  const done = () => result("video", path, list, metrics);
  const basics = await checkFileBasics(path, "video", list);
  if (!basics.ok || !basics.stat) return done();
  metrics.sizeBytes = basics.size;
  if (expect.maxSize !== undefined && basics.size > expect.maxSize) {
    list.error("video.size", `file is ${basics.size} bytes, over ${expect.maxSize}`, {
      value: basics.size,
      limit: expect.maxSize,
    });
  }
  const hash = await engine.contentHash(path, basics.stat);
  const signal = options.signal;
  const layoutP =
    basics.sniffed === "mp4" ? engine.cached(`${hash}|boxes`, () => readBoxLayout(path)) : undefined;
  // The edge scans are the long pole: when the mp4 header already says the file is long enough for two
  // edge windows, start them now, beside ffprobe. scanFrames() asks the engine for the same windows later
  // and gets these cached runs; if the probe disagrees about the duration, it plans its own.
  if (layoutP && engine.caching) {
    void layoutP
      .then((layout) => {
        const hint = layout.durationHint;
        const plan = hint !== undefined && hint > 0 ? scanPlan(expect, hint, 1) : undefined;
        for (const w of plan?.windows ?? [])
          void engine.scanVideo(path, hash, w, plan!.graph, signal).catch(() => undefined);
      })
      .catch(() => undefined);
  }
  const probed = await engine.probe(path, hash, signal);
  if (probed.failed) {
    list.error("video.readable", probed.message);
    return done();
  }
  const info = probed.info;
  const v = firstStream(info, "video");
  const a = firstStream(info, "audio");
  metrics.container = info.formatName;
  if (!v) {
    list.error("video.stream", "no video stream in the file", { value: info.streams.map((s) => s.type) });
    return done();
  }
  const duration = info.duration ?? v.duration;
  Object.assign(metrics, {
    ...(v.codec && { codec: v.codec }),
    ...(v.profile && { profile: v.profile }),
    ...(v.width && { width: v.width }),
    ...(v.height && { height: v.height }),
    ...(v.fps && { fps: round(v.fps, 3) }),
    ...(v.pixFmt && { pixelFormat: v.pixFmt }),
    ...(info.bitRate && { bitRate: info.bitRate }),
    ...(duration !== undefined && { durationSeconds: round(duration, 3) }),
    ...(v.duration !== undefined && { videoSeconds: round(v.duration, 3) }),
  });
  const { width, height } = v;
  if (expect.width !== undefined && width !== expect.width) {
    list.error("video.width", `width ${width} px, expected ${expect.width}`, {
      value: width,
      limit: expect.width,
    });
  }
  if (expect.height !== undefined && height !== expect.height) {
    list.error("video.height", `height ${height} px, expected ${expect.height}`, {
      value: height,
      limit: expect.height,
    });
  }
  if (expect.maxWidth !== undefined && width !== undefined && width > expect.maxWidth) {
    list.error("video.width", `width ${width} px is over ${expect.maxWidth}`, {
      value: width,
      limit: expect.maxWidth,
    });
  }
  if (expect.maxHeight !== undefined && height !== undefined && height > expect.maxHeight) {
    list.error("video.height", `height ${height} px is over ${expect.maxHeight}`, {
      value: height,
      limit: expect.maxHeight,
    });
  }
  if (width && height) {
    const ratio = width / height;
    if (expect.aspect !== undefined) {
      const want = aspectValue(expect.aspect);
      if (!(Math.abs(ratio - want) <= want * 0.01)) {
        list.error("video.aspect", `aspect ${width}:${height} is not ${expect.aspect}`, {
          value: round(ratio, 4),
          limit: expect.aspect,
        });
      }
    }
    if (expect.maxAspectRatio !== undefined && ratio > expect.maxAspectRatio + 1e-9) {
      list.error("video.aspect", `aspect ${width}:${height} is wider than ${expect.maxAspectRatio}`, {
        value: round(ratio, 4),
        limit: expect.maxAspectRatio,
      });
    }
  }
  if (v.fps !== undefined) {
    if (
      (expect.minFps !== undefined && v.fps < expect.minFps - 0.01) ||
      (expect.maxFps !== undefined && v.fps > expect.maxFps + 0.01)
    ) {
      list.error(
        "video.fps",
        `${round(v.fps)} fps is outside ${expect.minFps ?? 0}–${expect.maxFps ?? "∞"} fps`,
        {
          value: round(v.fps, 3),
          limit: [expect.minFps, expect.maxFps],
        },
      );
    }
    if (v.rFps !== undefined && Math.abs(v.rFps - v.fps) > 0.05 * v.fps) {
      list.warn("video.vfr", `variable frame rate: average ${round(v.fps)} fps, base ${round(v.rFps)} fps`, {
        value: round(v.fps, 3),
      });
    }
  }
  if (!inList(expect.codecs, v.codec)) {
    list.error("video.codec", `codec ${v.codec} is not one of ${expect.codecs!.join(", ")}`, {
      value: v.codec,
      limit: expect.codecs,
    });
  }
  if (!inList(expect.profiles, v.profile)) {
    list.error("video.profile", `codec profile ${v.profile} is not one of ${expect.profiles!.join(", ")}`, {
      value: v.profile,
      limit: expect.profiles,
    });
  }
  if (!inList(expect.pixelFormats, v.pixFmt)) {
    list.error("video.pix_fmt", `pixel format ${v.pixFmt} is not one of ${expect.pixelFormats!.join(", ")}`, {
      value: v.pixFmt,
      limit: expect.pixelFormats,
    });
  }
  const br = info.bitRate;
  if (br !== undefined && expect.maxBitrate !== undefined && br > expect.maxBitrate) {
    list.error(
      "video.bitrate",
      `bitrate ${round(br / 1e6)} Mbps is over ${round(expect.maxBitrate / 1e6)} Mbps`,
      { value: br, limit: expect.maxBitrate },
    );
  }
  if (br !== undefined && expect.minBitrate !== undefined && br < expect.minBitrate) {
    list.error(
      "video.bitrate_low",
      `bitrate ${round(br / 1e6)} Mbps is under ${round(expect.minBitrate / 1e6)} Mbps`,
      { value: br, limit: expect.minBitrate },
    );
  }
  if (duration !== undefined) {
    if (expect.minDuration !== undefined && duration < expect.minDuration) {
      list.error("video.duration", `${round(duration)} s is shorter than ${expect.minDuration} s`, {
        value: round(duration, 3),
        limit: expect.minDuration,
      });
    }
    if (expect.maxDuration !== undefined && duration > expect.maxDuration) {
      list.error("video.duration", `${round(duration)} s is longer than ${expect.maxDuration} s`, {
        value: round(duration, 3),
        limit: expect.maxDuration,
      });
    }
  }
  // Integrity: every packet was demuxed by the probe; errors and missing packets mean damage or truncation.
  if (info.errorLines.length > 0) {
    list.error(
      "video.integrity",
      `${info.errorLines.length} error line(s) while demuxing: ${info.errorLines.slice(0, 2).join(" | ")}`,
      {
        value: info.errorLines.length,
        limit: 0,
      },
    );
  }
  for (const s of [v, a]) {
    if (s?.declaredFrames && s.readPackets !== undefined && s.readPackets < s.declaredFrames * 0.98) {
      list.error(
        "video.truncated",
        `${s.type} stream: only ${s.readPackets} of ${s.declaredFrames} declared packets are present`,
        {
          value: s.readPackets,
          limit: s.declaredFrames,
        },
      );
    }
  }
  if (v.declaredFrames && v.readPackets !== undefined)
    metrics.packetRatio = round(v.readPackets / v.declaredFrames, 4);
  if (!a) {
    if (expect.requireAudio !== false) list.error("video.audio_stream", "no audio stream in the video");
  } else {
    Object.assign(metrics, {
      ...(a.codec && { audioCodec: a.codec }),
      ...(a.sampleRate && { audioSampleRate: a.sampleRate }),
      ...(a.channels && { audioChannels: a.channels }),
      ...(a.duration !== undefined && { audioSeconds: round(a.duration, 3) }),
    });
    if (!inList(expect.audioCodecs, a.codec)) {
      list.error(
        "video.audio_codec",
        `audio codec ${a.codec} is not one of ${expect.audioCodecs!.join(", ")}`,
        { value: a.codec, limit: expect.audioCodecs },
      );
    }
    if (!inList(expect.audioSampleRates, a.sampleRate)) {
      list.error(
        "video.audio_sample_rate",
        `audio sample rate ${a.sampleRate} Hz is not one of ${expect.audioSampleRates!.join(", ")}`,
        {
          value: a.sampleRate,
          limit: expect.audioSampleRates,
        },
      );
    }
    if (!inList(expect.audioChannels, a.channels)) {
      list.error(
        "video.audio_channels",
        `${a.channels} audio channel(s), expected ${expect.audioChannels!.join(" or ")}`,
        {
          value: a.channels,
          limit: expect.audioChannels,
        },
      );
    }
    const tol = expect.avTolerance ?? 0.1;
    if (v.duration !== undefined && a.duration !== undefined && Math.abs(v.duration - a.duration) > tol) {
      list.error("video.av_mismatch", `video lasts ${round(v.duration)} s but audio ${round(a.duration)} s`, {
        value: round(v.duration - a.duration, 3),
        limit: tol,
      });
    }
  }
  if (layoutP && expect.faststart !== false) {
    const layout = await layoutP.catch(() => undefined);
    if (layout?.moovFirst !== undefined) metrics.moovFirst = layout.moovFirst;
    if (layout?.moovFirst === false) {
      list.error(
        "video.faststart",
        "moov atom comes after mdat: not fast start (remux with -movflags +faststart)",
        {
          value: layout.boxes.join(","),
        },
      );
    }
  }
  if (duration !== undefined && duration > 0)
    await scanFrames(engine, path, hash, duration, expect, list, metrics, signal);
  return done();
}

/**
 * The detection passes for a file of `duration` seconds: both edge windows, or one pass over everything in
 * thorough mode or when the edges would cover the file anyway. With a `margin` (for a duration hint read
 * before ffprobe answers), a file near that limit gets no plan: the probe's duration decides.
 */
function scanPlan(expect: VideoExpect, duration: number, margin = 0) {
  const edge = expect.edgeSeconds ?? 3;
  if (!expect.thorough && edge <= 0) return undefined;
  if (!expect.thorough && Math.abs(duration - edge * 2) <= margin) return undefined;
  const graph = {
    black: `blackdetect=d=${expect.black?.minSeconds ?? 0.5}:pix_th=${expect.black?.pixelThreshold ?? 0.1}`,
    freeze: `freezedetect=n=${expect.freeze?.noiseDb ?? -60}dB:d=${expect.freeze?.minSeconds ?? 2}`,
  };
  // Thorough mode, or a file short enough that both edges cover it: one pass over everything.
  const whole = expect.thorough || duration <= edge * 2;
  const windows = whole
    ? [{ from: "start" as const, seconds: undefined, offset: 0, end: duration }]
    : [
        { from: "start" as const, seconds: edge, offset: 0, end: edge },
        { from: "end" as const, seconds: edge, offset: duration - edge, end: duration },
      ];
  return { graph, windows };
}

async function scanFrames(
  engine: Engine,
  path: string,
  hash: string,
  duration: number,
  expect: VideoExpect,
  list: FindingList,
  metrics: VideoMetrics,
  signal: AbortSignal | undefined,
): Promise<void> {
  const plan = scanPlan(expect, duration);
  if (!plan) return;
  const { graph, windows } = plan;
  const scans = await Promise.all(windows.map((w) => engine.scanVideo(path, hash, w, graph, signal)));
  const black: Interval[] = [];
  const frozen: Interval[] = [];
  const missing = new Set<string>();
  for (const [i, scan] of scans.entries()) {
    if (scan.failed) {
      list.error("video.decode", scan.message);
      return;
    }
    for (const f of scan.missingFilters) missing.add(f);
    const w = windows[i]!;
    const found = parseScan(scan.lines, w.offset, w.end);
    for (const b of found.black) black.push(b);
    for (const z of found.frozen) frozen.push(z);
  }
  for (const f of missing)
    list.info("video.skipped", `ffmpeg lacks the ${f} filter: its checks were skipped`, { value: f });
  const blacks = mergeIntervals(black, 0.05);
  const frozens = mergeIntervals(frozen, 0.2);
  metrics.blackSeconds = round(
    blacks.reduce((t, b) => t + b.end - b.start, 0),
    3,
  );
  metrics.frozenSeconds = round(
    frozens.reduce((t, b) => t + b.end - b.start, 0),
    3,
  );
  const near = 0.1;
  for (const b of blacks) {
    const d = round(b.end - b.start);
    if (b.start <= near)
      list.error("video.black_start", `black frames for ${d} s at the start`, { value: d });
    else if (b.end >= duration - near)
      list.error("video.black_end", `black frames for ${d} s at the end`, { value: d });
    else list.warn("video.black", `black frames for ${d} s at ${round(b.start)} s`, { value: d });
  }
  for (const f of frozens) {
    const d = round(f.end - f.start);
    if (f.start <= near)
      list.error("video.frozen_start", `frozen picture for ${d} s at the start`, { value: d });
    else if (f.end >= duration - near)
      list.error("video.frozen_end", `frozen picture for the last ${d} s`, { value: d });
    else list.warn("video.frozen", `frozen picture for ${d} s at ${round(f.start)} s`, { value: d });
  }
}
