import type { CliIo } from "../io.ts";

/** A `tapline` sub-command. */
export interface Command {
  readonly name: string;
  /** One line for `tapline --help`. */
  readonly summary: string;
  /** The full `tapline <name> --help` text. */
  readonly help: string;
  /** Runs the command; resolves to the exit status. Throws a `CliError` for usage and data errors. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}
