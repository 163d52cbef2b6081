import type { AudioExpect, AudioMetrics } from "./audio.ts";
import type { Profile, ProfileName } from "./profiles.ts";
import type { SubtitleMetrics, SubtitleOptions } from "./subtitles.ts";
import type { TextExpect, TextMetrics, TextSource } from "./text.ts";
import type { CallOptions, ValidationResult } from "./types.ts";
import {
  defaultValidator,
  type FileMetrics,
  type FileOptions,
  type JobFiles,
  type JobOptions,
  type JobResult,
} from "./validator.ts";
import type { VideoExpect, VideoMetrics } from "./video.ts";

/**
 * Checks an audio file: file basics and magic bytes; one ffprobe (codec, duration, bitrate, sample rate,
 * channels, packets) and one ffmpeg pass (ebur128, silencedetect, volumedetect, astats): truncation,
 * loudness, true peak, clipping, dead air, silence gaps, near-silence. Bad media resolves `valid: false`;
 * only misuse throws (`ValidateOptionsError`, `BinaryNotFoundError`).
 *
 * @example
 * const r = await validateAudio("vo.mp3", { loudness: { target: -14, tolerance: 1 }, maxDuration: 60 });
 * r.valid; r.metrics.integratedLufs; r.findings; // [{ check: "audio.loudness", severity: "error", ... }]
 */
export function validateAudio(
  path: string,
  expect?: AudioExpect,
  options?: CallOptions,
): Promise<ValidationResult<AudioMetrics>> {
  return defaultValidator().validateAudio(path, expect, options);
}

/**
 * Checks a video file: streams, size, aspect, fps, codec/profile, pixel format, bitrate, duration, A/V
 * duration mismatch, fast start (moov before mdat), integrity (packets read vs declared, demux errors), and
 * black/frozen frames at the edges (or everywhere with `thorough`).
 *
 * @example
 * const r = await validateVideo("out.mp4", PROFILES["youtube-shorts"].video);
 */
export function validateVideo(
  path: string,
  expect?: VideoExpect,
  options?: CallOptions,
): Promise<ValidationResult<VideoMetrics>> {
  return defaultValidator().validateVideo(path, expect, options);
}

/**
 * Checks a script: UTF-8, empty, characters, words, lines, line lengths, forbidden patterns (markdown, stage
 * directions), word budget for a target duration. A string naming an existing file is read as a path; pass
 * `{ text }` or `{ path }` to say which.
 *
 * @example
 * await validateText({ text: script }, { maxWords: 150, targetDuration: 60 });
 */
export function validateText(
  source: TextSource,
  expect?: TextExpect,
  options?: CallOptions,
): Promise<ValidationResult<TextMetrics>> {
  return defaultValidator().validateText(source, expect, options);
}

/**
 * Checks SRT or WebVTT subtitles with a strict reader (every bad block, with its line number), timing
 * (order, overlaps), readability (CPL, lines, CPS, durations, gaps), and, given `audio`, coverage of the
 * speech, the last cue against the audio's end and cue sync with speech onsets; given `script`, the word
 * error rate of the cue text.
 *
 * @example
 * await validateSubtitles("vo.srt", { audio: "vo.mp3", script: "script.txt" });
 */
export function validateSubtitles(
  path: string,
  options?: SubtitleOptions,
): Promise<ValidationResult<SubtitleMetrics>> {
  return defaultValidator().validateSubtitles(path, options);
}

/**
 * Checks a whole job (script, voiceover, subtitles, video) against a profile, sharing probe and analysis
 * passes, plus cross-file checks (voiceover vs the video's audio duration).
 *
 * @example
 * const r = await validateJob({ script: "s.txt", audio: "vo.mp3", subtitles: "vo.srt", video: "out.mp4" }, "youtube-shorts");
 */
export function validateJob(
  files: JobFiles,
  profile?: ProfileName | string | Profile,
  options?: JobOptions,
): Promise<JobResult> {
  return defaultValidator().validateJob(files, profile, options);
}

/**
 * Validates one file, choosing the validator from its extension, then its content. Used by `tapline validate`.
 *
 * @example
 * const { kind, valid, findings } = await validateFile("out.mp4", { profile: "tiktok" });
 */
export function validateFile(path: string, options?: FileOptions): Promise<ValidationResult<FileMetrics>> {
  return defaultValidator().validateFile(path, options);
}
