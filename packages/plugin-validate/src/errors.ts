/**
 * Errors of `@tapline/plugin-validate`. Bad media never throws (it gives a failed validation with findings);
 * these errors mean misuse: a missing ffmpeg, bad options, an unknown profile.
 */
import type { OptionIssue } from "@tapline/core";
import { OptionsError, TaplineError } from "@tapline/core/kit";

/** Every error code this package throws. */
export type ValidateErrorCode =
  | "TAPLINE_ERR_VALIDATE_BINARY_NOT_FOUND"
  | "TAPLINE_ERR_VALIDATE_OPTIONS"
  | "TAPLINE_ERR_VALIDATE_PROFILE";

/** ffmpeg or ffprobe could not be found (option, `FFMPEG_PATH`/`FFPROBE_PATH`, then `PATH` were searched). */
export class BinaryNotFoundError extends TaplineError {
  readonly isBinaryNotFoundError = true;
  /** `ffmpeg` or `ffprobe`. */
  readonly binary: string;
  /** Where it was looked for, in order. */
  readonly searched: readonly string[];
  constructor(binary: string, searched: readonly string[]) {
    const env = binary === "ffprobe" ? "FFPROBE_PATH" : "FFMPEG_PATH";
    super(
      "TAPLINE_ERR_VALIDATE_BINARY_NOT_FOUND",
      `${binary} not found (searched: ${searched.join(", ")}). Install FFmpeg (Debian/Ubuntu: ` +
        `"apt-get install ffmpeg"; macOS: "brew install ffmpeg"), or point ${env} or the ` +
        `"${binary}Path" option at the binary.`,
    );
    this.name = "BinaryNotFoundError";
    this.binary = binary;
    this.searched = searched;
  }
}

/** True for a {@link BinaryNotFoundError}, whichever copy of this package made it. */
export const isBinaryNotFoundError = (e: unknown): e is BinaryNotFoundError =>
  !!e && e instanceof Error && "isBinaryNotFoundError" in e;

/**
 * Options or arguments given to a validator, a check factory, a profile or the plugin are wrong. An
 * `OptionsError` of core (so `isTaplineError(, "TAPLINE_ERR_OPTIONS")` is true too) with its own code; `subject` names the call
 * (`text()`, `validateAudio()`, `defineProfile()`, a profile file) and `issues` lists each problem with its
 * path, the value given, what was expected and the closest known option.
 */
export class ValidateOptionsError extends OptionsError {
  readonly isValidateOptionsError = true;
  constructor(subject: string, issues: readonly OptionIssue[]) {
    super(subject, issues, "TAPLINE_ERR_VALIDATE_OPTIONS");
    this.name = "ValidateOptionsError";
  }
}

/** True for a {@link ValidateOptionsError}. */
export const isValidateOptionsError = (e: unknown): e is ValidateOptionsError =>
  !!e && e instanceof Error && "isValidateOptionsError" in e;

/** A profile name that is neither built in nor registered. */
export class UnknownProfileError extends TaplineError {
  readonly isUnknownProfileError = true;
  readonly profile: string;
  constructor(profile: string, known: readonly string[]) {
    super(
      "TAPLINE_ERR_VALIDATE_PROFILE",
      `unknown validation profile "${profile}" (known: ${known.join(", ")}); pass a profile object made with defineProfile() instead`,
    );
    this.name = "UnknownProfileError";
    this.profile = profile;
  }
}

/** True for an {@link UnknownProfileError}. */
export const isUnknownProfileError = (e: unknown): e is UnknownProfileError =>
  !!e && e instanceof Error && "isUnknownProfileError" in e;
