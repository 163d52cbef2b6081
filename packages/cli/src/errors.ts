import { createError, isTaplineError, type TaplineError, type TaplineErrorClass } from "@tapline/core";

/** Every error code the CLI raises. */
export type CliErrorCode =
  | "TAPLINE_ERR_CLI_USAGE"
  | "TAPLINE_ERR_CLI_CONFIG"
  | "TAPLINE_ERR_CLI_MODULE"
  | "TAPLINE_ERR_CLI_MODULE_THREW"
  | "TAPLINE_ERR_CLI_NO_DATA"
  | "TAPLINE_ERR_CLI_NO_DURABLE";

/** Exit status of each error code. */
export const EXIT_CODES = {
  TAPLINE_ERR_CLI_USAGE: 2,
  TAPLINE_ERR_CLI_CONFIG: 2,
  TAPLINE_ERR_CLI_MODULE: 2,
  TAPLINE_ERR_CLI_NO_DATA: 3,
  // tapline resume/approve of an app without @tapline/plugin-durable: fix the config (like a bad config).
  TAPLINE_ERR_CLI_NO_DURABLE: 2,
  // A bug in the user's module (its pipeline function threw), not a usage error and not a failed run.
  TAPLINE_ERR_CLI_MODULE_THREW: 4,
} as const satisfies Record<CliErrorCode, number>;

/**
 * Exit status of the typed errors of other packages that a command lets through (their message already says
 * what failed and what to do); any other typed error is 1. `app.resume()` of an unknown run is "no data" (3),
 * an approval of a run that is not suspended, or of a pipeline the module does not build, a usage error (2);
 * a run another resumer holds is 1 (plugin-durable's lock error), like a failed run.
 */
export const FOREIGN_EXIT_CODES: Readonly<Record<string, number>> = {
  TAPLINE_ERR_RUN_NOT_FOUND: 3,
  TAPLINE_ERR_RUN_NOT_SUSPENDED: 2,
  TAPLINE_ERR_RESUME_PIPELINE: 2,
};

/** The whole message: each site words its own (what failed and what to do). */
type Params = { message: string };

const made = <C extends CliErrorCode>(code: C, hint: string): TaplineErrorClass<C, Params> =>
  createError(code, "CliError", (p: Params) => p.message, hint);

/** One class per code, made by core's `createError`; `main` maps the code to the exit status. */
const CLI_ERRORS = {
  TAPLINE_ERR_CLI_USAGE: made("TAPLINE_ERR_CLI_USAGE", "see tapline <command> --help"),
  TAPLINE_ERR_CLI_CONFIG: made("TAPLINE_ERR_CLI_CONFIG", "fix the file and field named"),
  TAPLINE_ERR_CLI_MODULE: made(
    "TAPLINE_ERR_CLI_MODULE",
    "fix the module as the message says, or install the package named",
  ),
  TAPLINE_ERR_CLI_MODULE_THREW: made("TAPLINE_ERR_CLI_MODULE_THREW", "fix the module at the frames shown"),
  TAPLINE_ERR_CLI_NO_DATA: made("TAPLINE_ERR_CLI_NO_DATA", "pass --dir: the dir given to createTapline"),
  TAPLINE_ERR_CLI_NO_DURABLE: made(
    "TAPLINE_ERR_CLI_NO_DURABLE",
    "add durable to the config's plugins (plugins: { durable: {} }) or durable() to the module's app",
  ),
} as const;

/**
 * A command could not do its work for a reason the user can fix: a bad option, an unreadable config, a
 * module that does not export a pipeline, a data folder with nothing in it. `EXIT_CODES[code]` is what
 * `tapline` exits with; the message says what failed and what to do. Test with core's guard:
 * `isTaplineError(e, "TAPLINE_ERR_CLI_USAGE")`.
 */
export type CliError<C extends CliErrorCode = CliErrorCode> = TaplineError<C>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_CLI_USAGE: CliError<"TAPLINE_ERR_CLI_USAGE">;
    TAPLINE_ERR_CLI_CONFIG: CliError<"TAPLINE_ERR_CLI_CONFIG">;
    TAPLINE_ERR_CLI_MODULE: CliError<"TAPLINE_ERR_CLI_MODULE">;
    TAPLINE_ERR_CLI_MODULE_THREW: CliError<"TAPLINE_ERR_CLI_MODULE_THREW">;
    TAPLINE_ERR_CLI_NO_DATA: CliError<"TAPLINE_ERR_CLI_NO_DATA">;
    TAPLINE_ERR_CLI_NO_DURABLE: CliError<"TAPLINE_ERR_CLI_NO_DURABLE">;
  }
}

/** Makes the CLI error of a code. */
export function cliError<C extends CliErrorCode>(
  code: C,
  message: string,
  options?: { cause?: unknown },
): CliError<C> {
  const Made = CLI_ERRORS[code] as TaplineErrorClass<C, Params>;
  return new Made({ message }, options);
}

const CODES = Object.keys(EXIT_CODES) as CliErrorCode[];

/** True for an error of one of the CLI's codes (core's `isTaplineError`, so any copy of this package). */
export const isCliError = (e: unknown): e is CliError => isTaplineError(e, CODES);

/** A usage error (exit status 2). */
export const usage = (message: string): CliError<"TAPLINE_ERR_CLI_USAGE"> =>
  cliError("TAPLINE_ERR_CLI_USAGE", message);
