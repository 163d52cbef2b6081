// Integration: the validators on real media made by ./fixtures.ts with ffmpeg and espeak-ng.
import { beforeAll, describe, expect, it } from "vitest";
import { createValidator, PROFILES, type Validator } from "../src/index.ts";
import { type Fixtures, integrationSkipReason, makeFixtures } from "./fixtures.ts";

const skip = await integrationSkipReason();
let f: Fixtures;
let v: Validator;
const checks = (r: { findings: readonly { check: string; severity: string }[] }, severity = "error") =>
  r.findings.filter((x) => x.severity === severity).map((x) => x.check);

describe.skipIf(skip !== undefined)(`validators on real media${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(async () => {
    f = await makeFixtures();
    v = createValidator();
  }, 120_000);

  describe("audio", () => {
    it("passes the good voiceover and measures it", async () => {
      const r = await v.validateAudio(f.path("speech.mp3"));
      expect(r.findings).toEqual([]);
      expect(r.valid).toBe(true);
      expect(r.metrics.codec).toBe("mp3");
      expect(r.metrics.sampleRate).toBe(48_000);
      expect(r.metrics.integratedLufs).toBeGreaterThan(-15);
      expect(r.metrics.integratedLufs).toBeLessThan(-13);
      expect(r.metrics.decodedSeconds).toBeCloseTo(f.speechSeconds, 0);
    });

    it.each([
      ["clipped.mp3", ["audio.clipping"]],
      ["quiet.mp3", ["audio.silent"]],
      ["truncated.mp3", ["audio.truncated"]],
      ["empty.mp3", ["file.empty"]],
      ["notmedia.mp3", ["file.magic"]],
      ["noaudio.mp4", ["audio.stream"]],
    ])("%s fails with exactly %j (no expectations: what any audio must be)", async (name, expected) => {
      const r = await v.validateAudio(f.path(name));
      expect(r.valid).toBe(false);
      expect(checks(r).sort()).toEqual([...expected].sort());
    });

    it.each([
      ["clipped.mp3", ["audio.loudness", "audio.true_peak", "audio.clipping"]],
      ["deadair.mp3", ["audio.leading_silence"]],
    ])("%s fails youtube-shorts with exactly %j", async (name, expected) => {
      const r = await v.validateAudio(f.path(name), PROFILES["youtube-shorts"].audio);
      expect(r.valid).toBe(false);
      expect(checks(r).sort()).toEqual([...expected].sort());
    });

    it("analyze: false still checks the header's duration (a probe-level check)", async () => {
      const r = await v.validateAudio(f.path("speech.mp3"), { analyze: false, maxDuration: 0.5 });
      expect(checks(r)).toEqual(["audio.duration"]);
      expect(r.metrics.integratedLufs).toBeUndefined();
    });

    it("reports the truncated mp3's real decoded duration against its header", async () => {
      const r = await v.validateAudio(f.path("truncated.mp3"));
      expect(r.metrics.durationSeconds).toBeCloseTo(f.speechSeconds, 0);
      expect(r.metrics.decodedSeconds).toBeLessThan(f.speechSeconds / 2);
    });

    it("applies expectations and severity overrides", async () => {
      const r = await v.validateAudio(f.path("speech.mp3"), {
        maxDuration: 5,
        channels: [2],
        loudness: { target: -23, tolerance: 1 },
        severity: { "audio.channels": "warning", "audio.loudness": "off" },
      });
      expect(checks(r)).toEqual(["audio.duration"]);
      expect(checks(r, "warning")).toEqual(["audio.channels"]);
    });

    it("a missing file is a finding, not a throw", async () => {
      const r = await v.validateAudio(f.path("nope.mp3"));
      expect(checks(r)).toEqual(["file.exists"]);
    });
  });

  describe("video", () => {
    it("passes the good 1080x1920 video and measures it", async () => {
      const r = await v.validateVideo(f.path("video.mp4"));
      expect(r.findings).toEqual([]);
      expect(r.metrics).toMatchObject({
        codec: "h264",
        profile: "High",
        width: 1080,
        height: 1920,
        fps: 30,
        pixelFormat: "yuv420p",
        moovFirst: true,
        packetRatio: 1,
      });
    });

    it.each([
      ["noaudio.mp4", ["video.audio_stream"]],
      ["avmismatch.mp4", ["video.av_mismatch"]],
      ["nofaststart.mp4", ["video.faststart"]],
      ["blackstart.mp4", ["video.black_start"]],
      ["frozenend.mp4", ["video.frozen_end"]],
      ["truncated.mp4", ["video.integrity", "video.truncated"]],
      ["corrupt.mp4", ["video.integrity"]],
      ["notmedia.mp3", ["file.magic"]],
    ])("%s fails with %j", async (name, expected) => {
      const r = await v.validateVideo(f.path(name));
      expect(r.valid).toBe(false);
      expect([...new Set(checks(r))].sort()).toEqual([...expected].sort());
    });

    it("thorough mode decodes everything and still finds the edge defects", async () => {
      const r = await v.validateVideo(f.path("frozenend.mp4"), { thorough: true });
      expect(checks(r)).toEqual(["video.frozen_end"]);
      expect(r.metrics.frozenSeconds).toBeGreaterThan(2);
    });

    it("checks profile limits: the small video is not a Short", async () => {
      const { PROFILES } = await import("../src/index.ts");
      const r = await v.validateVideo(f.path("small.mp4"), PROFILES["youtube-shorts"].video);
      expect(r.valid).toBe(true); // size and recommendations are warnings for Shorts
      expect(checks(r, "warning")).toEqual(
        expect.arrayContaining(["video.width", "video.height", "video.bitrate_low"]),
      );
      const reels = await v.validateVideo(f.path("small.mp4"), {
        ...PROFILES["instagram-reels"].video,
        minDuration: 5,
      });
      expect(checks(reels)).toEqual(["video.duration"]);
    });
  });

  describe("subtitles", () => {
    const opts = () => ({ audio: f.path("speech.mp3"), script: f.path("script.txt") });

    it.each(["speech.srt", "speech.vtt"])(
      "%s passes with full coverage, tight sync and WER 0",
      async (name) => {
        const r = await v.validateSubtitles(f.path(name), opts());
        expect(checks(r)).toEqual([]);
        expect(r.metrics.cues).toBe(3);
        expect(r.metrics.coverageRatio).toBeGreaterThan(0.9);
        expect(r.metrics.medianSyncOffsetSeconds).toBeLessThan(0.125);
        expect(r.metrics.wordErrorRate).toBe(0);
        expect(checks(r, "warning")).toEqual(["subtitles.cpl"]); // espeak sentences are one long line each
      },
    );

    it("overlapping cues are reported with their lines, and the early cue is out of sync", async () => {
      const r = await v.validateSubtitles(f.path("overlap.srt"), opts());
      expect(checks(r)).toEqual(["subtitles.overlap", "subtitles.overlap"]);
      expect(r.findings.filter((x) => x.check === "subtitles.overlap").map((x) => x.message)).toEqual([
        expect.stringMatching(/^line 6: /),
        expect.stringMatching(/^line 10: /),
      ]);
      expect(checks(r, "warning")).toContain("subtitles.sync");
    });

    it("cues past the end of the audio", async () => {
      const r = await v.validateSubtitles(f.path("pastend.srt"), opts());
      expect(checks(r)).toEqual(["subtitles.past_end"]);
    });

    it("malformed SRT: every bad block with its line, low coverage, high WER", async () => {
      const r = await v.validateSubtitles(f.path("malformed.srt"), opts());
      expect(r.findings.filter((x) => x.check === "subtitles.syntax").map((x) => x.value)).toEqual([
        2, 6, 10, 14,
      ]);
      expect(checks(r)).toContain("subtitles.coverage");
      expect(r.metrics.wordErrorRate).toBeGreaterThan(0.5);
    });

    it("bad VTT header", async () => {
      const r = await v.validateSubtitles(f.path("badheader.vtt"));
      expect(
        r.findings.filter((x) => x.check === "subtitles.syntax").map((x) => [x.value, x.message]),
      ).toEqual([[1, 'line 1: missing "WEBVTT" header (found "WEBVTX")']]);
    });
  });

  describe("text", () => {
    it("passes the script, fails markdown and stage directions, non-UTF-8 and an empty string", async () => {
      expect((await v.validateText(f.path("script.txt"))).findings).toEqual([]);
      const md = await v.validateText(f.path("markdown.txt"));
      expect(md.findings.map((x) => x.message)).toEqual([
        "markdown heading on line(s) 1",
        "markdown emphasis on line(s) 3",
        "stage direction on line(s) 4",
      ]);
      expect(checks(await v.validateText(f.path("latin1.txt")))).toEqual(["text.utf8"]);
      expect(checks(await v.validateText({ text: "  " }))).toEqual(["text.empty"]);
    });

    it("checks the word budget for a target duration", async () => {
      const r = await v.validateText(
        { text: "word ".repeat(100) },
        { targetDuration: 30, wordsPerMinute: 150 },
      );
      expect(r.findings).toMatchObject([{ check: "text.word_budget", value: 100, limit: 75 }]);
    });
  });

  describe("profiles: what any file must be, then platform targets", () => {
    it("a normal TTS file (-21 LUFS, 0.5 s lead, 2 s tail) is valid under the default profile", async () => {
      const plain = await v.validateAudio(f.path("tts.mp3"));
      expect(plain.findings).toEqual([]);
      expect(plain.metrics.integratedLufs).toBeGreaterThan(-23);
      expect(plain.metrics.integratedLufs).toBeLessThan(-19);
      expect(plain.metrics.trailingSilenceSeconds).toBeGreaterThan(1.5);
      const byProfile = await v.validateAudio(f.path("tts.mp3"), PROFILES.default.audio);
      expect([byProfile.valid, checks(byProfile)]).toEqual([true, []]);
      const file = await v.validateFile(f.path("tts.mp3"));
      expect([file.kind, file.valid]).toEqual(["audio", true]);
      const job = await v.validateJob({ audio: f.path("tts.mp3"), video: f.path("video.mp4") }, "default", {
        durationTolerance: 60,
      });
      expect(checks(job)).toEqual([]);
    });

    it("the same file is too quiet for youtube-shorts, and its dead air too long", async () => {
      const r = await v.validateAudio(f.path("tts.mp3"), PROFILES["youtube-shorts"].audio);
      expect(r.valid).toBe(false);
      expect(checks(r).sort()).toEqual(["audio.leading_silence", "audio.loudness", "audio.trailing_silence"]);
      const file = await v.validateFile(f.path("tts.mp3"), { profile: "youtube-shorts" });
      expect(checks(file)).toContain("audio.loudness");
    });

    it("podcast expects -16 LUFS and ebu-r128 -23 LUFS", async () => {
      const tts = await v.validateFile(f.path("tts.mp3"), { profile: "podcast" });
      expect(checks(tts)).toEqual(["audio.loudness"]);
      expect((await v.validateFile(f.path("tts.mp3"), { profile: "ebu-r128" })).valid).toBe(false);
      const podcast = await v.validateFile(f.path("podcast.mp3"), { profile: "podcast" });
      expect([podcast.valid, checks(podcast)]).toEqual([true, []]);
      expect(checks(await v.validateFile(f.path("podcast.mp3"), { profile: "ebu-r128" }))).toEqual([
        "audio.loudness",
      ]);
      const broadcast = await v.validateFile(f.path("broadcast.mp3"), { profile: "ebu-r128" });
      expect([broadcast.valid, checks(broadcast)]).toEqual([true, []]);
      expect((broadcast.metrics as { integratedLufs?: number }).integratedLufs).toBeCloseTo(-23, 0);
      expect(checks(await v.validateFile(f.path("broadcast.mp3"), { profile: "podcast" }))).toEqual([
        "audio.loudness",
      ]);
    });
  });

  describe("job and file", () => {
    it("validates a whole job against youtube-shorts: valid, with the research's expected warnings", async () => {
      const r = await createValidator().validateJob(
        {
          script: f.path("script.txt"),
          audio: f.path("speech.mp3"),
          subtitles: f.path("speech.srt"),
          video: f.path("video.mp4"),
        },
        "youtube-shorts",
      );
      expect(checks(r)).toEqual([]);
      expect(r.valid).toBe(true);
      expect(checks(r, "warning").sort()).toEqual([
        "subtitles.cpl",
        "video.audio_channels",
        "video.bitrate_low",
      ]);
      expect(r.metrics.audio?.integratedLufs).toBeDefined();
    });

    it("flags a voiceover that does not match the video's audio", async () => {
      const r = await v.validateJob(
        { audio: f.path("deadair.mp3"), video: f.path("video.mp4") },
        "youtube-shorts",
      );
      expect(checks(r)).toEqual(["audio.leading_silence", "job.duration_mismatch"]);
    });

    it("validateFile picks the validator by extension and by content", async () => {
      expect((await v.validateFile(f.path("speech.srt"))).kind).toBe("subtitles");
      expect((await v.validateFile(f.path("video.mp4"), { profile: "tiktok" })).kind).toBe("video");
      expect((await v.validateFile(f.path("meta.json"))).kind).toBe("text");
      const mp3 = await v.validateFile(f.path("speech.mp3"));
      expect([mp3.kind, mp3.valid]).toEqual(["audio", true]);
    });
  });
});
