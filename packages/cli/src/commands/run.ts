import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createConsoleLogger,
  createTapline,
  describeError,
  isTaplineError,
  type Pipeline,
  type RunReport,
  redactSecrets,
  type StepContext,
  type StepReport,
  type TaplineApp,
  type TaplineHooks,
} from "@tapline/core";
import { instantiatePlugins, loadConfig, pluginEntries, type RunConfig } from "../config.ts";
import { type CliError, cliError, isCliError, usage } from "../errors.ts";
import { clip, duration } from "../format.ts";
import { type CliIo, palette, table } from "../io.ts";
import { serialiseReport } from "../report.ts";
import { type Command, defineCommand } from "./command.ts";

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

/** What a pipeline module may export. */
interface PipelineModule {
  pipeline?: unknown;
  default?: unknown;
  app?: unknown;
  input?: unknown;
  inputs?: unknown;
}

type AnyPipeline = Pipeline<unknown, unknown, Record<string, unknown>>;

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

    const configFile = values.config === undefined ? undefined : resolve(io.cwd, values.config);
    const config: RunConfig = configFile ? await loadConfig(configFile) : {};
    const mod = await importModule(resolve(io.cwd, positionals[0]!));
    const inputs = await chooseInputs(values, config, mod, io);

    const entries = configFile ? pluginEntries(configFile, config.plugins) : [];
    let app: TaplineApp;
    let pipeline: AnyPipeline;
    if (isPipeline(mod.pipeline)) {
      if (!isApp(mod.app))
        throw moduleError(
          positionals[0]!,
          'exports a built "pipeline" but no "app"; export both, or export pipeline as (app) => pipeline',
        );
      if (entries.length > 0)
        throw moduleError(
          positionals[0]!,
          "creates its own app, so the config cannot add plugins; export pipeline as (app) => pipeline instead",
        );
      app = mod.app;
      pipeline = mod.pipeline;
    } else {
      const define = typeof mod.pipeline === "function" ? mod.pipeline : mod.default;
      if (typeof define !== "function")
        throw moduleError(
          positionals[0]!,
          'exports neither "pipeline" nor a default function (see tapline run --help)',
        );
      const plugins = await instantiatePlugins(configFile ?? "", entries);
      const dir =
        values.dir !== undefined ? resolve(io.cwd, values.dir) : (config.dir ?? resolve(io.cwd, ".tapline"));
      try {
        app = createTapline({
          plugins,
          dir,
          logger: createConsoleLogger({ level: "error", write: (l) => void io.stderr.write(l) }),
        });
      } catch (error) {
        // Core's message already lists every bad option with its path.
        if (
          isTaplineError(error, [
            "TAPLINE_ERR_PLUGIN_INVALID",
            "TAPLINE_ERR_PLUGIN_DUPLICATE",
            "TAPLINE_ERR_PLUGIN_CORE_VERSION",
            "TAPLINE_ERR_PLUGIN_DEPENDENCY",
            "TAPLINE_ERR_PLUGIN_OPTIONS",
            "TAPLINE_ERR_PLUGIN_SETUP",
          ])
        )
          throw cliError("TAPLINE_ERR_CLI_CONFIG", `config ${configFile}: ${error.message}`, {
            cause: error,
          });
        throw error;
      }
      try {
        const built = await define(app, { config });
        if (!isPipeline(built))
          throw moduleError(
            positionals[0]!,
            "its pipeline function did not return a built pipeline (call .build())",
          );
        pipeline = built;
      } catch (error) {
        await app.close();
        if (isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION"))
          throw cliError("TAPLINE_ERR_CLI_MODULE", error.message, { cause: error });
        if (isCliError(error)) throw error;
        throw moduleThrew(positionals[0]!, error);
      }
    }

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

const moduleError = (module: string, message: string) =>
  cliError("TAPLINE_ERR_CLI_MODULE", `module ${module} ${message}`);

/**
 * The module's pipeline function threw: a bug in the module, so the message names it and shows where (the
 * error's first frames, redacted), with its own code and exit status 4, unlike a failed run (1).
 */
function moduleThrew(module: string, error: unknown): CliError {
  const stack = error instanceof Error && error.stack ? error.stack : describeError(error);
  const [first = "", ...frames] = redactSecrets(stack).split("\n");
  // The module's frames only: stop at the CLI's own (this file, or the bundle it is part of).
  const ours = frames.findIndex((f) => f.includes(import.meta.url));
  const where = frames
    .slice(0, ours === -1 ? undefined : ours)
    .filter((f) => /^\s+at /.test(f))
    .slice(0, 8);
  return cliError(
    "TAPLINE_ERR_CLI_MODULE_THREW",
    `module ${module}: its pipeline function threw: ${first} [TAPLINE_ERR_CLI_MODULE_THREW]${where.length ? `\n${where.join("\n")}` : ""}`,
    { cause: error },
  );
}

async function importModule(file: string): Promise<PipelineModule> {
  try {
    return (await import(pathToFileURL(file).href)) as PipelineModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === "ERR_MODULE_NOT_FOUND" && (error as Error).message.includes(file)
        ? "no such file"
        : (error as Error).message;
    throw cliError("TAPLINE_ERR_CLI_MODULE", `cannot load module ${file}: ${hint}`, { cause: error });
  }
}

async function chooseInputs(
  values: { input?: string; "input-file"?: string },
  config: RunConfig,
  mod: PipelineModule,
  io: CliIo,
): Promise<unknown[]> {
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
  if (config.inputs !== undefined) return [...config.inputs];
  if (config.input !== undefined) return [config.input];
  if (Array.isArray(mod.inputs)) return [...mod.inputs];
  return [mod.input];
}

function isPipeline(value: unknown): value is AnyPipeline {
  return (
    !!value &&
    typeof value === "object" &&
    typeof (value as AnyPipeline).run === "function" &&
    typeof (value as AnyPipeline).name === "string"
  );
}

function isApp(value: unknown): value is TaplineApp {
  return (
    !!value &&
    typeof value === "object" &&
    typeof (value as TaplineApp).close === "function" &&
    "hooks" in value
  );
}

/**
 * Progress on stderr: one line per step outcome and failed attempt (stdout stays for the report). Units inside
 * a shape print their failures; a map's items are summed up when the map ends (`scenes 7/8 ✓ 1 ✗ 2 retried`)
 * instead of a line each, so a 10,000-item map prints one line.
 */
function observe(hooks: TaplineHooks, io: CliIo): void {
  const c = palette(io.stderr, io.env);
  const name = "tapline-cli";
  const tag = (ctx: { runId: string; pipeline: string }) => c.dim(`${ctx.pipeline} ${ctx.runId.slice(0, 8)}`);
  const isItem = (ctx: StepContext) => ctx.definitionPath.endsWith("[]");
  hooks.stepStart.tap(name, ({ ctx }) => {
    if (!isItem(ctx)) io.stderr.write(`${tag(ctx)} ${c.cyan("▶")} ${ctx.path}\n`);
  });
  hooks.stepAttempt.tap(name, (e) => {
    if (e.phase === "end" && e.status === "failed")
      io.stderr.write(
        `${tag(e.ctx)} ${c.yellow("↻")} ${e.ctx.path} attempt ${e.attempt} failed: ${clip(message(e.error), 100)}\n`,
      );
  });
  hooks.stepEnd.tap(name, ({ ctx, report }) => {
    if (isItem(ctx) && report.status === "success") return;
    const mark =
      report.status === "success" ? c.green("✓") : report.status === "skipped" ? c.dim("-") : c.red("✗");
    const attempts = report.attempts.length > 1 ? ` after ${report.attempts.length} attempts` : "";
    const items = report.children && ctx.definitionPath === ctx.path ? ` ${fanOut(report.children)}` : "";
    io.stderr.write(
      `${tag(ctx)} ${mark} ${report.path} ${report.status} in ${duration(report.durationMs)}${attempts}${items}\n`,
    );
  });
}

/** `7/8 ✓ 1 ✗ 2 retried`: how a shape's units ended. */
function fanOut(children: readonly StepReport[]): string {
  let ok = 0;
  let failed = 0;
  let retried = 0;
  for (const child of children) {
    if (child.status === "success") ok++;
    else if (child.status === "failed") failed++;
    if (child.attempts.length > 1) retried++;
  }
  return `${ok}/${children.length} ✓${failed ? ` ${failed} ✗` : ""}${retried ? ` ${retried} retried` : ""}`;
}

/** A step's or plugin's error in one line, secrets redacted (core's describeError). */
function message(error: unknown): string {
  return describeError(error);
}

function formatReports(reports: readonly RunReport[], io: CliIo): string {
  const c = palette(io.stdout, io.env);
  const out: string[] = [];
  for (const r of reports) {
    const status = r.status === "success" ? c.green(r.status) : c.red(r.status);
    out.push(`${c.bold(`Run ${r.runId}`)} (${r.pipeline}): ${status} in ${duration(r.durationMs)}`);
    const rows: string[][] = [];
    const row = (s: StepReport, depth: number, label = s.name) =>
      rows.push([
        `${"  ".repeat(depth)}${label}`,
        s.status === "success"
          ? c.green(s.status)
          : s.status === "skipped"
            ? c.dim(s.status)
            : c.red(s.status),
        s.children ? fanOut(s.children) : String(s.attempts.length),
        s.status === "skipped" ? "" : duration(s.durationMs),
        String(s.findings.length),
        String(s.artifacts.length),
        s.error === undefined ? "" : clip(message(s.error), 60),
      ]);
    const walk = (s: StepReport, depth: number) => {
      row(s, depth);
      const children = s.children ?? [];
      // A long map shows its failed or retried items only; the row above sums the rest up.
      const shown =
        children.length > 12
          ? children.filter((k) => k.status !== "success" || k.attempts.length > 1)
          : children;
      for (const child of shown) walk(child, depth + 1);
    };
    for (const s of r.steps) walk(s, 0);
    out.push(
      table(
        ["step", "status", "attempts / units", "duration", "findings", "files", "error"],
        rows,
        new Set([2, 3, 4, 5]),
      ),
    );
    const costs = Object.entries(r.cost ?? {});
    if (costs.length > 0) {
      const spent = costs.map(([unit, amount]) => `${Math.round(amount * 1e6) / 1e6} ${unit}`).join(", ");
      const limit = r.budget
        ? ` (budget ${Object.entries(r.budget)
            .map(([u, a]) => `${a} ${u}`)
            .join(", ")})`
        : "";
      out.push(`cost: ${spent}${limit}`);
    }
    if (r.budgetExceeded !== undefined) out.push(c.red(message(r.budgetExceeded)));
    if (r.pluginErrors.length > 0)
      out.push(
        c.yellow(
          `${r.pluginErrors.length} plugin error(s): ${clip(r.pluginErrors.map(message).join("; "), 200)}`,
        ),
      );
    out.push("");
  }
  const ok = reports.filter((r) => r.status === "success").length;
  out.push(
    ok === reports.length
      ? c.green(`${ok}/${reports.length} run(s) succeeded`)
      : c.red(`${reports.length - ok}/${reports.length} run(s) did not succeed`),
  );
  return `${out.join("\n")}\n`;
}
