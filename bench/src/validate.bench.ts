// plugin-validate: wall time for one job (script + mp3 + srt + 30 s 1080x1920 mp4), standard mode, cold and
// cached, plus ffprobe calls per file. Media are generated into a temp dir with ffmpeg at bench start.
// Peers: none do media QC on npm (research/validate.md §5), so the baseline is the raw cost of the
// subprocesses the job needs, run by hand with execa (one ffprobe + the analysis passes).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createValidator } from "@tapline/plugin-validate";
import { execa } from "execa";
import { compare, note, printTable } from "./harness.ts";

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

    // Cold: a fresh validator (empty cache) per job.
    const cold: number[] = [];
    let stats = { ffprobeCalls: 0, ffmpegCalls: 0 };
    for (let i = 0; i < 3; i++) {
      const v = createValidator();
      const s = performance.now();
      const r = await v.validateJob(job, "youtube-shorts");
      cold.push(performance.now() - s);
      stats = v.stats;
      if (i === 0)
        note(
          `job valid=${r.valid}; findings: ${r.findings.map((x) => `${x.severity}:${x.check}`).join(", ") || "none"}`,
        );
    }
    cold.sort((a, b) => a - b);
    const coldMedian = cold[Math.floor(cold.length / 2)]!;
    note(
      `cold job (median of 3): ${coldMedian.toFixed(0)} ms (target <= 1500 ms); ffprobe calls per job ${stats.ffprobeCalls} for 2 media files = ${stats.ffprobeCalls / 2} per file; ffmpeg passes ${stats.ffmpegCalls}`,
    );

    const warm = createValidator();
    await warm.validateJob(job, "youtube-shorts");
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
    // tinybench runs at least 64 iterations per case: only the cheap cases go through compare(); the cold
    // job (seconds per run) is timed above and added to the printed table.
    const rows = await compare(
      "plugin-validate: one job (script + mp3 + srt + 30 s 1080x1920 mp4), youtube-shorts",
      [
        { name: "raw ffprobe of the mp4 (1 spawn)", fn: rawProbe },
        { name: "validateJob cached", fn: () => warm.validateJob(job, "youtube-shorts") },
      ],
      { time: 1000 },
    );
    const base = rows[0]!.nsPerOp;
    const all = [
      ...rows,
      { name: "validateJob cold (median of 3)", nsPerOp: coldMedian * 1e6, ratio: (coldMedian * 1e6) / base },
    ];
    printTable("plugin-validate: the same, with the cold job", all, rows[0]!.name);
    const cached = rows[1]!.nsPerOp / 1e6;
    note(
      `cached job: ${cached.toFixed(2)} ms (target <= 20 ms); spawns while cached: ${warm.stats.ffprobeCalls - 2 + warm.stats.ffmpegCalls - 3} (expect 0)`,
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
