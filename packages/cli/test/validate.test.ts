// `tapline validate`: the default profile on good files, platform profiles, profile files, and paths that are
// not regular files. Makes its own media with espeak-ng and ffmpeg.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

const run = promisify(execFile);

async function missing(): Promise<string[]> {
  const out: string[] = [];
  for (const bin of ["ffmpeg", "ffprobe", "espeak-ng"]) {
    const r = await execa(bin, [bin === "espeak-ng" ? "--version" : "-version"], { reject: false });
    if (r.failed) out.push(bin);
  }
  return out;
}
const absent = await missing();
if (absent.length > 0 && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error(`${absent.join(", ")} required (TAPLINE_REQUIRE_INTEGRATION=1)`);

const ff = (args: string[], cwd: string) =>
  execa("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], { cwd });

type Result = { file: string; valid: boolean; findings: { check: string; severity: string }[] };
const errors = (r: Result) => r.findings.filter((f) => f.severity === "error").map((f) => f.check);

describe.skipIf(absent.length > 0)(
  `tapline validate${absent.length ? ` (skipped: missing ${absent})` : ""}`,
  () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tapline-cli-validate-"));
      // A normal TTS voiceover: espeak-ng at its natural level (about -21 LUFS), 0.5 s lead, 2 s tail.
      await execa(
        "espeak-ng",
        ["-v", "en-us", "-w", "raw.wav", "The lighthouse keeper climbed the stairs."],
        {
          cwd: dir,
        },
      );
      await ff(["-i", "raw.wav", "-af", "adelay=500:all=1,apad=pad_dur=2", "-b:a", "128k", "voice.mp3"], dir);
      await ff(
        [
          ...["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=4"],
          ...["-f", "lavfi", "-i", "sine=frequency=440:duration=4"],
          ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
          ...["-movflags", "+faststart", "video.mp4"],
        ],
        dir,
      );
    }, 60_000);
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("good files pass the default profile: exit 0", async () => {
      const r = await tapline(["validate", "voice.mp3", "video.mp4", "--json"], { cwd: dir });
      const results = JSON.parse(r.stdout) as Result[];
      expect(results.map(errors)).toEqual([[], []]);
      expect(r.code).toBe(0);
    });

    it("--profile youtube-shorts holds the voiceover to -14 LUFS: exit 1", async () => {
      const r = await tapline(["validate", "voice.mp3", "--profile", "youtube-shorts", "--json"], {
        cwd: dir,
      });
      expect(r.code).toBe(1);
      expect(errors((JSON.parse(r.stdout) as Result[])[0]!)).toContain("audio.loudness");
    });

    it("--profile takes a YAML or JSON profile file, checked like defineProfile()", async () => {
      await writeFile(
        join(dir, "quiet.yaml"),
        "name: quiet\naudio:\n  loudness: { target: -21, tolerance: 3 }\n",
      );
      const ok = await tapline(["validate", "voice.mp3", "--profile", "quiet.yaml", "--json"], { cwd: dir });
      expect([ok.code, ok.stderr]).toEqual([0, ""]);
      await writeFile(
        join(dir, "loud.json"),
        JSON.stringify({ audio: { loudness: { target: -14, tolerance: 1 } } }),
      );
      const loud = await tapline(["validate", "voice.mp3", "--profile", "loud.json", "--json"], { cwd: dir });
      expect(loud.code).toBe(1);
      expect(errors((JSON.parse(loud.stdout) as Result[])[0]!)).toEqual(["audio.loudness"]);
    });

    it("a bad profile file is exit 2 with an error naming the file, the path and the closest key", async () => {
      await writeFile(
        join(dir, "typo.json"),
        JSON.stringify({ name: "t", audio: { loudnes: { target: -16 } } }),
      );
      const r = await tapline(["validate", "voice.mp3", "--profile", "typo.json"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("profile file typo.json");
      expect(r.stderr).toMatch(
        /profile\.audio\.loudnes: unknown option "loudnes"; did you mean "loudness"\?/,
      );
      await writeFile(join(dir, "bad.yaml"), "audio: [unclosed\n");
      const yaml = await tapline(["validate", "voice.mp3", "--profile", "bad.yaml"], { cwd: dir });
      expect([yaml.code, yaml.stderr]).toEqual([
        2,
        expect.stringMatching(/profile file bad\.yaml: is not valid YAML/),
      ]);
      const gone = await tapline(["validate", "voice.mp3", "--profile", "./nope.yaml"], { cwd: dir });
      expect([gone.code, gone.stderr]).toEqual([
        2,
        expect.stringMatching(/profile file \.\/nope\.yaml: cannot be read \(ENOENT\)/),
      ]);
    });

    it("a FIFO, a directory and /dev/null are findings (exit 1), and the command returns", async () => {
      await run("mkfifo", [join(dir, "pipe")]);
      const r = await tapline(["validate", "pipe", ".", "/dev/null", "--json"], { cwd: dir });
      expect(r.code).toBe(1);
      expect((JSON.parse(r.stdout) as Result[]).map(errors)).toEqual([
        ["file.regular"],
        ["file.regular"],
        ["file.regular"],
      ]);
      const asProfile = await tapline(["validate", "voice.mp3", "--profile", "./pipe"], { cwd: dir });
      expect([asProfile.code, asProfile.stderr]).toEqual([2, expect.stringMatching(/is not a regular file/)]);
    });
  },
);
