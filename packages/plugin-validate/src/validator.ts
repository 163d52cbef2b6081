import { open } from "node:fs/promises";
import type { Finding } from "@tapline/core";
import { type AudioExpect, type AudioMetrics, validateAudioWith } from "./audio.ts";
import { Engine, type EngineStats, type ValidatorOptions } from "./engine.ts";
import { ValidateOptionsError } from "./errors.ts";
import { type Profile, type ProfileName, resolveProfile } from "./profiles.ts";
import { kindFromExtension, kindFromSniff, sniff } from "./sniff.ts";
import { type SubtitleMetrics, type SubtitleOptions, validateSubtitlesWith } from "./subtitles.ts";
import { type TextExpect, type TextMetrics, type TextSource, validateTextImpl } from "./text.ts";
import type { CallOptions, ValidationResult } from "./types.ts";
import { round } from "./types.ts";
import { type VideoExpect, type VideoMetrics, validateVideoWith } from "./video.ts";

/** The files of one job (any subset). */
export interface JobFiles {
  /** The script: a path, or `{ text }`. */
  readonly script?: TextSource;
  /** The voiceover. */
  readonly audio?: string;
  /** Subtitles (SRT or WebVTT) for the voiceover. */
  readonly subtitles?: string;
  /** The final video. */
  readonly video?: string;
}

/** Options of {@link Validator.validateJob}. */
export interface JobOptions extends CallOptions {
  /** Decode the whole video for black/frozen frames (default: edges only). */
  readonly thorough?: boolean;
  /** Largest |voiceover − video audio| duration difference, seconds (default 0.25). */
  readonly durationTolerance?: number;
}

/** The outcome of {@link Validator.validateJob}: every file's result plus cross-file findings. */
export interface JobResult {
  readonly valid: boolean;
  /** Every finding of every file, plus `job.*` cross-checks. */
  readonly findings: readonly Finding[];
  readonly metrics: {
    readonly script?: TextMetrics;
    readonly audio?: AudioMetrics;
    readonly subtitles?: SubtitleMetrics;
    readonly video?: VideoMetrics;
  };
  readonly files: {
    readonly script?: ValidationResult<TextMetrics>;
    readonly audio?: ValidationResult<AudioMetrics>;
    readonly subtitles?: ValidationResult<SubtitleMetrics>;
    readonly video?: ValidationResult<VideoMetrics>;
  };
  readonly profile: string;
}

/** Options of {@link Validator.validateFile}. */
export interface FileOptions extends CallOptions {
  /** Profile whose expectations apply (default `"default"`). */
  readonly profile?: ProfileName | string | Profile;
  /** Full-decode video checks. */
  readonly thorough?: boolean;
}

/** Metrics of whichever validator {@link Validator.validateFile} picked (see `kind`). */
export type FileMetrics = AudioMetrics | VideoMetrics | TextMetrics | SubtitleMetrics;

/** A validator: binaries, limits and a cache shared by its calls. {@link createValidator} makes one. */
export interface Validator {
  /** Checks an audio file; see {@link AudioExpect}. Never throws for bad media. */
  validateAudio(
    path: string,
    expect?: AudioExpect,
    options?: CallOptions,
  ): Promise<ValidationResult<AudioMetrics>>;
  /** Checks a video file; see {@link VideoExpect}. */
  validateVideo(
    path: string,
    expect?: VideoExpect,
    options?: CallOptions,
  ): Promise<ValidationResult<VideoMetrics>>;
  /** Checks a script: a path, raw text, `{ text }` or `{ path }`. */
  validateText(
    source: TextSource,
    expect?: TextExpect,
    options?: CallOptions,
  ): Promise<ValidationResult<TextMetrics>>;
  /** Checks SRT/WebVTT subtitles, against their audio and script when given. */
  validateSubtitles(path: string, options?: SubtitleOptions): Promise<ValidationResult<SubtitleMetrics>>;
  /** Checks every file of a job against a profile, in parallel, sharing probe and analysis passes. */
  validateJob(
    files: JobFiles,
    profile?: ProfileName | string | Profile,
    options?: JobOptions,
  ): Promise<JobResult>;
  /** Picks the validator by extension, then by content; what `tapline validate <file>` calls. */
  validateFile(path: string, options?: FileOptions): Promise<ValidationResult<FileMetrics>>;
  /** What this validator has spawned, hashed and served from cache. */
  readonly stats: Readonly<EngineStats>;
}

function requirePath(what: string, path: unknown): asserts path is string {
  if (typeof path !== "string" || path === "") {
    throw new ValidateOptionsError(`${what} argument`, [
      { path: "path", message: `expected a non-empty file path, got ${path === "" ? '""' : typeof path}` },
    ]);
  }
}

function requireObject(what: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
    throw new ValidateOptionsError(what, [
      { path: "", message: `expected an object, got ${Array.isArray(value) ? "an array" : typeof value}` },
    ]);
  }
}

/**
 * Creates a validator with its own binaries, concurrency limits and cache. The standalone functions
 * (`validateAudio`...) use a shared default one; make your own to set paths, limits or to isolate caches.
 *
 * @example
 * const v = createValidator({ ffprobePath: "/opt/ffmpeg/bin/ffprobe", concurrency: 2 });
 * const r = await v.validateAudio("vo.mp3", { loudness: { target: -16, tolerance: 1 } });
 * if (!r.valid) console.log(r.findings);
 */
export function createValidator(options: ValidatorOptions = {}): Validator {
  requireObject("validator options", options);
  const engine = new Engine(options);
  const validator: Validator = {
    stats: engine.stats,
    async validateAudio(path, expect, call) {
      requirePath("validateAudio", path);
      requireObject("audio expectations", expect);
      return validateAudioWith(engine, path, expect, call);
    },
    async validateVideo(path, expect, call) {
      requirePath("validateVideo", path);
      requireObject("video expectations", expect);
      return validateVideoWith(engine, path, expect, call);
    },
    async validateText(source, expect, call) {
      if (
        typeof source !== "string" &&
        (typeof source !== "object" || source === null || !("text" in source || "path" in source))
      ) {
        throw new ValidateOptionsError("validateText argument", [
          { path: "source", message: "expected a path, a string, { text } or { path }" },
        ]);
      }
      requireObject("text expectations", expect);
      return validateTextImpl(source, expect, call);
    },
    async validateSubtitles(path, opts) {
      requirePath("validateSubtitles", path);
      requireObject("subtitle options", opts);
      if (opts?.audio !== undefined) requirePath("validateSubtitles audio", opts.audio);
      return validateSubtitlesWith(engine, path, opts);
    },
    async validateJob(files, profileArg, call = {}) {
      requireObject("job files", files);
      if (files === undefined)
        throw new ValidateOptionsError("job files", [
          { path: "", message: "expected { script, audio, subtitles, video }" },
        ]);
      const profile = resolveProfile(profileArg);
      const signal = call.signal;
      const [script, audio, subtitles, video] = await Promise.all([
        files.script !== undefined
          ? validator.validateText(files.script, profile.text, { ...(signal && { signal }) })
          : undefined,
        files.audio !== undefined
          ? validator.validateAudio(files.audio, profile.audio, { ...(signal && { signal }) })
          : undefined,
        files.subtitles !== undefined
          ? validator.validateSubtitles(files.subtitles, {
              ...(files.audio !== undefined && { audio: files.audio }),
              ...(files.script !== undefined && { script: files.script }),
              ...(profile.subtitles && { expect: profile.subtitles }),
              ...(profile.audio && { audioExpect: profile.audio }),
              ...(signal && { signal }),
            })
          : undefined,
        files.video !== undefined
          ? validator.validateVideo(
              files.video,
              { ...profile.video, ...(call.thorough !== undefined && { thorough: call.thorough }) },
              { ...(signal && { signal }) },
            )
          : undefined,
      ]);
      const findings: Finding[] = [script, audio, subtitles, video].flatMap((r) =>
        r ? [...r.findings] : [],
      );
      const vo = audio?.metrics.decodedSeconds ?? audio?.metrics.durationSeconds;
      const va = video?.metrics.audioSeconds;
      const tol = call.durationTolerance ?? 0.25;
      if (vo !== undefined && va !== undefined && Math.abs(vo - va) > tol) {
        findings.push({
          check: "job.duration_mismatch",
          severity: "error",
          message: `the voiceover lasts ${round(vo)} s but the video's audio ${round(va)} s`,
          value: round(vo - va, 3),
          limit: tol,
        });
      }
      return {
        valid: !findings.some((f) => f.severity === "error"),
        findings,
        metrics: {
          ...(script && { script: script.metrics }),
          ...(audio && { audio: audio.metrics }),
          ...(subtitles && { subtitles: subtitles.metrics }),
          ...(video && { video: video.metrics }),
        },
        files: {
          ...(script && { script }),
          ...(audio && { audio }),
          ...(subtitles && { subtitles }),
          ...(video && { video }),
        },
        profile: profile.name,
      };
    },
    async validateFile(path, opts = {}) {
      requirePath("validateFile", path);
      requireObject("validateFile options", opts);
      const profile = resolveProfile(opts.profile);
      const signal = opts.signal ? { signal: opts.signal } : {};
      let kind = kindFromExtension(path);
      if (kind === undefined) {
        try {
          const fh = await open(path, "r");
          const head = new Uint8Array(64);
          try {
            const { bytesRead } = await fh.read(head, 0, 64, 0);
            kind = kindFromSniff(sniff(head.subarray(0, bytesRead)));
          } finally {
            await fh.close();
          }
        } catch {
          // Missing or unreadable: the text validator reports it through its file checks.
        }
        kind ??= "text";
      }
      switch (kind) {
        case "audio":
          return validator.validateAudio(path, profile.audio, signal);
        case "video":
          return validator.validateVideo(
            path,
            { ...profile.video, ...(opts.thorough !== undefined && { thorough: opts.thorough }) },
            signal,
          );
        case "subtitles":
          return validator.validateSubtitles(path, {
            ...(profile.subtitles && { expect: profile.subtitles }),
            ...signal,
          });
        default:
          return validator.validateText({ path }, profile.text, signal);
      }
    },
  };
  return validator;
}

let shared: Validator | undefined;

/** @internal The default validator of the standalone functions (created on first use; bounded cache). */
export function defaultValidator(): Validator {
  shared ??= createValidator();
  return shared;
}
