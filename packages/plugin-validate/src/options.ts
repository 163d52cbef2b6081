/**
 * The option schemas of this package, one per options object (valibot `strictObject`, so an unknown key is
 * an issue that core explains with the closest known key). The exported interfaces beside each validator
 * stay the documentation; each schema here is typed against its interface so the two cannot drift.
 * Everything is checked once, where it enters: a check factory, `defineProfile()`, `createValidator()`, the
 * plugin, a standalone call.
 */
import type { OptionIssue, StepContext } from "@tapline/core";
import { checkOptions, prefixOptionIssues } from "@tapline/core/kit";
import * as v from "valibot";
import type { AudioExpect } from "./audio.ts";
import type { StepCheck, StepCheckOptions, ValidatePolicy, ValidateStepOption } from "./checks.ts";
import { type Check, isCheck as isDefinedCheck } from "./define-check.ts";
import type { ValidatorOptions } from "./engine.ts";
import { ValidateOptionsError } from "./errors.ts";
import type { Profile, ProfileName } from "./profiles.ts";
import type { SubtitleExpect, SubtitleOptions } from "./subtitles.ts";
import type { TextExpect, TextSource } from "./text.ts";
import { type CallOptions, SEVERITY_OVERRIDES } from "./types.ts";
import type { FileOptions, JobFiles, JobOptions } from "./validator.ts";
import type { VideoExpect } from "./video.ts";

// ---- building blocks --------------------------------------------------------------------------------------

const finite = () => v.pipe(v.number(), v.finite());
const nonNegative = () => v.pipe(v.number(), v.finite(), v.minValue(0));
const positive = () => v.pipe(v.number(), v.finite(), v.gtValue(0));
const positiveInt = () => v.pipe(v.number(), v.integer(), v.minValue(1));
const count = () => v.pipe(v.number(), v.integer(), v.minValue(0));
const ratio = () => v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const names = () => v.array(v.string());
const filePath = () => v.pipe(v.string("a file path (string)"), v.nonEmpty("a non-empty file path"));
const fn = <T>(what: string) =>
  v.custom<T>((x) => typeof x === "function", `a function (${what})`) as v.GenericSchema<T>;

/** `false` turns a check off; an object tunes it. A lazy choice keeps the object's own issues (a union would not). */
const objectOrFalse = <T>(object: v.GenericSchema<T>): v.GenericSchema<T | false> =>
  v.lazy((input) => (input === false ? v.literal(false) : object)) as v.GenericSchema<T | false>;

const SEVERITY = v.record(v.string(), v.picklist(SEVERITY_OVERRIDES));

// Records over the unions: a member added to the type and not here (or the reverse) fails to compile.
const POLICY_SET = { fail: true, warn: true } satisfies Record<ValidatePolicy, true>;
const POLICIES = Object.keys(POLICY_SET) as ValidatePolicy[];
const FORMAT_SET = { srt: true, vtt: true } satisfies Record<NonNullable<SubtitleExpect["format"]>, true>;
const FORMATS = Object.keys(FORMAT_SET) as NonNullable<SubtitleExpect["format"]>[];
const PROFILE_SET = {
  default: true,
  "youtube-shorts": true,
  "instagram-reels": true,
  tiktok: true,
  podcast: true,
  "ebu-r128": true,
} satisfies Record<ProfileName, true>;
/** Built-in profile names, derived from {@link ProfileName} (`PROFILES` is typed by the same union). */
export const PROFILE_NAMES = Object.keys(PROFILE_SET) as ProfileName[];

/** A list of checks made with `defineCheck()`. */
const DefinedChecksSchema = v.array(
  v.custom<Check>(isDefinedCheck, "a check made by a factory from defineCheck() (call it: myCheck({...}))"),
);

// ---- expectations -----------------------------------------------------------------------------------------

const audioEntries = {
  minDuration: v.optional(nonNegative()),
  maxDuration: v.optional(nonNegative()),
  codecs: v.optional(names()),
  sampleRates: v.optional(v.array(positiveInt())),
  channels: v.optional(v.array(positiveInt())),
  minBitrate: v.optional(nonNegative()),
  maxSize: v.optional(nonNegative()),
  loudness: v.optional(objectOrFalse(v.strictObject({ target: finite(), tolerance: nonNegative() }))),
  truePeakMax: v.optional(finite()),
  audibleMin: v.optional(finite()),
  clipping: v.optional(
    objectOrFalse(
      v.strictObject({ maxFlatFactor: v.optional(nonNegative()), maxFullScaleSamples: v.optional(count()) }),
    ),
  ),
  leadingSilenceMax: v.optional(nonNegative()),
  trailingSilenceMax: v.optional(nonNegative()),
  gapMax: v.optional(nonNegative()),
  silence: v.optional(
    v.strictObject({ noiseDb: v.optional(finite()), minSeconds: v.optional(nonNegative()) }),
  ),
  truncationTolerance: v.optional(nonNegative()),
  analyze: v.optional(v.boolean()),
  severity: v.optional(SEVERITY),
};

const videoEntries = {
  width: v.optional(positiveInt()),
  height: v.optional(positiveInt()),
  maxWidth: v.optional(positiveInt()),
  maxHeight: v.optional(positiveInt()),
  aspect: v.optional(
    v.union([
      v.pipe(v.string(), v.regex(/^\d+(?:\.\d+)?[:/x]\d+(?:\.\d+)?$/, 'an aspect like "9:16"')),
      positive(),
    ]),
  ),
  maxAspectRatio: v.optional(positive()),
  minFps: v.optional(positive()),
  maxFps: v.optional(positive()),
  codecs: v.optional(names()),
  profiles: v.optional(names()),
  pixelFormats: v.optional(names()),
  minBitrate: v.optional(nonNegative()),
  maxBitrate: v.optional(nonNegative()),
  minDuration: v.optional(nonNegative()),
  maxDuration: v.optional(nonNegative()),
  maxSize: v.optional(nonNegative()),
  requireAudio: v.optional(v.boolean()),
  audioCodecs: v.optional(names()),
  audioSampleRates: v.optional(v.array(positiveInt())),
  audioChannels: v.optional(v.array(positiveInt())),
  avTolerance: v.optional(nonNegative()),
  faststart: v.optional(v.boolean()),
  edgeSeconds: v.optional(nonNegative()),
  thorough: v.optional(v.boolean()),
  black: v.optional(
    v.strictObject({ minSeconds: v.optional(nonNegative()), pixelThreshold: v.optional(ratio()) }),
  ),
  freeze: v.optional(
    v.strictObject({ noiseDb: v.optional(finite()), minSeconds: v.optional(nonNegative()) }),
  ),
  severity: v.optional(SEVERITY),
};

const textEntries = {
  minChars: v.optional(count()),
  maxChars: v.optional(count()),
  minWords: v.optional(count()),
  maxWords: v.optional(count()),
  maxLines: v.optional(count()),
  maxLineLength: v.optional(count()),
  minLineLength: v.optional(count()),
  forbidden: v.optional(
    v.array(v.strictObject({ name: v.string(), pattern: v.instance(RegExp, "a RegExp") })),
  ),
  targetDuration: v.optional(positive()),
  wordsPerMinute: v.optional(positive()),
  severity: v.optional(SEVERITY),
};

const subtitleEntries = {
  format: v.optional(v.picklist(FORMATS)),
  maxCharsPerLine: v.optional(positiveInt()),
  maxLines: v.optional(positiveInt()),
  maxCps: v.optional(positive()),
  minCueDuration: v.optional(nonNegative()),
  maxCueDuration: v.optional(nonNegative()),
  minGap: v.optional(nonNegative()),
  syncTolerance: v.optional(nonNegative()),
  pastEndMax: v.optional(nonNegative()),
  minCoverage: v.optional(ratio()),
  werMax: v.optional(nonNegative()),
  severity: v.optional(SEVERITY),
};

/** {@link AudioExpect}. */
export const AudioExpectSchema: v.GenericSchema<AudioExpect> = v.strictObject(audioEntries);
/** {@link VideoExpect}. */
export const VideoExpectSchema: v.GenericSchema<VideoExpect> = v.strictObject(videoEntries);
/** {@link TextExpect}. */
export const TextExpectSchema: v.GenericSchema<TextExpect> = v.strictObject(textEntries);
/** {@link SubtitleExpect}. */
export const SubtitleExpectSchema: v.GenericSchema<SubtitleExpect> = v.strictObject(subtitleEntries);

/** A profile, as `defineProfile()` takes it and a `--profile` file holds it. */
export const ProfileSchema: v.GenericSchema<Profile> = v.strictObject({
  name: v.pipe(v.string("a profile name (string)"), v.nonEmpty("a non-empty profile name")),
  audio: v.optional(AudioExpectSchema),
  video: v.optional(VideoExpectSchema),
  text: v.optional(TextExpectSchema),
  subtitles: v.optional(SubtitleExpectSchema),
});

/** A built-in profile's name or a profile object. */
const ProfileRefSchema: v.GenericSchema<ProfileName | Profile> = v.lazy((input) =>
  typeof input === "string" ? v.picklist(PROFILE_NAMES) : ProfileSchema,
) as v.GenericSchema<ProfileName | Profile>;

const TextSourceSchema: v.GenericSchema<TextSource> = v.lazy((input) => {
  if (typeof input === "string") return v.string();
  if (input && typeof input === "object" && "text" in input) return v.strictObject({ text: v.string() });
  return v.strictObject({ path: filePath() });
}) as v.GenericSchema<TextSource>;

// ---- calls ------------------------------------------------------------------------------------------------

const signalEntry = {
  signal: v.optional(v.instance(AbortSignal, "an AbortSignal")),
  checks: v.optional(DefinedChecksSchema),
};

const validatorEntries = {
  ffprobePath: v.optional(filePath()),
  ffmpegPath: v.optional(filePath()),
  concurrency: v.optional(positiveInt()),
  timeoutMs: v.optional(positive()),
  cacheSize: v.optional(count()),
  maxTextBytes: v.optional(positiveInt()),
  checks: v.optional(DefinedChecksSchema),
};

/** {@link ValidatorOptions}. */
export const ValidatorOptionsSchema: v.GenericSchema<ValidatorOptions> = v.strictObject(validatorEntries);
/** {@link CallOptions}. */
export const CallOptionsSchema: v.GenericSchema<CallOptions> = v.strictObject(signalEntry);
/** {@link SubtitleOptions}. */
export const SubtitleOptionsSchema: v.GenericSchema<SubtitleOptions> = v.strictObject({
  ...signalEntry,
  audio: v.optional(filePath()),
  script: v.optional(TextSourceSchema),
  expect: v.optional(SubtitleExpectSchema),
  audioExpect: v.optional(AudioExpectSchema),
});
/** {@link JobOptions}. */
export const JobOptionsSchema: v.GenericSchema<JobOptions> = v.strictObject({
  ...signalEntry,
  thorough: v.optional(v.boolean()),
  durationTolerance: v.optional(nonNegative()),
});
/** {@link FileOptions}. */
export const FileOptionsSchema: v.GenericSchema<FileOptions> = v.strictObject({
  ...signalEntry,
  profile: v.optional(ProfileRefSchema),
  thorough: v.optional(v.boolean()),
});
/** {@link JobFiles}. */
export const JobFilesSchema: v.GenericSchema<JobFiles> = v.strictObject({
  script: v.optional(TextSourceSchema),
  audio: v.optional(filePath()),
  subtitles: v.optional(filePath()),
  video: v.optional(filePath()),
});
export { ProfileRefSchema, TextSourceSchema };

/** A file path argument. */
export const PathSchema: v.GenericSchema<string> = filePath();

// ---- step checks and the plugin ---------------------------------------------------------------------------

type Picker = (output: any, ctx: StepContext) => unknown;
const stepCheckEntries = {
  path: v.optional(fn<Picker>("output, ctx) => path(s")),
  policy: v.optional(v.picklist(POLICIES)),
  retryable: v.optional(v.boolean()),
};

/** `audio()` options. */
export const AudioCheckSchema: v.GenericSchema<AudioExpect & StepCheckOptions> = v.strictObject({
  ...audioEntries,
  ...stepCheckEntries,
}) as v.GenericSchema<AudioExpect & StepCheckOptions>;
/** `video()` options. */
export const VideoCheckSchema: v.GenericSchema<VideoExpect & StepCheckOptions> = v.strictObject({
  ...videoEntries,
  ...stepCheckEntries,
}) as v.GenericSchema<VideoExpect & StepCheckOptions>;
/** `text()` options. */
export const TextCheckSchema = v.strictObject({
  ...textEntries,
  ...stepCheckEntries,
  text: v.optional(fn<Picker>("(output, ctx) => text source")),
});
/** `subtitles()` options. */
export const SubtitleCheckSchema = v.strictObject({
  ...subtitleEntries,
  ...stepCheckEntries,
  audio: v.optional(fn<Picker>("(output, ctx) => audio path")),
  script: v.optional(fn<Picker>("(output, ctx) => script source")),
});

const isStepCheck = (x: unknown): x is StepCheck =>
  !!x && typeof x === "object" && (x as StepCheck).isTaplineValidateCheck === true;
const CheckListSchema = v.array(
  v.custom<StepCheck | Check>(
    (x) => isStepCheck(x) || isDefinedCheck(x),
    "a check made by audio(), video(), text(), subtitles() or a defineCheck() factory from @tapline/plugin-validate",
  ),
);

/** The `validate` step option: a list of checks, or `{ checks, policy?, retryable? }`. */
export const ValidateStepSchema: v.GenericSchema<ValidateStepOption> = v.lazy((input) =>
  Array.isArray(input)
    ? CheckListSchema
    : v.strictObject({
        checks: CheckListSchema,
        policy: v.optional(v.picklist(POLICIES)),
        retryable: v.optional(v.boolean()),
      }),
) as v.GenericSchema<ValidateStepOption>;

/** What the plugin's options become once checked. */
export interface NormalizedPluginOptions {
  readonly profile: ProfileName | Profile;
  readonly policy: ValidatePolicy;
  readonly retryable: boolean;
  readonly alerts: boolean;
  readonly validator: ValidatorOptions;
}

/** The plugin's options (validator options plus profile, policy, retryable, alerts), normalised. */
export const PluginOptionsSchema = v.pipe(
  v.optional(
    v.strictObject({
      ...validatorEntries,
      profile: v.optional(ProfileRefSchema),
      policy: v.optional(v.picklist(POLICIES)),
      retryable: v.optional(v.boolean()),
      alerts: v.optional(v.boolean()),
    }),
  ),
  v.transform((o): NormalizedPluginOptions => {
    const { profile, policy, retryable, alerts, ...validator } = o ?? {};
    return {
      profile: profile ?? "default",
      policy: policy ?? "fail",
      retryable: retryable ?? true,
      alerts: alerts ?? true,
      validator,
    };
  }),
);

/** Checks `input` against `schema`; throws {@link ValidateOptionsError} naming `subject` and every issue. */
export function parse<T>(schema: v.GenericSchema<T>, input: unknown, subject: string): T {
  const r = checkOptions(schema, input);
  if (r.issues) throw new ValidateOptionsError({ subject, issues: r.issues });
  return r.value as T;
}

/** Checks several arguments of one call; throws one error listing every issue, prefixed by argument name. */
export function parseArgs(subject: string, args: readonly [string, v.GenericSchema, unknown][]): void {
  const issues: OptionIssue[] = [];
  for (const [name, schema, input] of args) {
    const r = checkOptions(schema, input);
    if (r.issues) for (const issue of prefixOptionIssues(name, r.issues)) issues.push(issue);
  }
  if (issues.length > 0) throw new ValidateOptionsError({ subject, issues });
}

/** The entries of each strict schema, for the type test that they match the interfaces' keys. */
export const ENTRIES = {
  audio: audioEntries,
  video: videoEntries,
  text: textEntries,
  subtitles: subtitleEntries,
  validator: validatorEntries,
  stepCheck: stepCheckEntries,
  profile: { name: 0, audio: 0, video: 0, text: 0, subtitles: 0 },
};
