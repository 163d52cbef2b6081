/** Parsing of one `ffprobe -show_format -show_streams -count_packets` call. */

/** One stream as ffprobe describes it (the fields the checks use). */
export interface ProbeStream {
  readonly index: number;
  readonly type: "video" | "audio" | "subtitle" | "data" | "attachment" | string;
  readonly codec?: string;
  readonly profile?: string;
  readonly width?: number;
  readonly height?: number;
  readonly pixFmt?: string;
  /** Average frame rate (frames per second). */
  readonly fps?: number;
  /** Real base frame rate (`r_frame_rate`); differs from `fps` for variable frame rate. */
  readonly rFps?: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  readonly bitRate?: number;
  readonly duration?: number;
  /** Frames/packets the header declares (`nb_frames`). */
  readonly declaredFrames?: number;
  /** Packets actually demuxed (`nb_read_packets`). */
  readonly readPackets?: number;
  readonly startTime?: number;
}

/** What ffprobe reports for a file. */
export interface ProbeInfo {
  readonly formatName: string;
  readonly duration?: number;
  readonly bitRate?: number;
  readonly size?: number;
  readonly streams: readonly ProbeStream[];
  /** Error lines ffprobe printed while demuxing every packet (`-v error`): damaged data. */
  readonly errorLines: readonly string[];
}

/** ffprobe arguments for a local path (always `file:` prefixed by the caller). */
export function probeArgs(url: string): string[] {
  return [
    "-v",
    "error",
    "-hide_banner",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    "-count_packets",
    url,
  ];
}

const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === "N/A" || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

const rate = (v: unknown): number | undefined => {
  if (typeof v !== "string") return undefined;
  const [a, b] = v.split("/").map(Number);
  if (a === undefined || !Number.isFinite(a)) return undefined;
  if (b === undefined) return a;
  return b > 0 && a > 0 ? a / b : undefined;
};

/**
 * Parses ffprobe's JSON. Returns undefined when there is nothing usable (`{}`: ffprobe could not open it).
 */
export function parseProbe(json: string, errorLines: readonly string[]): ProbeInfo | undefined {
  let data: { format?: Record<string, unknown>; streams?: Record<string, unknown>[] };
  try {
    data = JSON.parse(json || "{}");
  } catch {
    return undefined;
  }
  if (!data.format && !data.streams?.length) return undefined;
  const f = data.format ?? {};
  const streams: ProbeStream[] = (data.streams ?? []).map((s) => {
    const out: Record<string, unknown> = {
      index: num(s.index) ?? 0,
      type: String(s.codec_type ?? "unknown"),
      codec: s.codec_name,
      profile: s.profile,
      width: num(s.width),
      height: num(s.height),
      pixFmt: s.pix_fmt,
      fps: rate(s.avg_frame_rate),
      rFps: rate(s.r_frame_rate),
      sampleRate: num(s.sample_rate),
      channels: num(s.channels),
      bitRate: num(s.bit_rate),
      duration: num(s.duration),
      declaredFrames: num(s.nb_frames),
      readPackets: num(s.nb_read_packets),
      startTime: num(s.start_time),
    };
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out as unknown as ProbeStream;
  });
  const info: Record<string, unknown> = {
    formatName: String(f.format_name ?? "unknown"),
    duration: num(f.duration),
    bitRate: num(f.bit_rate),
    size: num(f.size),
    streams,
    errorLines,
  };
  for (const k of Object.keys(info)) if (info[k] === undefined) delete info[k];
  return info as unknown as ProbeInfo;
}

/** The first stream of a type. */
export const firstStream = (info: ProbeInfo, type: string): ProbeStream | undefined =>
  info.streams.find((s) => s.type === type);
