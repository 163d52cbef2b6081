import type { VideoCheckInput } from "./define-check.ts";
import type { Engine } from "./engine.ts";
import { readBoxLayout } from "./mp4-boxes.ts";
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

/** The facts of the video pass: what the video checks judge. */
export type VideoFacts = Omit<VideoCheckInput, "report" | "expect" | "metrics" | "signal">;

/**
 * The video pass: file basics; ffprobe, the mp4 box layout and the black/freeze scans side by side (the edge
 * scans start beside ffprobe when the mp4 header gives the duration), into `metrics`. Its own failures are
 * findings (`file.*`, `video.readable`, `video.stream`, `video.decode`, `video.skipped`).
 */
export async function videoPass(
  engine: Engine,
  path: string,
  expect: VideoExpect,
  list: FindingList,
  metrics: VideoMetrics,
  signal: AbortSignal | undefined,
): Promise<VideoFacts | undefined> {
  const basics = await checkFileBasics(path, "video", list);
  if (!basics.ok || !basics.stat) return undefined;
  metrics.sizeBytes = basics.size;
  const hash = await engine.contentHash(path, basics.stat);
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
    return undefined;
  }
  const info = probed.info;
  const v = firstStream(info, "video");
  const a = firstStream(info, "audio");
  metrics.container = info.formatName;
  if (!v) {
    list.error("video.stream", "no video stream in the file", { value: info.streams.map((s) => s.type) });
    return undefined;
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
  if (v.declaredFrames && v.readPackets !== undefined)
    metrics.packetRatio = round(v.readPackets / v.declaredFrames, 4);
  if (a) {
    Object.assign(metrics, {
      ...(a.codec && { audioCodec: a.codec }),
      ...(a.sampleRate && { audioSampleRate: a.sampleRate }),
      ...(a.channels && { audioChannels: a.channels }),
      ...(a.duration !== undefined && { audioSeconds: round(a.duration, 3) }),
    });
  }
  const [layout, frames] = await Promise.all([
    layoutP?.catch(() => undefined),
    duration !== undefined && duration > 0
      ? scanFrames(engine, path, hash, duration, expect, list, metrics, signal)
      : undefined,
  ]);
  if (layout?.moovFirst !== undefined && expect.faststart !== false) metrics.moovFirst = layout.moovFirst;
  return {
    file: path,
    sizeBytes: basics.size,
    probe: info,
    video: v,
    ...(a && { audio: a }),
    ...(duration !== undefined && { duration }),
    ...(layout && { layout }),
    ...(frames && { frames }),
  };
}

/** `validateVideo` over an engine: the pass, then the validator's video checks and the call's. */
export async function validateVideoWith(
  engine: Engine,
  path: string,
  expect: VideoExpect = {},
  options: CallOptions = {},
): Promise<ValidationResult<VideoMetrics>> {
  const list = new FindingList(path, expect.severity);
  const metrics: VideoMetrics = {};
  const facts = await videoPass(engine, path, expect, list, metrics, options.signal);
  if (facts) {
    const input = { ...facts, expect, metrics, ...(options.signal && { signal: options.signal }) };
    await runChecks(engine.checksFor(options.checks), "video", list, input, expect.severity);
  }
  return result("video", path, list, metrics);
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
): Promise<{ black: Interval[]; frozen: Interval[] } | undefined> {
  const plan = scanPlan(expect, duration);
  if (!plan) return undefined;
  const { graph, windows } = plan;
  const scans = await Promise.all(windows.map((w) => engine.scanVideo(path, hash, w, graph, signal)));
  const black: Interval[] = [];
  const frozen: Interval[] = [];
  const missing = new Set<string>();
  for (const [i, scan] of scans.entries()) {
    if (scan.failed) {
      list.error("video.decode", scan.message);
      return undefined;
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
  return { black: blacks, frozen: frozens };
}
