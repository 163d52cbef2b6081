import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { parseSince } from "../args.ts";
import { cliError, usage } from "../errors.ts";
import { json } from "../format.ts";
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

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options of every command: `--help` (handled here) and `--json` (honoured by {@link Invocation.print}). */
const COMMON = { help: { type: "boolean", short: "h" }, json: { type: "boolean" } } as const;
/** Added by `since: true`: read into {@link Invocation.since}. */
const SINCE = { since: { type: "string" } } as const;
/** Added by `dataDir: true`: resolved and checked into {@link Invocation.dir}. */
const DIR = { dir: { type: "string" } } as const;

/** Parses strictly: unknown options and missing values are usage errors (exit 2). */
function parseArgv<const T extends Options>(
  command: string,
  argv: readonly string[],
  options: T,
  allowPositionals: boolean,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (error) {
    const message = (error as Error).message.replace(
      /\. To specify a positional argument starting with a '-'.*$/s,
      "",
    );
    throw usage(`tapline ${command}: ${message} (see tapline ${command} --help)`);
  }
}

/** Resolves `--dir` (default `./.tapline`) from the cwd and checks it exists: a typo must not look like "no data". */
export async function dataDir(raw: string | undefined, io: CliIo): Promise<string> {
  const dir = resolve(io.cwd, raw ?? ".tapline");
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw cliError(
      "TAPLINE_ERR_CLI_NO_DATA",
      `no Tapline data folder at ${dir}${raw === undefined ? " (pass --dir <folder>: the dir given to createTapline)" : ""}`,
    );
  }
  return dir;
}

/** What a command's body gets once the shared prologue has run. */
export interface Invocation<T extends Options, D extends boolean> {
  /** The parsed options (the command's own, plus `help` and `json`). */
  readonly values: ReturnType<typeof parseArgv<T & typeof COMMON>>["values"];
  readonly positionals: readonly string[];
  readonly io: CliIo;
  /** `--since` as epoch ms (with `since: true`; undefined when not given). */
  readonly since: number | undefined;
  /** The data folder, `--dir` (default `./.tapline`) resolved and checked to exist (with `dataDir: true`). */
  readonly dir: D extends true ? string : undefined;
  /** Writes `data()` as one JSON document with `--json`, else `text()`; returns `code`, the exit status. */
  print(code: number, data: () => unknown, text: () => string): number;
}

/** What a command declares; {@link defineCommand} turns it into a {@link Command}. */
export interface CommandSpec<T extends Options, D extends boolean> {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  /** The command's own options; `--help` and `--json` are added to every command. */
  readonly options?: T;
  /** Whether it takes positional arguments (default false: one is a usage error). */
  readonly positionals?: boolean;
  /** Adds `--since <time>`: a duration ago or a date, parsed before the data folder is looked at. */
  readonly since?: boolean;
  /** Adds `--dir <dir>`: the data folder the command reads; a missing one is exit 3. */
  readonly dataDir?: D;
  run(invocation: Invocation<T, D>): Promise<number>;
}

/**
 * Makes a command from its spec with the prologue every command shares: strict parsing (exit 2 on a bad
 * option), `--help`, then `--since` (a usage error, 2, is reported before missing data, 3), then the data
 * folder, and `--json` or text output through `print`. Errors thrown by `run` reach `main`, which maps a
 * `CliError` to its exit status.
 *
 * @example
 * export const statusCommand = defineCommand({ name: "status", summary, help: HELP, dataDir: true,
 *   async run({ dir, print }) { const s = await read(dir); return print(0, () => s, () => format(s)); } });
 */
export function defineCommand<
  const T extends Options = Record<never, never>,
  const D extends boolean = false,
>(spec: CommandSpec<T, D>): Command {
  const options = {
    ...spec.options,
    ...(spec.since && SINCE),
    ...(spec.dataDir && DIR),
    ...COMMON,
  } as T & typeof COMMON;
  return {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    async run(argv, io) {
      const parsed = parseArgv(spec.name, argv, options, spec.positionals ?? false);
      const values = parsed.values as Invocation<T, D>["values"];
      // The prologue's own options, read without the command's generic type.
      const flags = parsed.values as { help?: boolean; json?: boolean; since?: string; dir?: string };
      if (flags.help) {
        io.stdout.write(`${spec.help}\n`);
        return 0;
      }
      const since = spec.since && flags.since !== undefined ? parseSince(flags.since) : undefined;
      const dir = (spec.dataDir ? await dataDir(flags.dir, io) : undefined) as Invocation<T, D>["dir"];
      const print = (code: number, data: () => unknown, text: () => string) => {
        io.stdout.write(flags.json ? json(data()) : text());
        return code;
      };
      return spec.run({ values, positionals: parsed.positionals, io, since, dir, print });
    },
  };
}
