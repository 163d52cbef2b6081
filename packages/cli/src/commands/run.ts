import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { RunReport } from "@tapline/core";
import type { RunConfig } from "../config.ts";
import { usage } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { serialiseReport } from "../report.ts";
import { type Command, defineCommand } from "./command.ts";
import { loadPipeline, type PipelineModule } from "./module.ts";
import { formatReports, observe } from "./run-report.ts";

const HELP = `Usage: tapline run <module> [--config <file>] [--input <json> | --input-file <file>] [--dir <dir>] [--json]

Runs a pipeline module, printing progress (stderr) and the run report (stdout).

The module (.js, .mjs, or .ts on Node >= 22.18) exports either
  pipeline (or default): (app, { config }) => Pipeline     the CLI creates the app with the config's plugins
or
  app and pipeline: an app and a pipeline built on it      the config may not list plugins then
and optionally input (one run) or inputs (an array: one run each).

The config (YAML or JSON):
  dir: .tapline                  # data folder, relative to the config file
  plugins:                       # in registration order; short names or packages or ./files
    retry: { breakers: { tts: { threshold: 0.5 } } }
    metrics: {}
  input: { id: lighthouse }      # or inputs: [...]
  concurrency: 2                 # runs in flight with inputs

Options:
  --config <file>      the YAML/JSON config
  --input <json>       the run's input as JSON (overrides the config and the module)
  --input-file <file>  the run's input from a JSON file
  --dir <dir>          the data folder (overrides the config's dir)
  --json               print the run reports as one JSON document (an array) on stdout
  --quiet              no progress lines
  -h, --help           show this help

Exit status: 0 when every run succeeded, 1 when one failed or was cancelled, 2 on a usage, config or module
error, 4 when the module's pipeline function threw.

Without --config the app has no plugins: a step option a plugin provides (retry, validate, gpu) is then an
error when the pipeline is built.`;

/** `tapline run <module>`. */
export const runCommand: Command = defineCommand({
  name: "run",
  summary: "run a pipeline module with a YAML/JSON plugin config",
  help: HELP,
  options: {
    config: { type: "string", short: "c" },
    input: { type: "string" },
    "input-file": { type: "string" },
    // The data folder the app writes (it need not exist yet), so not the readers' checked --dir.
    dir: { type: "string" },
    quiet: { type: "boolean", short: "q" },
  },
  positionals: true,
  async run({ values, positionals, io, print }) {
    if (positionals.length !== 1)
      throw usage(
        `tapline run: expected one module, got ${positionals.length} (tapline run <module>; see --help)`,
      );
    if (values.input !== undefined && values["input-file"] !== undefined)
      throw usage("tapline run: give --input or --input-file, not both");
    // Read before the app exists: a bad --input must not leave an app (and its samplers) behind.
    const given = await givenInput(values, io);
    const { app, pipeline, config, module } = await loadPipeline(io, {
      module: positionals[0]!,
      config: values.config,
      dir: values.dir,
    });
    const inputs = given ?? defaultInputs(config, module);

    if (!values.quiet) observe(app.hooks, io);
    const concurrency = config.concurrency ?? 1;
    const reports: RunReport[] = new Array(inputs.length);
    try {
      let next = 0;
      const worker = async () => {
        while (next < inputs.length) {
          const i = next++;
          reports[i] = await pipeline.run(inputs[i], { ...(io.signal && { signal: io.signal }) });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
    } finally {
      await app.close();
    }
    return print(
      reports.every((r) => r.status === "success") ? 0 : 1,
      () => reports.map(serialiseReport),
      () => formatReports(reports, io),
    );
  },
});

/** `--input` or `--input-file`, parsed; undefined when neither is given. */
async function givenInput(
  values: { input?: string; "input-file"?: string },
  io: CliIo,
): Promise<unknown[] | undefined> {
  const parse = (text: string, where: string) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw usage(`tapline run: ${where} is not valid JSON: ${(error as Error).message}`);
    }
  };
  if (values.input !== undefined) return [parse(values.input, "--input")];
  if (values["input-file"] !== undefined) {
    const file = resolve(io.cwd, values["input-file"]);
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw usage(`tapline run: cannot read --input-file ${file} (${error.code})`);
    });
    return [parse(text, file)];
  }
  return undefined;
}

/** The config's inputs, else the module's. */
function defaultInputs(config: RunConfig, mod: PipelineModule): unknown[] {
  if (config.inputs !== undefined) return [...config.inputs];
  if (config.input !== undefined) return [config.input];
  if (Array.isArray(mod.inputs)) return [...mod.inputs];
  return [mod.input];
}
