/**
 * One registry of checks. Every check, built in or not, is made by {@link defineCheck}: a kind, a name (its
 * findings' id is `<kind>.<name>`), an optional strict options schema with defaults, and a `run` that judges
 * the facts the kind's one probe/analysis pass measured. A validator holds its checks (the built-ins plus
 * those given to `createValidator({ checks })`); a call may add more (`{ checks }` in its options).
 */
import type { FindingSeverity } from "@tapline/core";
import { checkOptions } from "@tapline/core/kit";
import type { AudioExpect, AudioMetrics } from "./audio.ts";
import type { AudioAnalysis } from "./audio-analysis.ts";
import { ValidateOptionsError } from "./errors.ts";
import type { BoxLayout } from "./mp4-boxes.ts";
import type { ProbeInfo, ProbeStream } from "./probe.ts";
import type { Cue } from "./subtitle-reader.ts";
import type { SubtitleExpect, SubtitleMetrics } from "./subtitles.ts";
import type { TextExpect, TextMetrics } from "./text.ts";
import { type FileKind, KINDS } from "./types.ts";
import type { VideoExpect, VideoMetrics } from "./video.ts";
import type { Interval } from "./video-scan.ts";

/** A schema for a check's options: valibot, or any other Standard Schema (validated synchronously). */
export type CheckOptionsSchema<O> = Parameters<typeof checkOptions<O>>[0];

/** Extra fields of a finding. */
export interface FindingDetails {
  /** The measured value. */
  readonly value?: unknown;
  /** The limit it was held to. */
  readonly limit?: unknown;
}

/** Adds findings under the check's id (`<kind>.<name>`); the call's `severity` overrides apply. */
export interface FindingReporter {
  error(message: string, details?: FindingDetails): void;
  warn(message: string, details?: FindingDetails): void;
  info(message: string, details?: FindingDetails): void;
  add(severity: FindingSeverity, message: string, details?: FindingDetails): void;
}

/** What every check gets. */
interface CheckInputBase<E, M> {
  /** The file checked (absent for a text given as a string). */
  readonly file?: string;
  /** The call's expectations for this kind (the built-in checks read their limits here). */
  readonly expect: E;
  /** What the pass measured (read-only for checks). */
  readonly metrics: Readonly<M>;
  /** Aborted when the call is cancelled. */
  readonly signal?: AbortSignal;
  /** Adds findings with this check's id. */
  readonly report: FindingReporter;
}

/** Audio: one ffprobe and one ffmpeg analysis pass (ebur128, silencedetect, volumedetect, astats). */
export interface AudioCheckInput extends CheckInputBase<AudioExpect, AudioMetrics> {
  readonly file: string;
  readonly sizeBytes: number;
  readonly probe: ProbeInfo;
  /** The first audio stream. */
  readonly stream: ProbeStream;
  /** Decoded duration in seconds when the analysis ran, else the header's. */
  readonly duration?: number;
  /** Absent with `analyze: false` or when the pass failed (an `audio.analysis` finding says why). */
  readonly analysis?: AudioAnalysis;
  /** True when the audio is silent or near-silent (integrated loudness under `audibleMin`). */
  readonly silent: boolean;
  /** Silences with their end clamped to the duration. */
  readonly silences: readonly Interval[];
}

/** Video: one ffprobe, the mp4 box layout, and black/freeze detection (edges, or all with `thorough`). */
export interface VideoCheckInput extends CheckInputBase<VideoExpect, VideoMetrics> {
  readonly file: string;
  readonly sizeBytes: number;
  readonly probe: ProbeInfo;
  /** The first video stream. */
  readonly video: ProbeStream;
  /** The first audio stream, if any. */
  readonly audio?: ProbeStream;
  /** Container duration (else the video stream's), seconds. */
  readonly duration?: number;
  /** Top-level mp4/mov boxes (absent for other containers). */
  readonly layout?: BoxLayout;
  /** Black and frozen intervals, merged (absent when no scan ran or it failed). */
  readonly frames?: { readonly black: readonly Interval[]; readonly frozen: readonly Interval[] };
}

/** Text: the decoded script. */
export interface TextCheckInput extends CheckInputBase<TextExpect, TextMetrics> {
  /** Without a BOM. */
  readonly text: string;
  /** Lines, trailing blank lines dropped. */
  readonly lines: readonly string[];
  readonly chars: number;
  readonly words: number;
}

/** Subtitles: the strict reader's cues, and the audio's silences and the script when given. */
export interface SubtitleCheckInput extends CheckInputBase<SubtitleExpect, SubtitleMetrics> {
  readonly file: string;
  readonly format: "srt" | "vtt";
  /** Valid cues, in file order (never empty). */
  readonly cues: readonly Cue[];
  /** The audio the subtitles belong to, analysed (absent unless `audio` was given and could be analysed). */
  readonly audio?: {
    readonly duration: number;
    readonly silences: readonly Interval[];
    /** Speech = the audio minus its silences. */
    readonly speech: readonly Interval[];
  };
  /** Cue starts against speech onsets: `offset` seconds early (`early`) or late. */
  readonly sync?: readonly { readonly line: number; readonly offset: number; readonly early: boolean }[];
  /** The script's text (absent unless `script` was given and could be read). */
  readonly script?: string;
}

/** The input of a check of each kind. */
export interface CheckInputs {
  audio: AudioCheckInput;
  video: VideoCheckInput;
  text: TextCheckInput;
  subtitles: SubtitleCheckInput;
}

/** What {@link defineCheck} takes. */
export interface CheckDefinition<K extends FileKind, O extends object> {
  /** The kind of file it judges. */
  readonly kind: K;
  /** snake_case; the id of its findings is `<kind>.<name>`. */
  readonly name: string;
  /** A strict schema of its options (valibot `v.strictObject`, or any Standard Schema); checked once, when configured. */
  readonly options?: CheckOptionsSchema<O>;
  /** Options used where the user gives none (merged under the user's before the schema checks them). */
  readonly defaults?: Partial<O>;
  /** Judges one file: read the input's facts, report findings. A throw becomes an error finding of this check. */
  run(input: CheckInputs[K], options: Readonly<O>): void | Promise<void>;
}

/** A configured check, made by the factory {@link defineCheck} returns; give it to a validator, a call or a step. */
export interface Check<K extends FileKind = FileKind> {
  readonly kind: K;
  readonly name: string;
  /** `<kind>.<name>`: the id of its findings and the key of `severity` overrides. */
  readonly id: string;
  /** Runs it on one file's facts. */
  run(input: CheckInputs[K]): void | Promise<void>;
  /** Brand: made by `defineCheck()` of this package (any copy). */
  readonly isTaplineCheck: true;
}

/** What a check's factory takes: its options, those with a default optional. */
export type CheckConfig<O extends object, Defaulted extends keyof O = never> = Omit<O, Defaulted> &
  Partial<Pick<O, Defaulted>>;

/**
 * Configures a check: options are checked once, here (unknown or bad ones throw `ValidateOptionsError`).
 * `Defaulted` names the options that have a default; the argument may be left out when every option has one.
 */
export type CheckFactory<K extends FileKind, O extends object, Defaulted extends keyof O = never> = (
  ...options: {} extends CheckConfig<O, Defaulted>
    ? [options?: CheckConfig<O, Defaulted>]
    : [options: CheckConfig<O, Defaulted>]
) => Check<K>;

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Defines a validation check. The factory it returns configures it (`aspectRatio({ ratio: "9:16" })`); give
 * the result to `createValidator({ checks })`, the plugin (`validate({ checks })`), a step's `validate` list,
 * or one call (`validateVideo(path, expect, { checks })`). It then runs on every file of its kind beside the
 * built-in checks, on the facts of the same probe/analysis pass (no extra process).
 *
 * @example
 * const vertical = defineCheck({
 *   kind: "video",
 *   name: "vertical",
 *   run({ video, report }) {
 *     if ((video.width ?? 0) > (video.height ?? 0)) report.error(`${video.width}x${video.height} is landscape`);
 *   },
 * });
 * await validateVideo("out.mp4", {}, { checks: [vertical()] });
 */
export function defineCheck<
  K extends FileKind,
  O extends object = Record<string, never>,
  D extends Partial<O> = Record<never, never>,
>(
  definition: CheckDefinition<K, O> & { readonly defaults?: D },
): CheckFactory<K, O, Extract<keyof D, keyof O>> {
  const { kind, name, options: schema, defaults, run } = definition ?? ({} as CheckDefinition<K, O>);
  const bad: { path: string; message: string; value?: unknown }[] = [];
  if (!KINDS.includes(kind))
    bad.push({ path: "kind", message: `must be one of ${KINDS.join(", ")}`, value: kind });
  if (typeof name !== "string" || !NAME.test(name))
    bad.push({ path: "name", message: "must be snake_case (a-z, 0-9, _), e.g. aspect_ratio", value: name });
  if (typeof run !== "function")
    bad.push({ path: "run", message: "must be a function (input, options) => void" });
  if (schema !== undefined && typeof (schema as { "~standard"?: unknown })["~standard"] !== "object")
    bad.push({ path: "options", message: "must be a Standard Schema (valibot, zod, arktype...)" });
  if (bad.length > 0) throw new ValidateOptionsError({ subject: "defineCheck()", issues: bad });
  const id = `${kind}.${name}`;
  return ((input?: Partial<O>): Check<K> => {
    const merged = { ...defaults, ...input } as O;
    let options = merged;
    if (schema) {
      const r = checkOptions(schema, merged);
      if (r.issues) throw new ValidateOptionsError({ subject: `check ${id}`, issues: r.issues });
      options = r.value as O;
    }
    const frozen = Object.freeze(options);
    return Object.freeze({
      kind,
      name,
      id,
      run: (facts: CheckInputs[K]) => run(facts, frozen),
      isTaplineCheck: true as const,
    });
  }) as CheckFactory<K, O, Extract<keyof D, keyof O>>;
}

/** True for a check made by {@link defineCheck}. */
export const isCheck = (v: unknown): v is Check =>
  !!v && typeof v === "object" && (v as Check).isTaplineCheck === true;
