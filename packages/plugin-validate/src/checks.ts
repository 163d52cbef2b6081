import type { StepContext } from "@tapline/core";
import type { AudioExpect } from "./audio.ts";
import type { Check } from "./define-check.ts";
import {
  AudioCheckSchema,
  parse,
  SubtitleCheckSchema,
  TextCheckSchema,
  VideoCheckSchema,
} from "./options.ts";
import type { SubtitleExpect } from "./subtitles.ts";
import type { TextExpect, TextSource } from "./text.ts";
import type { FileKind } from "./types.ts";
import type { VideoExpect } from "./video.ts";

/** What to do when a check finds an error. */
export type ValidatePolicy = "fail" | "warn";

/** Picks the file(s) to check from the step's output; return nothing to use the declared artifacts. */
export type PathPicker = (output: any, ctx: StepContext) => string | readonly string[] | undefined;

/** Fields every step check accepts besides its expectations. */
export interface StepCheckOptions {
  /** Files to check, picked from the output. Default: artifacts declared with `ctx.artifact()` of this kind. */
  readonly path?: PathPicker;
  /** `fail` (default from the plugin): an error finding fails the attempt; `warn`: findings only. */
  readonly policy?: ValidatePolicy;
  /** Whether a failed validation may be retried (default from the plugin, true): a new attempt regenerates the file. */
  readonly retryable?: boolean;
}

/** A check to run on a step's output; made by {@link audio}, {@link video}, {@link text}, {@link subtitles}. */
export interface StepCheck {
  readonly kind: FileKind;
  readonly expect: AudioExpect | VideoExpect | TextExpect | SubtitleExpect;
  readonly path?: PathPicker;
  readonly policy?: ValidatePolicy;
  readonly retryable?: boolean;
  /** Subtitles: the audio they belong to. */
  readonly audio?: PathPicker;
  /** Subtitles: the script for the word error rate; text: the text to check. */
  readonly script?: (output: any, ctx: StepContext) => TextSource | undefined;
  /** Brand: made by a factory of this package (any copy). */
  readonly isTaplineValidateCheck: true;
}

/**
 * The `validate` step option: a list of checks, or the list with a policy for all of them. A check made with
 * `defineCheck()` joins the list's built-in check of its kind (or, without one, the profile's expectations
 * for that kind) and runs on the same files.
 */
export type ValidateStepOption =
  | readonly (StepCheck | Check)[]
  | {
      readonly checks: readonly (StepCheck | Check)[];
      readonly policy?: ValidatePolicy;
      readonly retryable?: boolean;
    };

function split<T extends object>(
  kind: FileKind,
  options: T & StepCheckOptions,
  extra: Partial<StepCheck> = {},
): StepCheck {
  const { path, policy, retryable, ...expect } = options as StepCheckOptions & Record<string, unknown>;
  delete expect.audio;
  delete expect.script;
  return {
    kind,
    expect: expect as StepCheck["expect"],
    ...(path && { path }),
    ...(policy && { policy }),
    ...(retryable !== undefined && { retryable }),
    ...extra,
    isTaplineValidateCheck: true,
  };
}

/**
 * Checks the step's audio files (artifacts of kind `audio`, or `path(output)`). Options are checked here,
 * once: an unknown or mistyped one throws `ValidateOptionsError` naming it and the closest known option.
 *
 * @example
 * .step("tts", tts, { validate: [audio({ maxDuration: 60, loudness: { target: -16, tolerance: 1 } })] })
 */
export function audio(options: AudioExpect & StepCheckOptions = {}): StepCheck {
  return split("audio", parse(AudioCheckSchema, options, "audio()"));
}

/**
 * Checks the step's video files (artifacts of kind `video`, or `path(output)`).
 *
 * @example
 * .step("render", render, { validate: [video({ ...PROFILES.tiktok.video, thorough: true })] })
 */
export function video(options: VideoExpect & StepCheckOptions = {}): StepCheck {
  return split("video", parse(VideoCheckSchema, options, "video()"));
}

/**
 * Checks the step's script: `text(output)` when given, else artifacts of kind `text`, else a string output.
 *
 * @example
 * .step("script", writeScript, { validate: [text({ maxWords: 150 })] })
 */
export function text(
  options: TextExpect &
    StepCheckOptions & { readonly text?: (output: any, ctx: StepContext) => TextSource | undefined } = {},
): StepCheck {
  const { text: pick, ...rest } = parse(TextCheckSchema, options, "text()") as typeof options;
  return split("text", rest, pick ? { script: pick } : {});
}

/**
 * Checks the step's subtitles; `audio(output)` enables coverage and sync checks (default: an audio artifact
 * of the same step), `script(output)` the word error rate.
 *
 * @example
 * .step("align", align, { validate: [subtitles({ audio: (o) => o.audio, script: (_o, ctx) => ({ text: ctx.outputs.script }) })] })
 */
export function subtitles(
  options: SubtitleExpect &
    StepCheckOptions & {
      readonly audio?: PathPicker;
      readonly script?: (output: any, ctx: StepContext) => TextSource | undefined;
    } = {},
): StepCheck {
  const parsed = parse(SubtitleCheckSchema, options, "subtitles()") as typeof options;
  return split("subtitles", parsed, {
    ...(parsed.audio && { audio: parsed.audio }),
    ...(parsed.script && { script: parsed.script }),
  });
}
