// plugin-validate: wall time for one job (script + mp3 + srt + 30 s 1080x1920 mp4), standard mode, cold and
// cached, plus ffprobe calls per file; each figure beside one raw ffprobe of the mp4 (measured in the same compare()).
// Peers: none do media QC on npm (research/validate.md §5), so the baseline is the raw cost of the
// subprocesses the job needs, run by hand with execa (one ffprobe + the analysis passes).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createValidator } from "@tapline/plugin-validate";
import { execa } from "execa";
import { compare, note } from "./harness.ts";

async function ff(args: string[], cwd: string) {
  await execa("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], { cwd });
}

async function makeJob(dir: string) {
  const text = "The lighthouse keeper climbed the stairs every night. One evening the lamp refused to light.";
  await writeFile(join(dir, "script.txt"), `${text}\n`);
  await execa("espeak-ng", ["-v", "en-us", "-w", "vo.wav", text], { cwd: dir });
  await ff(
    [
      "-i",
      "vo.wav",
      "-af",
      "apad,atrim=0:30,aresample=48000,volume=3dB",
      "-c:a",
      "libmp3lame",
      "-b:a",
      "128k",
      "vo.mp3",
    ],
    dir,
  );
  await writeFile(
    join(dir, "vo.srt"),
    "1\n00:00:00,100 --> 00:00:03,000\nThe lighthouse keeper climbed\nthe stairs every night.\n\n2\n00:00:03,400 --> 00:00:06,000\nOne evening the lamp\nrefused to light.\n",
  );
  await ff(
    [
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=1080x1920:rate=30:duration=30",
      "-i",
      "vo.mp3",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-b:v",
      "6M",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-b:a",
      "128k",
      "-shortest",
      "-movflags",
      "+faststart",
      "video.mp4",
    ],
    dir,
  );
  return {
    script: join(dir, "script.txt"),
    audio: join(dir, "vo.mp3"),
    subtitles: join(dir, "vo.srt"),
    video: join(dir, "video.mp4"),
  };
}

export default async function bench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tapline-bench-validate-"));
  try {
    const t0 = performance.now();
    const job = await makeJob(dir);
    note(`media generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const rawProbe = () =>
      execa("ffprobe", [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-count_packets",
        `file:${job.video}`,
      ]);
    // Cold: a fresh validator (empty cache) per job, measured in the same compare() as one raw ffprobe of
    // the mp4 (the research's reference: 78 ms idle), so the ratio holds when the machine is loaded.
    let stats = { ffprobeCalls: 0, ffmpegCalls: 0, cacheHits: 0, hashes: 0 };
    let first: Awaited<ReturnType<ReturnType<typeof createValidator>["validateJob"]>> | undefined;
    const coldJob = async () => {
      const v = createValidator();
      const r = await v.validateJob(job, "youtube-shorts");
      first ??= r;
      stats = { ...v.stats }; // a fresh validator per job: its counters are this job's spawns
    };
    const coldRows = await compare(
      "plugin-validate cold: one job (script + mp3 + srt + 30 s 1080x1920 mp4), youtube-shorts",
      [
        { name: "raw ffprobe of the mp4 (1 spawn)", fn: rawProbe },
        { name: "validateJob cold (new validator)", fn: coldJob },
      ],
      { time: 1, iterations: 5, warmupIterations: 1 },
    );
    note(
      `job valid=${first?.valid}; findings: ${first?.findings.map((x) => `${x.severity}:${x.check}`).join(", ") || "none"}`,
    );
    const coldMs = coldRows[1]!.nsPerOp / 1e6;
    const rawMs = coldRows[0]!.nsPerOp / 1e6;
    note(
      `cold job: ${coldMs.toFixed(0)} ms (target <= 1500 ms) = ${coldRows[1]!.ratio.toFixed(2)}x one raw ffprobe (${rawMs.toFixed(0)} ms here; 78 ms idle in the research => ~${((coldRows[1]!.ratio * 78) / 1000).toFixed(2)} s idle-equivalent); ffprobe calls per job ${stats.ffprobeCalls} for 2 media files = ${stats.ffprobeCalls / 2} per file; ffmpeg passes ${stats.ffmpegCalls}`,
    );

    const warm = createValidator();
    await warm.validateJob(job, "youtube-shorts");
    // Counters are cumulative: snapshot them after the warm-up and report the difference.
    const before = { ...warm.stats };
    let jobs = 0;
    const rows = await compare(
      "plugin-validate cached: the same job, unchanged files",
      [
        { name: "raw ffprobe of the mp4 (1 spawn)", fn: rawProbe },
        {
          name: "validateJob cached",
          fn: async () => {
            jobs++;
            await warm.validateJob(job, "youtube-shorts");
          },
        },
      ],
      { time: 1000 },
    );
    const cached = rows[1]!.nsPerOp / 1e6;
    const after = { ...warm.stats };
    const probes = after.ffprobeCalls - before.ffprobeCalls;
    const passes = after.ffmpegCalls - before.ffmpegCalls;
    note(
      `cached job: ${cached.toFixed(2)} ms (target <= 20 ms); over ${jobs} cached jobs: ${probes} ffprobe + ${passes} ffmpeg spawns (expect 0), ${after.hashes - before.hashes} hashes, ${after.cacheHits - before.cacheHits} cache hits`,
    );
    note(
      `load average during the run: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")} on ${availableParallelism()} cores`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
