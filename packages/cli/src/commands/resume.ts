import type { RunReport } from "@tapline/core";
import { cliError, usage } from "../errors.ts";
import { serialiseReport } from "../report.ts";
import { type Command, defineCommand } from "./command.ts";
import { loadPipeline } from "./module.ts";
import { formatReports, observe } from "./run-report.ts";

/** The name `durable()` registers under (the plugin's `name`). */
const DURABLE_PLUGIN = "@tapline/plugin-durable";

const COMMON_OPTIONS = `  --config <file>      the YAML/JSON config, as tapline run takes it; its plugins must include durable
  --dir <dir>          the data folder (overrides the config's dir): where the run was saved
  --json               print the run report as one JSON document (an array of one report)
  --quiet              no progress lines
  -h, --help           show this help`;

const EXIT = `Exit status: 0 when the run succeeded, 1 when it failed, was cancelled or suspended again, or another
resumer holds it (TAPLINE_ERR_RUN_LOCKED); 2 on a usage, config or module error, when the app has no
@tapline/plugin-durable (TAPLINE_ERR_CLI_NO_DURABLE), when the module does not build the run's pipeline, or`;

const RESUME_HELP = `Usage: tapline resume <runId> <module> [--config <file>] [--dir <dir>] [--json]

Continues a saved durable run that failed, was cancelled, or whose process died: the module is loaded with
its config exactly as tapline run loads it, then app.resume(runId). Every unit whose saved result still
holds (same input, files unchanged) is replayed, not executed; the others run. The report marks replayed
units (success ↺) and says what replaying saved. A run that succeeded returns its report, executing nothing.

The app must have @tapline/plugin-durable: list it in the config (plugins: { durable: {} }) or add durable()
to the module's own app. Find run ids with tapline runs.

Options:
${COMMON_OPTIONS}

${EXIT}
(approve) the run is not suspended; 3 when the store has no such run; 4 when the module's pipeline
function threw.`;

const APPROVE_HELP = `Usage: tapline approve <runId> <module> [--config <file>] [--data <json>] [--dir <dir>] [--json]

Approves a suspended durable run (one whose unit called ctx.suspend(), e.g. to wait for a person to read a
script): loads the module with its config exactly as tapline run does, then
app.resume(runId, { resumeData }). The suspended unit runs again with ctx.resumeData set to --data (default
{"approved":true}); the units before it are replayed.

Options:
  --data <json>        what the suspended unit gets as ctx.resumeData (JSON; default {"approved":true})
${COMMON_OPTIONS}

Find suspended runs with tapline runs --status suspended.

${EXIT}
the run is not suspended (TAPLINE_ERR_RUN_NOT_SUSPENDED); 3 when the store has no such run
(TAPLINE_ERR_RUN_NOT_FOUND); 4 when the module's pipeline function threw.`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  dir: { type: "string" },
  quiet: { type: "boolean", short: "q" },
} as const;

/** `tapline resume <runId> <module>`. */
export const resumeCommand: Command = defineCommand({
  name: "resume",
  summary: "continue a failed, cancelled or interrupted durable run, replaying what succeeded",
  help: RESUME_HELP,
  options: OPTIONS,
  positionals: true,
  run: ({ values, positionals, io, print }) =>
    resumeRun("resume", { ...values, positionals }, undefined, io, print),
});

/** `tapline approve <runId> <module> [--data JSON]`. */
export const approveCommand: Command = defineCommand({
  name: "approve",
  summary: "approve a suspended durable run (its suspended unit gets --data)",
  help: APPROVE_HELP,
  options: { ...OPTIONS, data: { type: "string" } },
  positionals: true,
  run({ values, positionals, io, print }) {
    let data: unknown = { approved: true };
    if (values.data !== undefined) {
      try {
        data = JSON.parse(values.data);
      } catch (error) {
        throw usage(`tapline approve: --data is not valid JSON: ${(error as Error).message}`);
      }
    }
    return resumeRun("approve", { ...values, positionals }, { data }, io, print);
  },
});

type Print = (code: number, data: () => unknown, text: () => string) => number;

async function resumeRun(
  command: "resume" | "approve",
  values: { config?: string; dir?: string; quiet?: boolean; positionals: readonly string[] },
  approval: { data: unknown } | undefined,
  io: Parameters<Command["run"]>[1],
  print: Print,
): Promise<number> {
  const { positionals } = values;
  if (positionals.length !== 2)
    throw usage(
      `tapline ${command}: expected a run id and a module, got ${positionals.length} argument(s) (tapline ${command} <runId> <module>; see --help)`,
    );
  const [runId, module] = positionals as [string, string];
  const { app } = await loadPipeline(io, { module, config: values.config, dir: values.dir });
  let report: RunReport;
  try {
    if (!app.plugins.some((p) => p.name === DURABLE_PLUGIN))
      throw cliError(
        "TAPLINE_ERR_CLI_NO_DURABLE",
        `the app of ${module} has no @tapline/plugin-durable, so it has no saved runs to ${command}: ${
          values.config === undefined
            ? "pass --config <file> with the plugin listed (plugins: { durable: {} })"
            : `add it to the plugins of ${values.config} (plugins: { durable: {} })`
        }, or add durable() to the module's own app`,
      );
    if (!values.quiet) observe(app.hooks, io);
    report = await app.resume(runId, {
      ...(approval && { resumeData: approval.data }),
      ...(io.signal && { signal: io.signal }),
    });
  } finally {
    await app.close();
  }
  return print(
    report.status === "success" ? 0 : 1,
    () => [serialiseReport(report)],
    () => formatReports([report], io),
  );
}
