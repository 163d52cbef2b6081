import { open, readFile } from "node:fs/promises";
import type { Finding } from "@tapline/core";
import { execa } from "execa";
import type { MediaTools } from "./media.ts";

/** The result of checking one file: the same shape as `@tapline/plugin-validate`'s `validateFile`. */
export interface FileCheck {
  readonly file: string;
  readonly kind: string;
  readonly valid: boolean;
  readonly findings: readonly Finding[];
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_rate?: string;
}

/**
 * The demo's own checks of its outputs against YouTube Shorts' requirements, with ffprobe. Used when
 * `@tapline/plugin-validate` is not installed; the plugin's `validateFile` does this and much more.
 */
export async function checkOutputs(
  tools: MediaTools,
  files: { video: string; audio: string; subtitles: string; script: string },
  signal?: AbortSignal,
): Promise<FileCheck[]> {
  const video = await probe(tools, files.video, signal);
  const audio = await probe(tools, files.audio, signal);
  const v: Finding[] = [];
  const vs = video.streams.find((s) => s.codec_type === "video");
  const va = video.streams.find((s) => s.codec_type === "audio");
  if (vs?.codec_name !== "h264")
    v.push(err("video.codec", `video codec is ${vs?.codec_name ?? "missing"}, expected h264`));
  if (vs && (vs.width !== 1080 || vs.height !== 1920))
    v.push(err("video.resolution", `video is ${vs.width}x${vs.height}, expected 1080x1920`));
  if (vs && vs.pix_fmt !== "yuv420p")
    v.push(err("video.pixel_format", `pixel format ${vs.pix_fmt}, expected yuv420p`));
  if (va?.codec_name !== "aac")
    v.push(err("video.audio_codec", `audio codec is ${va?.codec_name ?? "missing"}, expected aac`));
  if (!(video.duration > 0 && video.duration <= 180))
    v.push(err("video.duration", `duration ${video.duration.toFixed(2)} s, expected 0-180 s`));
  if (Math.abs(video.duration - audio.duration) > 0.5) {
    v.push(
      err(
        "video.av_sync",
        `video lasts ${video.duration.toFixed(2)} s but the voiceover ${audio.duration.toFixed(2)} s`,
      ),
    );
  }
  if (!(await isFaststart(files.video)))
    v.push(err("video.faststart", "the moov atom is not before mdat (use -movflags +faststart)"));
  const a: Finding[] = [];
  if (audio.streams[0]?.codec_name !== "aac")
    a.push(err("audio.codec", `codec ${audio.streams[0]?.codec_name}, expected aac`));
  const s: Finding[] = [];
  const srt = await readFile(files.subtitles, "utf8");
  const times = [...srt.matchAll(/(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})/g)].map(
    (m) => {
      const t = (i: number) => +m[i]! * 3600 + +m[i + 1]! * 60 + +m[i + 2]! + +m[i + 3]! / 1000;
      return [t(1), t(5)] as const;
    },
  );
  if (times.length === 0) s.push(err("subtitles.cues", "no cue in the SRT file"));
  let previous = 0;
  for (const [start, end] of times) {
    if (start < previous - 0.001 || end <= start)
      s.push(err("subtitles.order", `cue ${start}-${end} overlaps or is empty`));
    previous = end;
  }
  if (times.length > 0 && Math.abs(previous - audio.duration) > 0.25) {
    s.push(
      err(
        "subtitles.coverage",
        `last cue ends at ${previous.toFixed(2)} s, the voiceover at ${audio.duration.toFixed(2)} s`,
      ),
    );
  }
  const t: Finding[] = [];
  if ((await readFile(files.script, "utf8")).trim().length === 0)
    t.push(err("text.empty", "the script is empty"));
  const result = (file: string, kind: string, findings: Finding[]): FileCheck => ({
    file,
    kind,
    valid: findings.length === 0,
    findings,
  });
  return [
    result(files.video, "video", v),
    result(files.audio, "audio", a),
    result(files.subtitles, "subtitles", s),
    result(files.script, "text", t),
  ];
}

function err(check: string, message: string): Finding {
  return { check, severity: "error", message };
}

async function probe(
  tools: MediaTools,
  file: string,
  signal?: AbortSignal,
): Promise<{ duration: number; streams: ProbeStream[] }> {
  const { stdout } = await execa(
    tools.ffprobe,
    ["-v", "error", "-show_entries", "format=duration:stream", "-of", "json", file],
    {
      cancelSignal: signal,
    },
  );
  const json = JSON.parse(String(stdout)) as { format?: { duration?: string }; streams?: ProbeStream[] };
  return { duration: Number.parseFloat(json.format?.duration ?? "0"), streams: json.streams ?? [] };
}

/** True when the MP4's `moov` box comes before `mdat` (progressive playback starts at once). */
async function isFaststart(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const header = Buffer.alloc(8);
    let offset = 0;
    for (let i = 0; i < 32; i++) {
      const { bytesRead } = await handle.read(header, 0, 8, offset);
      if (bytesRead < 8) return false;
      const size = header.readUInt32BE(0);
      const type = header.toString("latin1", 4, 8);
      if (type === "moov") return true;
      if (type === "mdat") return false;
      if (size < 8) return false;
      offset += size;
    }
    return false;
  } finally {
    await handle.close();
  }
}

/**
 * Checks a scene card: a PNG of `width`x`height` that ffprobe reads. plugin-validate has no image check, so
 * the scene step runs this inside its attempt and throws a retryable `StepValidationError` on a finding.
 */
export async function checkSceneImage(
  tools: MediaTools,
  file: string,
  size: { width: number; height: number } = { width: 1080, height: 1920 },
  signal?: AbortSignal,
): Promise<Finding[]> {
  const result = await execa(
    tools.ffprobe,
    ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", `file:${file}`],
    { cancelSignal: signal, reject: false },
  );
  if (signal?.aborted) throw signal.reason;
  if (result.failed)
    return [err("image.readable", `ffprobe cannot read ${file}: ${String(result.stderr).trim()}`)];
  const stream = (JSON.parse(String(result.stdout)) as { streams?: ProbeStream[] }).streams?.[0];
  const findings: Finding[] = [];
  if (stream?.codec_name !== "png")
    findings.push(
      err("image.codec", `the scene card is ${stream?.codec_name ?? "not an image"}, expected png`),
    );
  if (stream && (stream.width !== size.width || stream.height !== size.height))
    findings.push(
      err(
        "image.resolution",
        `the scene card is ${stream.width}x${stream.height}, expected ${size.width}x${size.height}`,
      ),
    );
  return findings;
}
