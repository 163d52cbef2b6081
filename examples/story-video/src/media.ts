import { access } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { execa } from "execa";

/** The local tools the demo drives. Every call passes an argument array: no shell, any file name works. */
export interface MediaTools {
  readonly ffmpeg: string;
  readonly ffprobe: string;
  /** Path of espeak-ng, or undefined when it is not installed (the voiceover is then synthesised by ffmpeg). */
  readonly espeak: string | undefined;
  /** Whether this ffmpeg has the libass `subtitles` filter (burned-in subtitles); else they are muxed. */
  readonly burnSubtitles: boolean;
  /** Whether this ffmpeg has `drawtext` (libfreetype): the scene cards' text; without it, cards are plain. */
  readonly drawText: boolean;
  /** Font file of the scene cards (`TAPLINE_DEMO_FONT`, else DejaVu Sans when installed); else fontconfig's Sans. */
  readonly font: string | undefined;
}

/** Debian's fonts-dejavu-core. */
export const DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/** Thrown when ffmpeg or ffprobe is missing. */
export class MissingToolError extends Error {
  readonly isMissingToolError = true;
  constructor(tool: string) {
    super(
      `${tool} was not found: install it (Debian: sudo apt-get install ffmpeg espeak-ng) or set ${tool.toUpperCase()}_PATH`,
    );
    this.name = "MissingToolError";
  }
}

/** True for a {@link MissingToolError} from any copy of this module. */
export const isMissingToolError = (e: unknown): e is MissingToolError =>
  !!e && e instanceof Error && "isMissingToolError" in e;

/** Finds ffmpeg, ffprobe (FFMPEG_PATH / FFPROBE_PATH, then PATH) and espeak-ng, and the filters this ffmpeg has. */
export async function detectTools(env: NodeJS.ProcessEnv = process.env): Promise<MediaTools> {
  const ffmpeg = env.FFMPEG_PATH || "ffmpeg";
  const ffprobe = env.FFPROBE_PATH || "ffprobe";
  const filters = await execa(ffmpeg, ["-hide_banner", "-filters"], { reject: false });
  if (filters.failed && filters.exitCode === undefined) throw new MissingToolError("ffmpeg");
  const probe = await execa(ffprobe, ["-version"], { reject: false });
  if (probe.failed && probe.exitCode === undefined) throw new MissingToolError("ffprobe");
  const espeakPath = env.ESPEAK_PATH || "espeak-ng";
  const espeak =
    env.TAPLINE_DEMO_NO_ESPEAK === "1"
      ? undefined
      : await execa(espeakPath, ["--version"], { reject: false });
  const font =
    env.TAPLINE_DEMO_FONT ||
    (await access(DEJAVU_SANS).then(
      () => DEJAVU_SANS,
      () => undefined,
    ));
  return {
    ffmpeg,
    ffprobe,
    espeak: espeak && !espeak.failed ? espeakPath : undefined,
    burnSubtitles: /^\s*\S+\s+subtitles\s/m.test(String(filters.stdout)),
    drawText: /^\s*\S+\s+drawtext\s/m.test(String(filters.stdout)),
    font,
  };
}

/** Speaks `text` into a WAV file with espeak-ng (the text goes through a file, never a shell). */
export async function speak(
  tools: MediaTools,
  textFile: string,
  wavPath: string,
  signal?: AbortSignal,
): Promise<void> {
  await execa(tools.espeak!, ["-v", "en-us", "-s", "165", "-w", wavPath, "-f", textFile], {
    cancelSignal: signal,
  });
}

/**
 * Without espeak-ng: a speech-like tone whose length follows the word count (0.32 s a word), so subtitles
 * and video still line up with something real.
 */
export async function synthesise(
  tools: MediaTools,
  words: number,
  wavPath: string,
  signal?: AbortSignal,
): Promise<void> {
  const seconds = Math.max(2, words * 0.32).toFixed(2);
  await execa(
    tools.ffmpeg,
    [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=180:sample_rate=22050:duration=${seconds}`,
      "-af",
      "tremolo=f=4:d=0.7,volume=0.6",
      wavPath,
    ],
    { cancelSignal: signal },
  );
}

/** Target loudness of the voiceover: YouTube normalises to about -14 LUFS. */
export const TARGET_LUFS = -14;

// Speech has a high crest factor: compress first, so the gain up to the target does not clip; the limiter
// catches what the compressor lets through (-2 dBFS, below the profile's true-peak ceiling).
const COMPRESS = "acompressor=threshold=-24dB:ratio=4:attack=5:release=80:makeup=4";
const LIMIT = "alimiter=limit=0.79:attack=1:release=30:level=false";

/**
 * WAV -> AAC (.m4a), 48 kHz stereo, at -14 LUFS integrated. Single-pass `loudnorm` misses the target on
 * short speech (it falls back to dynamic mode and lands 2 dB low), so: measure, apply the gain, measure the
 * result, and correct once more if it is more than 0.5 LU off.
 */
export async function encodeVoice(
  tools: MediaTools,
  wavPath: string,
  outPath: string,
  signal?: AbortSignal,
): Promise<{ lufs: number }> {
  let gain = TARGET_LUFS - (await measureLufs(tools, wavPath, COMPRESS, signal));
  let lufs = Number.NaN;
  for (let pass = 0; pass < 2; pass++) {
    await execa(
      tools.ffmpeg,
      [
        "-v",
        "error",
        "-y",
        "-i",
        wavPath,
        "-af",
        `${COMPRESS},volume=${gain.toFixed(2)}dB,${LIMIT},aresample=48000`,
        "-ac",
        "2",
        "-c:a",
        "aac",
        "-b:a",
        "160k",
        outPath,
      ],
      { cancelSignal: signal },
    );
    lufs = await measureLufs(tools, outPath, "anull", signal);
    if (Math.abs(lufs - TARGET_LUFS) <= 0.5) break;
    gain += TARGET_LUFS - lufs;
  }
  return { lufs };
}

/** Integrated loudness (LUFS) of a file after a filter chain, from ffmpeg's `loudnorm` measurement. */
export async function measureLufs(
  tools: MediaTools,
  path: string,
  filters: string,
  signal?: AbortSignal,
): Promise<number> {
  const { stderr } = await execa(
    tools.ffmpeg,
    [
      "-hide_banner",
      "-nostats",
      "-i",
      path,
      "-af",
      `${filters},loudnorm=I=${TARGET_LUFS}:TP=-1.5:LRA=11:print_format=json`,
      "-f",
      "null",
      "-",
    ],
    { cancelSignal: signal },
  );
  const match = /"input_i"\s*:\s*"(-?[\d.]+|-inf)"/.exec(String(stderr));
  const lufs = match ? Number.parseFloat(match[1]!) : Number.NaN;
  if (!Number.isFinite(lufs)) throw new Error(`ffmpeg measured no loudness in ${path} (silent audio?)`);
  return lufs;
}

/** Duration of a media file in seconds, from ffprobe. */
export async function probeDuration(tools: MediaTools, path: string, signal?: AbortSignal): Promise<number> {
  const { stdout } = await execa(
    tools.ffprobe,
    ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
    {
      cancelSignal: signal,
    },
  );
  const seconds = Number.parseFloat(String(stdout).trim());
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`ffprobe found no duration in ${path}`);
  return seconds;
}

/** What {@link renderVideo} needs. */
export interface RenderJob {
  readonly audio: string;
  readonly subtitles: string;
  /**
   * The scene cards (RGBA PNGs, 1080x1920) in order, each shown from `start` to `end` seconds, laid over the
   * moving background; none gives the background alone.
   */
  readonly scenes?: readonly { readonly image: string; readonly start: number; readonly end: number }[];
  readonly out: string;
  readonly fps: number;
  /** Length of the video, seconds: the voiceover's duration (not `-shortest`, which overshoots by a few frames). */
  readonly durationSeconds: number;
  /** x264 preset; the demo uses `ultrafast` (with CABAC and 8x8 transforms back on: High profile). */
  readonly preset: string;
}

/**
 * Renders the short: 1080x1920 H.264 (yuv420p) + AAC in MP4 with `+faststart`. The scene cards are joined
 * in order with the `concat` filter (each looped for its share of the voiceover) and laid over a slowly
 * moving gradient; the voiceover is the audio, and the subtitles are burned in with libass when this ffmpeg
 * has it, else muxed as a `mov_text` track. Every file is an input (`-i`), never part of the filter graph,
 * except the subtitles: ffmpeg runs in their folder and names them relatively, so the graph needs no
 * escaping whatever the paths hold (spaces, quotes, colons).
 */
export async function renderVideo(
  tools: MediaTools,
  job: RenderJob,
  signal?: AbortSignal,
): Promise<{ burned: boolean }> {
  // A slowly moving gradient, generated at a tenth of the size and scaled up (cheap): a still background
  // would be a "frozen picture" to validators, and real shorts move.
  const background =
    `gradients=s=108x192:r=${job.fps}:d=${job.durationSeconds.toFixed(3)}:c0=0x1b2838:c1=0x4a7fa0:x0=0:y0=0:x1=108:y1=192:speed=0.03,` +
    "scale=1080:1920:flags=bilinear";
  const scenes = job.scenes ?? [];
  const inputs = ["-f", "lavfi", "-i", background];
  for (const scene of scenes) {
    // The last card lasts a frame longer than its share: the output's -t cuts it, never a frame short.
    const seconds =
      Math.max(1 / job.fps, scene.end - scene.start) + (scene === scenes.at(-1) ? 1 / job.fps : 0);
    inputs.push("-loop", "1", "-framerate", String(job.fps), "-t", seconds.toFixed(3), "-i", scene.image);
  }
  const audioInput = scenes.length + 1;
  inputs.push("-i", job.audio);
  const graph: string[] = [];
  let video = "0:v";
  if (scenes.length > 0) {
    const cards = scenes.map((_, i) => `[${i + 1}:v]`).join("");
    graph.push(
      `${cards}concat=n=${scenes.length}:v=1:a=0[cards]`,
      "[0:v][cards]overlay=eof_action=repeat[scened]",
    );
    video = "scened";
  }
  const subtitleFilter = tools.burnSubtitles
    ? `,subtitles=${basename(job.subtitles)}:force_style='FontName=DejaVu Sans,FontSize=16,Alignment=10,MarginL=40,MarginR=40,Outline=2'`
    : "";
  graph.push(`[${video}]format=yuv420p${subtitleFilter}[v]`);
  // ultrafast turns CABAC and 8x8 transforms off, which makes the stream Constrained Baseline whatever
  // -profile says; turning them back on costs little and gives the High profile platforms expect.
  const common = ["-c:v", "libx264", "-preset", job.preset, "-x264-params", "cabac=1:8x8dct=1"];
  common.push("-pix_fmt", "yuv420p", "-profile:v", "high");
  const audio = ["-c:a", "aac", "-b:a", "160k", "-ar", "48000"];
  const tail = ["-t", job.durationSeconds.toFixed(3), "-movflags", "+faststart", job.out];
  const args = [
    ...["-v", "error", "-y", ...inputs],
    ...(tools.burnSubtitles ? [] : ["-i", job.subtitles]),
    ...["-filter_complex", graph.join(";"), "-map", "[v]", "-map", `${audioInput}:a`],
    ...(tools.burnSubtitles ? [] : ["-map", `${audioInput + 1}:s`, "-c:s", "mov_text"]),
    ...common,
    ...audio,
    ...tail,
  ];
  await execa(tools.ffmpeg, args, { cancelSignal: signal, cwd: dirname(job.subtitles) });
  return { burned: tools.burnSubtitles };
}
