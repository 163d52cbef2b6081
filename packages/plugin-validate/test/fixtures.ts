/**
 * The test suite's own media: made with ffmpeg and espeak-ng into a temp dir (never committed). Short files
 * (4–9 s) keep the whole suite well under a minute on 2 cores. Built once per fixture-script version and
 * shared by the test files through an atomic rename (a second process waits for the first one's build).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

/** The sentences spoken in `speech.*` and written to `script.txt`. */
export const SENTENCES = [
  "The lighthouse keeper climbed the stairs every night.",
  "One evening the lamp refused to light.",
  "He found a small bird sleeping inside the glass.",
];
const PAUSE = 0.6;
const LEAD = 0.3;

export interface Fixtures {
  dir: string;
  path(name: string): string;
  /** Duration of `speech.mp3` in seconds. */
  speechSeconds: number;
}

const REQUIRED = ["ffmpeg", "ffprobe", "espeak-ng"];

/** Names of the missing binaries (empty when everything is there). */
export async function missingBinaries(): Promise<string[]> {
  const missing: string[] = [];
  for (const bin of REQUIRED) {
    const r = await execa(bin, [bin === "espeak-ng" ? "--version" : "-version"], { reject: false });
    if (r.failed) missing.push(bin);
  }
  return missing;
}

/**
 * Skip reason when binaries are missing, or throws when `TAPLINE_REQUIRE_INTEGRATION=1` (CI) demands them.
 */
export async function integrationSkipReason(): Promise<string | undefined> {
  const missing = await missingBinaries();
  if (missing.length === 0) return undefined;
  const reason = `missing ${missing.join(", ")} (apt-get install ffmpeg espeak-ng)`;
  if (process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
    throw new Error(`integration tests required but ${reason}`);
  return reason;
}

async function ff(args: string[], cwd: string): Promise<void> {
  await execa("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], { cwd });
}

function ts(seconds: number, sep: "," | "."): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

async function durationOf(file: string, cwd: string): Promise<number> {
  const r = await execa(
    "ffprobe",
    ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file],
    { cwd },
  );
  return Number(r.stdout.trim());
}

/** Integrated loudness (LUFS) of a file, by ffmpeg's ebur128 filter. */
async function loudnessOf(file: string, cwd: string): Promise<number> {
  const r = await execa(
    "ffmpeg",
    ["-hide_banner", "-nostats", "-i", file, "-af", "ebur128", "-f", "null", "-"],
    {
      cwd,
    },
  );
  const m = /Summary:[\s\S]*?I:\s*(-?[\d.]+) LUFS/.exec(r.stderr);
  if (!m) throw new Error(`no loudness for ${file}`);
  return Number(m[1]);
}

async function build(dir: string): Promise<void> {
  // Speech: one wav per sentence so the subtitles get exact timings.
  const cues: { start: number; end: number; text: string }[] = [];
  let t = LEAD;
  const parts: string[] = [];
  for (const [i, sentence] of SENTENCES.entries()) {
    const wav = `s${i}.wav`;
    await execa("espeak-ng", ["-v", "en-us", "-s", "165", "-w", wav, sentence], { cwd: dir });
    const d = await durationOf(wav, dir);
    cues.push({ start: t, end: t + d, text: sentence });
    parts.push(wav);
    t += d + PAUSE;
  }
  const total = t - PAUSE + 0.4;
  // Concatenate with pauses, resample to 48 kHz, normalise to -14 LUFS (the streaming target).
  const inputs = parts.flatMap((p) => ["-i", p]);
  const delays = parts
    .map((_, i) => `[${i}:a]adelay=${Math.round(cues[i]!.start * 1000)}:all=1[a${i}]`)
    .join(";");
  const mix = `${delays};${parts.map((_, i) => `[a${i}]`).join("")}amix=inputs=${parts.length}:normalize=0,apad,atrim=0:${total.toFixed(3)},aresample=48000,loudnorm=I=-14:TP=-1.5:LRA=11,volume=6.5dB,alimiter=limit=0.7:level=disabled:attack=1:release=20,aresample=48000[out]`;
  await ff([...inputs, "-filter_complex", mix, "-map", "[out]", "-ac", "1", "speech.wav"], dir);
  await ff(["-i", "speech.wav", "-c:a", "libmp3lame", "-b:a", "128k", "speech.mp3"], dir);
  await writeFile(join(dir, "script.txt"), `${SENTENCES.join(" ")}\n`);
  await writeFile(
    join(dir, "speech.srt"),
    cues.map((c, i) => `${i + 1}\n${ts(c.start, ",")} --> ${ts(c.end, ",")}\n${c.text}\n`).join("\n"),
  );
  await writeFile(
    join(dir, "speech.vtt"),
    `WEBVTT\n\n${cues.map((c) => `${ts(c.start, ".")} --> ${ts(c.end, ".")}\n${c.text}\n`).join("\n")}`,
  );

  // A normal TTS file as an engine hands it over: espeak-ng at its natural level (about -21 LUFS), with
  // 0.5 s of leading and 2 s of trailing silence. Fine as a file; too quiet for the short-form platforms.
  await execa("espeak-ng", ["-v", "en-us", "-w", "tts-raw.wav", SENTENCES.join(" ")], { cwd: dir });
  await ff(
    [
      "-i",
      "tts-raw.wav",
      "-af",
      "adelay=500:all=1,apad=pad_dur=2",
      "-c:a",
      "libmp3lame",
      "-b:a",
      "128k",
      "tts.mp3",
    ],
    dir,
  );
  await rm(join(dir, "tts-raw.wav"));
  // The voiceover mastered for a podcast (-16 LUFS) and for broadcast (EBU R 128, -23 LUFS): an exact gain
  // from the measured loudness (a linear gain moves integrated loudness by exactly its dB).
  const speechLufs = await loudnessOf("speech.wav", dir);
  for (const [name, target] of [
    ["podcast.mp3", -16],
    ["broadcast.mp3", -23],
  ] as const) {
    const gain = (target - speechLufs).toFixed(2);
    await ff(
      ["-i", "speech.wav", "-af", `volume=${gain}dB`, "-c:a", "libmp3lame", "-b:a", "128k", name],
      dir,
    );
  }

  // Audio defects.
  await ff(
    ["-i", "speech.wav", "-af", "volume=24dB", "-c:a", "libmp3lame", "-b:a", "128k", "clipped.mp3"],
    dir,
  );
  await ff(
    ["-i", "speech.wav", "-af", "volume=-40dB", "-c:a", "libmp3lame", "-b:a", "128k", "quiet.mp3"],
    dir,
  );
  await ff(
    ["-i", "speech.wav", "-af", "adelay=4000:all=1", "-c:a", "libmp3lame", "-b:a", "128k", "deadair.mp3"],
    dir,
  );
  const mp3 = await readFile(join(dir, "speech.mp3"));
  await writeFile(join(dir, "truncated.mp3"), mp3.subarray(0, Math.floor(mp3.length / 3)));
  await writeFile(join(dir, "empty.mp3"), "");
  await writeFile(
    join(dir, "notmedia.mp3"),
    "This is a plain text file pretending to be an mp3.\n".repeat(40),
  );
  await writeFile(join(dir, "-y.mp3"), mp3); // a name ffmpeg would read as an option without the file: prefix

  // Video: the good one matches the YouTube Shorts / Reels / TikTok profiles.
  const dur = total.toFixed(3);
  const h264 = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p"];
  const aac = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"];
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=1080x1920:rate=30:duration=${dur}`,
      "-i",
      "speech.wav",
      ...h264,
      "-b:v",
      "6M",
      "-maxrate",
      "8M",
      "-bufsize",
      "12M",
      ...aac,
      "-shortest",
      "-movflags",
      "+faststart",
      "video.mp4",
    ],
    dir,
  );
  // Small defect videos (360x640 keeps encoding fast).
  const small = (extra: string) => `testsrc2=size=360x640:rate=30:duration=${extra}`;
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      small("4"),
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=4",
      ...h264,
      ...aac,
      "-movflags",
      "+faststart",
      "small.mp4",
    ],
    dir,
  );
  await ff(["-f", "lavfi", "-i", small("4"), ...h264, "-movflags", "+faststart", "noaudio.mp4"], dir);
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      small("4"),
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=2",
      ...h264,
      ...aac,
      "-movflags",
      "+faststart",
      "avmismatch.mp4",
    ],
    dir,
  );
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      small("4"),
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=4",
      ...h264,
      ...aac,
      "nofaststart.mp4",
    ],
    dir,
  );
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      small("4"),
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=4",
      "-vf",
      "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='lt(t,1.5)'",
      ...h264,
      ...aac,
      "-movflags",
      "+faststart",
      "blackstart.mp4",
    ],
    dir,
  );
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      small("4"),
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=4",
      "-vf",
      "trim=0:1.5,setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop_duration=2.5",
      ...h264,
      ...aac,
      "-movflags",
      "+faststart",
      "frozenend.mp4",
    ],
    dir,
  );
  const small4 = await readFile(join(dir, "small.mp4"));
  await writeFile(join(dir, "truncated.mp4"), small4.subarray(0, Math.floor(small4.length * 0.5)));
  const corrupt = Buffer.from(small4);
  const mid = Math.floor(corrupt.length * 0.45);
  let seed = 7;
  for (let i = mid; i < mid + Math.min(40_000, Math.floor(corrupt.length * 0.2)); i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    corrupt[i] = seed & 0xff;
  }
  await writeFile(join(dir, "corrupt.mp4"), corrupt);

  // Subtitle defects.
  const c = cues;
  await writeFile(
    join(dir, "overlap.srt"),
    `1\n${ts(c[0]!.start, ",")} --> ${ts(c[1]!.start + 1, ",")}\n${c[0]!.text}\n\n2\n${ts(c[1]!.start, ",")} --> ${ts(c[1]!.end, ",")}\n${c[1]!.text}\n\n3\n${ts(c[2]!.start - 0.9, ",")} --> ${ts(c[2]!.end, ",")}\n${c[2]!.text}\n`,
  );
  await writeFile(
    join(dir, "pastend.srt"),
    cues
      .map((q, i) => `${i + 1}\n${ts(q.start, ",")} --> ${ts(i === 2 ? q.end + 4 : q.end, ",")}\n${q.text}\n`)
      .join("\n"),
  );
  await writeFile(
    join(dir, "malformed.srt"),
    [
      "1",
      "00:00:00,300 -> 00:00:03,000",
      "Bad arrow.",
      "",
      "2",
      "00:00:05,000 --> 00:00:04,000",
      "End before start.",
      "",
      "3",
      "00:00:05,500 --> ",
      "Missing end.",
      "",
      "4",
      "00:61:00,000 --> 00:61:02,000",
      "Minute 61.",
      "",
      "5",
      `${ts(c[2]!.start, ",")} --> ${ts(c[2]!.end, ",")}`,
      c[2]!.text,
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "badheader.vtt"),
    `WEBVTX\n\n${ts(c[0]!.start, ".")} --> ${ts(c[0]!.end, ".")}\n${c[0]!.text}\n`,
  );
  await writeFile(
    join(dir, "markdown.txt"),
    "# Title\n\n**The lighthouse** keeper climbed.\n[laughs] One evening.\n",
  );
  await writeFile(
    join(dir, "latin1.txt"),
    Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72, 0x0a]),
  );
  await writeFile(join(dir, "meta.json"), JSON.stringify({ total, cues }));
  for (const p of parts) await rm(join(dir, p));
}

/** Builds the fixtures once (per fixture-script version) and returns where they are. */
export async function makeFixtures(): Promise<Fixtures> {
  const source = await readFile(fileURLToPath(import.meta.url));
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const dir = join(tmpdir(), `tapline-validate-fixtures-${hash}`);
  const lock = `${dir}.lock`;
  if (!existsSync(join(dir, "meta.json"))) {
    let owner = false;
    try {
      await mkdir(lock);
      owner = true;
    } catch {
      // Another process builds them: wait for it (bounded).
      const deadline = Date.now() + 120_000;
      while (!existsSync(join(dir, "meta.json"))) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for fixtures in ${dir} (remove ${lock})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (owner) {
      try {
        const work = `${dir}.${process.pid}`;
        await rm(work, { recursive: true, force: true });
        await mkdir(work, { recursive: true });
        await build(work);
        await rename(work, dir);
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    }
  }
  await stat(join(dir, "meta.json"));
  const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as { total: number };
  return { dir, path: (name) => join(dir, name), speechSeconds: meta.total };
}
