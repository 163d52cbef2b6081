import { TaplineError } from "@tapline/core/kit";

/** Every error code the CLI raises. */
export type CliErrorCode =
  | "TAPLINE_ERR_CLI_USAGE"
  | "TAPLINE_ERR_CLI_CONFIG"
  | "TAPLINE_ERR_CLI_MODULE"
  | "TAPLINE_ERR_CLI_MODULE_THREW"
  | "TAPLINE_ERR_CLI_NO_DATA";

/** Exit status of each error code. */
export const EXIT_CODES = {
  TAPLINE_ERR_CLI_USAGE: 2,
  TAPLINE_ERR_CLI_CONFIG: 2,
  TAPLINE_ERR_CLI_MODULE: 2,
  TAPLINE_ERR_CLI_NO_DATA: 3,
  // A bug in the user's module (its pipeline function threw), not a usage error and not a failed run.
  TAPLINE_ERR_CLI_MODULE_THREW: 4,
} as const satisfies Record<CliErrorCode, number>;

/**
 * A command could not do its work for a reason the user can fix: a bad option, an unreadable config, a
 * module that does not export a pipeline, a data folder with nothing in it. `exitCode` is what `tapline`
 * exits with; the message says what failed and what to do.
 */
export class CliError extends TaplineError {
  readonly isCliError = true;
  override readonly code: CliErrorCode;
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "CliError";
    this.code = code;
    this.exitCode = EXIT_CODES[code];
  }
}

/** True for a {@link CliError} from any copy of this package. */
export const isCliError = (e: unknown): e is CliError => !!e && e instanceof Error && "isCliError" in e;

/** A usage error (exit status 2). */
export const usage = (message: string): CliError => new CliError("TAPLINE_ERR_CLI_USAGE", message);
