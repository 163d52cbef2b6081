/**
 * Errors of `@tapline/plugin-validate`, each made by core's `createError` from one line. Bad media never throws
 * (it gives a failed validation with findings); these errors mean misuse: a missing ffmpeg, bad options, an
 * unknown profile. Check them with `isTaplineError(e, code)`; the codes are stable.
 */
import { createError, type OptionIssue } from "@tapline/core";
import { formatOptionIssues } from "@tapline/core/kit";

/** ffmpeg or ffprobe could not be found (option, `FFMPEG_PATH`/`FFPROBE_PATH`, then `PATH` were searched). */
export const BinaryNotFoundError = createError(
  "TAPLINE_ERR_VALIDATE_BINARY_NOT_FOUND",
  "BinaryNotFoundError",
  (p: {
    /** `ffmpeg` or `ffprobe`. */
    binary: "ffmpeg" | "ffprobe";
    /** Where it was looked for, in order. */
    searched: readonly string[];
  }) =>
    `${p.binary} not found (searched: ${p.searched.join(", ")}). Install FFmpeg (Debian/Ubuntu: "apt-get install ffmpeg"; macOS: "brew install ffmpeg"), or point ${p.binary === "ffprobe" ? "FFPROBE_PATH" : "FFMPEG_PATH"} or the "${p.binary}Path" option at the binary.`,
  "install FFmpeg, or set FFMPEG_PATH/FFPROBE_PATH or the ffmpegPath/ffprobePath option",
);
export type BinaryNotFoundError = InstanceType<typeof BinaryNotFoundError>;

/**
 * Options or arguments given to a validator, a check factory, `defineCheck()`, a profile or a standalone call
 * are wrong; `subject` names the call (`text()`, `validateAudio()`, `defineProfile()`, a check) and `issues`
 * lists each problem with its path, the value given, what was expected and the closest known option.
 */
export const ValidateOptionsError = createError(
  "TAPLINE_ERR_VALIDATE_OPTIONS",
  "ValidateOptionsError",
  (p: { subject: string; issues: readonly OptionIssue[] }) =>
    `${p.subject}: invalid options:\n${formatOptionIssues(p.issues)}`,
  "fix each listed option (an unknown key names the closest known one)",
);
export type ValidateOptionsError = InstanceType<typeof ValidateOptionsError>;

/** A profile name that is neither built in nor registered. */
export const UnknownProfileError = createError(
  "TAPLINE_ERR_VALIDATE_PROFILE",
  "UnknownProfileError",
  (p: { profile: string; known: readonly string[] }) =>
    `unknown validation profile "${p.profile}" (known: ${p.known.join(", ")}); pass a profile object made with defineProfile() instead`,
  "use a built-in profile name, or pass a profile object made with defineProfile()",
);
export type UnknownProfileError = InstanceType<typeof UnknownProfileError>;

/** Every error code this package throws. */
export type ValidateErrorCode =
  | typeof BinaryNotFoundError.code
  | typeof ValidateOptionsError.code
  | typeof UnknownProfileError.code;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_VALIDATE_BINARY_NOT_FOUND: BinaryNotFoundError;
    TAPLINE_ERR_VALIDATE_OPTIONS: ValidateOptionsError;
    TAPLINE_ERR_VALIDATE_PROFILE: UnknownProfileError;
  }
}
