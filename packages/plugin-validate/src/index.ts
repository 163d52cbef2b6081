export type { Finding, FindingSeverity } from "@tapline/core";
export type { AudioExpect, AudioMetrics } from "./audio.ts";
export type { AudioAnalysis, Silence } from "./audio-analysis.ts";
export {
  audio,
  type PathPicker,
  type StepCheck,
  type StepCheckOptions,
  subtitles,
  text,
  type ValidatePolicy,
  type ValidateStepOption,
  video,
} from "./checks.ts";
export {
  type AudioCheckInput,
  type Check,
  type CheckConfig,
  type CheckDefinition,
  type CheckFactory,
  type CheckInputs,
  type CheckOptionsSchema,
  defineCheck,
  type FindingDetails,
  type FindingReporter,
  type SubtitleCheckInput,
  type TextCheckInput,
  type VideoCheckInput,
} from "./define-check.ts";
export type { EngineStats, ValidatorOptions } from "./engine.ts";
export type {
  BinaryNotFoundError,
  UnknownProfileError,
  ValidateErrorCode,
  ValidateOptionsError,
} from "./errors.ts";
export type { BoxLayout } from "./mp4-boxes.ts";
export { type ValidatePluginOptions, validate } from "./plugin.ts";
export type { ProbeInfo, ProbeStream } from "./probe.ts";
export { defineProfile, PROFILES, type Profile, type ProfileName } from "./profiles.ts";
export {
  validateAudio,
  validateFile,
  validateJob,
  validateSubtitles,
  validateText,
  validateVideo,
} from "./standalone.ts";
export type { Cue } from "./subtitle-reader.ts";
export type { SubtitleExpect, SubtitleMetrics, SubtitleOptions } from "./subtitles.ts";
export type { ForbiddenPattern, TextExpect, TextMetrics, TextSource } from "./text.ts";
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
export type { Interval } from "./video-scan.ts";
