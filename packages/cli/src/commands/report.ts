import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseSince } from "../args.ts";
import { cliError, usage } from "../errors.ts";
import { type Command, defineCommand } from "./command.ts";

const HELP = `Usage: tapline report [--dir <dir>] [--since <time>] [--until <time>] [--out <file>] [--format html|md]

A self-contained quality report of a data folder (@tapline/dashboard's renderReport): runs and success rate,
per-step durations with charts, failure causes and retries, validation findings per file, loudness and
bitrate distributions, GPU energy per run, alerts. HTML is one file with no script and no network.

Options:
  --dir <dir>        the app's data folder (default ./.tapline)
  --since <time>     a duration before now (30m, 24h, 7d) or a date (default 24h)
  --until <time>     the end of the period (default now)
  --out <file>       write the report there (default: print it)
  --format html|md   default html, or md when --out ends in .md
  -h, --help         show this help

Exit status: 0 written, 2 on a usage error, 3 when the data folder is missing.`;

/** `tapline report`: a static quality report. */
export const reportCommand: Command = defineCommand({
  name: "report",
  summary: "a static HTML or Markdown quality report of a period",
  help: HELP,
  dataDir: true,
  since: true,
  options: {
    until: { type: "string" },
    out: { type: "string" },
    format: { type: "string" },
  },
  async run({ values, dir, io, since: from }) {
    const format = values.format ?? (values.out?.endsWith(".md") ? "md" : "html");
    if (format !== "html" && format !== "md")
      throw usage(`tapline report: --format must be html or md, got "${values.format}"`);
    const now = Date.now();
    const since = from ?? parseSince("24h", now);
    const until = values.until === undefined ? now + 1 : parseSince(values.until, now);
    let mod: typeof import("@tapline/dashboard");
    try {
      mod = await import("@tapline/dashboard");
    } catch (error) {
      throw cliError(
        "TAPLINE_ERR_CLI_MODULE",
        `this command needs @tapline/dashboard, which could not be loaded: ${(error as Error).message} (npm install @tapline/dashboard)`,
        { cause: error },
      );
    }
    const text = await mod.renderReport({ dir, since, until, format });
    if (!values.out) {
      io.stdout.write(text);
      return 0;
    }
    const out = resolve(io.cwd, values.out);
    await writeFile(out, text);
    io.stdout.write(
      `report of ${dir} (${new Date(since).toISOString()} → ${new Date(until).toISOString()}) written to ${out}\n`,
    );
    return 0;
  },
});
