import { stat } from "node:fs/promises";
import type { Finding } from "@tapline/core";
import * as v from "valibot";
import { type AudioExpect, type AudioMetrics, validateAudioWith } from "./audio.ts";
import { Engine, type EngineStats, type ValidatorOptions } from "./engine.ts";
import { readHead } from "./internal/read.ts";
import {
  AudioExpectSchema,
  CallOptionsSchema,
  FileOptionsSchema,
  JobFilesSchema,
  JobOptionsSchema,
  PathSchema,
  ProfileRefSchema,
  parse,
  parseArgs,
  SubtitleOptionsSchema,
  TextExpectSchema,
  TextSourceSchema,
  ValidatorOptionsSchema,
  VideoExpectSchema,
} from "./options.ts";
import { type Profile, type ProfileName, resolveProfile } from "./profiles.ts";
import { kindFromExtension, kindFromSniff, sniff } from "./sniff.ts";
import { type SubtitleMetrics, type SubtitleOptions, validateSubtitlesWith } from "./subtitles.ts";
import { type TextExpect, type TextMetrics, type TextSource, validateTextWith } from "./text.ts";
import type { CallOptions, FileKind, ValidationResult } from "./types.ts";
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

const optional = <T>(schema: v.GenericSchema<T>) => v.optional(schema);
const AudioArg = optional(AudioExpectSchema);
const VideoArg = optional(VideoExpectSchema);
const TextArg = optional(TextExpectSchema);
const CallArg = optional(CallOptionsSchema);
const SubtitleArg = optional(SubtitleOptionsSchema);
const JobArg = optional(JobOptionsSchema);
const FileArg = optional(FileOptionsSchema);
const ProfileArg = optional(ProfileRefSchema);

/** A validator and the engine under it (the plugin calls {@link validateKind} with arguments checked once). */
export interface ValidatorInternals {
  readonly validator: Validator;
  readonly engine: Engine;
}

/**
 * Creates a validator with its own binaries, concurrency limits and cache. The standalone functions
 * (`validateAudio`...) use a shared default one; make your own to set paths, limits or to isolate caches.
 * Options are checked here, once (a `ValidateOptionsError` names each bad one with the closest known key);
 * each call checks its own arguments the same way.
 *
 * @example
 * const v = createValidator({ ffprobePath: "/opt/ffmpeg/bin/ffprobe", concurrency: 2 });
 * const r = await v.validateAudio("vo.mp3", { loudness: { target: -16, tolerance: 1 } });
 * if (!r.valid) console.log(r.findings);
 */
export function createValidator(options: ValidatorOptions = {}): Validator {
  return createValidatorInternals(parse(ValidatorOptionsSchema, options, "createValidator()")).validator;
}

/** `createValidator()` on options already checked. */
export function createValidatorInternals(options: ValidatorOptions): ValidatorInternals {
  const engine = new Engine(options);
  const validator: Validator = {
    stats: engine.stats,
    async validateAudio(path, expect, call) {
      parseArgs("validateAudio()", [
        ["path", PathSchema, path],
        ["expect", AudioArg, expect],
        ["options", CallArg, call],
      ]);
      return validateAudioWith(engine, path, expect, call);
    },
    async validateVideo(path, expect, call) {
      parseArgs("validateVideo()", [
        ["path", PathSchema, path],
        ["expect", VideoArg, expect],
        ["options", CallArg, call],
      ]);
      return validateVideoWith(engine, path, expect, call);
    },
    async validateText(source, expect, call) {
      parseArgs("validateText()", [
        ["source", TextSourceSchema, source],
        ["expect", TextArg, expect],
        ["options", CallArg, call],
      ]);
      return validateTextWith(engine, source, expect, call);
    },
    async validateSubtitles(path, opts) {
      parseArgs("validateSubtitles()", [
        ["path", PathSchema, path],
        ["options", SubtitleArg, opts],
      ]);
      return validateSubtitlesWith(engine, path, opts);
    },
    async validateJob(files, profileArg, call = {}) {
      parseArgs("validateJob()", [
        ["files", JobFilesSchema, files],
        ["profile", ProfileArg, profileArg],
        ["options", JobArg, call],
      ]);
      return jobWith(engine, files, resolveProfile(profileArg), call);
    },
    async validateFile(path, opts = {}) {
      parseArgs("validateFile()", [
        ["path", PathSchema, path],
        ["options", FileArg, opts],
      ]);
      return fileWith(engine, path, opts);
    },
  };
  return { validator, engine };
}

async function jobWith(
  engine: Engine,
  files: JobFiles,
  profile: Profile,
  call: JobOptions,
): Promise<JobResult> {
  const sig = { ...(call.signal && { signal: call.signal }), ...(call.checks && { checks: call.checks }) };
  const [script, audio, subtitles, video] = await Promise.all([
    files.script !== undefined ? validateTextWith(engine, files.script, profile.text, sig) : undefined,
    files.audio !== undefined ? validateAudioWith(engine, files.audio, profile.audio, sig) : undefined,
    files.subtitles !== undefined
      ? validateSubtitlesWith(engine, files.subtitles, {
          ...(files.audio !== undefined && { audio: files.audio }),
          ...(files.script !== undefined && { script: files.script }),
          ...(profile.subtitles && { expect: profile.subtitles }),
          ...(profile.audio && { audioExpect: profile.audio }),
          ...sig,
        })
      : undefined,
    files.video !== undefined
      ? validateVideoWith(
          engine,
          files.video,
          { ...profile.video, ...(call.thorough !== undefined && { thorough: call.thorough }) },
          sig,
        )
      : undefined,
  ]);
  const findings: Finding[] = [];
  for (const r of [script, audio, subtitles, video]) if (r) for (const f of r.findings) findings.push(f);
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
}

/**
 * The kind of a file without an extension we know: only a regular file is opened (with `O_NONBLOCK`, so a
 * path swapped for a FIFO cannot block); anything else goes to the text validator, whose basic checks
 * report it (`file.exists`, `file.regular`).
 */
async function sniffKind(path: string): Promise<FileKind> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return "text";
    return kindFromSniff(sniff(await readHead(path, 64))) ?? "text";
  } catch {
    return "text";
  }
}

/** Where a file of one kind is checked against (subtitles: their audio and script). */
export interface KindCall extends CallOptions {
  readonly audio?: string;
  readonly script?: TextSource;
  readonly audioExpect?: AudioExpect;
}

/**
 * Validates one file (or, for text, a text source) of a known kind with expectations already checked: what `validateFile` and
 * the plugin call, so the plugin path is the standalone path.
 */
export function validateKind(
  engine: Engine,
  kind: FileKind,
  target: string | TextSource,
  expect: object | undefined,
  call: KindCall,
): Promise<ValidationResult<FileMetrics>> {
  const { audio, script, audioExpect, ...rest } = call;
  switch (kind) {
    case "audio":
      return validateAudioWith(engine, target as string, expect as AudioExpect, rest);
    case "video":
      return validateVideoWith(engine, target as string, expect as VideoExpect, rest);
    case "subtitles":
      return validateSubtitlesWith(engine, target as string, {
        ...rest,
        ...(expect && { expect: expect as SubtitleOptions["expect"] }),
        ...(audio !== undefined && { audio }),
        ...(script !== undefined && { script }),
        ...(audioExpect && { audioExpect }),
      });
    default:
      return validateTextWith(engine, target, expect as TextExpect, rest);
  }
}

async function fileWith(
  engine: Engine,
  path: string,
  opts: FileOptions,
): Promise<ValidationResult<FileMetrics>> {
  const profile = resolveProfile(opts.profile);
  const call = { ...(opts.signal && { signal: opts.signal }), ...(opts.checks && { checks: opts.checks }) };
  const kind = kindFromExtension(path) ?? (await sniffKind(path));
  const expect =
    kind === "video"
      ? { ...profile.video, ...(opts.thorough !== undefined && { thorough: opts.thorough }) }
      : profile[kind];
  return validateKind(engine, kind, kind === "text" ? { path } : path, expect, call);
}

let shared: Validator | undefined;

/** The default validator of the standalone functions (created on first use; bounded cache). */
export function defaultValidator(): Validator {
  shared ??= createValidator();
  return shared;
}
