export type { Finding, FindingSeverity } from "@tapline/core";
export type { AudioExpect, AudioMetrics } from "./audio.ts";
export type { AudioAnalysis, Silence } from "./audio-analysis.ts";
export { findBinary, type ResolvedBinary } from "./binaries.ts";
export {
  audio,
  isStepCheck,
  type PathPicker,
  type StepCheck,
  type StepCheckOptions,
  subtitles,
  text,
  type ValidatePolicy,
  type ValidateStepOption,
  video,
} from "./checks.ts";
export type { EngineStats, ValidatorOptions } from "./engine.ts";
export {
  BinaryNotFoundError,
  isBinaryNotFoundError,
  isUnknownProfileError,
  isValidateOptionsError,
  UnknownProfileError,
  type ValidateErrorCode,
  ValidateOptionsError,
} from "./errors.ts";
export { type BoxLayout, readBoxLayout } from "./mp4-boxes.ts";
export { type ValidatePluginOptions, validate } from "./plugin.ts";
export { defineProfile, PROFILES, type Profile, type ProfileName, resolveProfile } from "./profiles.ts";
export { kindFromExtension, type Sniffed, sniff } from "./sniff.ts";
export {
  validateAudio,
  validateFile,
  validateJob,
  validateSubtitles,
  validateText,
  validateVideo,
} from "./standalone.ts";
export {
  type Cue,
  type ParsedSubtitles,
  parseSubtitles,
  type SubtitleSyntaxError,
} from "./subtitle-reader.ts";
export type { SubtitleExpect, SubtitleMetrics, SubtitleOptions } from "./subtitles.ts";
export {
  DEFAULT_FORBIDDEN,
  type ForbiddenPattern,
  type TextExpect,
  type TextMetrics,
  type TextSource,
} from "./text.ts";
export type { CallOptions, FileKind, SeverityOverrides, ValidationResult } from "./types.ts";
export {
  createValidator,
  type FileMetrics,
  type FileOptions,
  type JobFiles,
  type JobOptions,
  type JobResult,
  type Validator,
} from "./validator.ts";
export type { VideoExpect, VideoMetrics } from "./video.ts";
export { wordErrorRate, words } from "./wer.ts";
