import { isTaplineError, redactSecrets } from "@tapline/core";
import { alertsCommand } from "./commands/alerts.ts";
import type { Command } from "./commands/command.ts";
import { dashboardCommand } from "./commands/dashboard.ts";
import { metricsCommand } from "./commands/metrics.ts";
import { enqueueCommand, queueCommand, workerCommand } from "./commands/queue.ts";
import { reportCommand } from "./commands/report.ts";
import { approveCommand, resumeCommand } from "./commands/resume.ts";
import { runCommand } from "./commands/run.ts";
import { runsCommand } from "./commands/runs.ts";
import { statusCommand } from "./commands/status.ts";
import { validateCommand } from "./commands/validate.ts";
import { EXIT_CODES, FOREIGN_EXIT_CODES, isCliError } from "./errors.ts";
import { type CliIo, palette, processIo } from "./io.ts";
import { VERSION } from "./version.ts";

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  runsCommand,
  resumeCommand,
  approveCommand,
  metricsCommand,
  statusCommand,
  alertsCommand,
  validateCommand,
  dashboardCommand,
  reportCommand,
  workerCommand,
  enqueueCommand,
  queueCommand,
];

function help(): string {
  let width = 0;
  for (const c of COMMANDS) width = Math.max(width, c.name.length);
  return `Usage: tapline <command> [options]

Runs Tapline pipelines and reads what a Tapline app left in its data folder (it need not be running).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Options:
  -h, --help     show this help (tapline <command> --help for a command's)
  -v, --version  print the version

Exit status: 0 success, 1 failure (a run failed, a file is invalid, the app is not healthy),
2 usage error (also a bad config or module), 3 no data where the command looked (also an unknown run id),
4 the module's pipeline function threw (tapline run, resume, approve).`;
}

/**
 * Runs the `tapline` command line and resolves to the exit status; never throws and never calls
 * `process.exit`, so it can run in-process (tests, other tools).
 *
 * @example
 * process.exitCode = await main(["status", "--dir", ".tapline", "--json"]);
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    if (name === "help" && rest[0]) return main([rest[0], "--help"], io);
    (name === undefined ? io.stderr : io.stdout).write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "-v" || name === "--version") {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  const c = palette(io.stderr, io.env);
  if (!command) {
    io.stderr.write(
      `${c.red("tapline:")} unknown command "${name}"; commands: ${COMMANDS.map((x) => x.name).join(", ")} (tapline --help)\n`,
    );
    return 2;
  }
  // Messages quote what failed (a module's error, a plugin's, a URL): secrets in them are redacted.
  const fail = (head: string, text: string) => void io.stderr.write(`${head} ${redactSecrets(text)}\n`);
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (isCliError(error)) {
      fail(
        c.red("error:"),
        error.message.startsWith("tapline") ? error.message : `tapline ${name}: ${error.message}`,
      );
      return EXIT_CODES[error.code];
    }
    // A typed Tapline error already says what failed and what to do; anything else is a bug: show its stack.
    if (isTaplineError(error)) {
      fail(c.red("error:"), `tapline ${name}: ${error.message} [${error.code}]`);
      return FOREIGN_EXIT_CODES[error.code] ?? 1;
    }
    fail(c.red(`tapline ${name}: unexpected error:`), (error as Error)?.stack ?? String(error));
    return 1;
  }
}
