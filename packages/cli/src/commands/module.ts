import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createConsoleLogger,
  createTapline,
  describeError,
  isTaplineError,
  type Pipeline,
  redactSecrets,
  type TaplineApp,
} from "@tapline/core";
import { instantiatePlugins, loadConfig, pluginEntries, type RunConfig } from "../config.ts";
import { type CliError, cliError, isCliError } from "../errors.ts";
import type { CliIo } from "../io.ts";

/** What a pipeline module may export. */
export interface PipelineModule {
  pipeline?: unknown;
  default?: unknown;
  app?: unknown;
  input?: unknown;
  inputs?: unknown;
}

/** A built pipeline of any types. */
export type AnyPipeline = Pipeline<unknown, unknown, Record<string, unknown>>;

/** A pipeline module loaded with its config, its app created (or taken from the module) and its pipeline built. */
export interface LoadedPipeline {
  readonly app: TaplineApp;
  readonly pipeline: AnyPipeline;
  readonly config: RunConfig;
  readonly module: PipelineModule;
}

/**
 * Loads a pipeline module the way every command that runs one does (`tapline run`, `resume`, `approve`):
 * reads the config, imports the module, then either takes its own `app` and built `pipeline` (the config may
 * not add plugins then) or creates the app with the config's plugins and `dir` (`--dir` overrides it) and
 * calls the module's pipeline function. Closes the app again when the pipeline cannot be built. Throws
 * `CliError`s: `TAPLINE_ERR_CLI_CONFIG` (config, plugins), `TAPLINE_ERR_CLI_MODULE` (the module),
 * `TAPLINE_ERR_CLI_MODULE_THREW` (its pipeline function threw).
 */
export async function loadPipeline(
  io: CliIo,
  options: { module: string; config?: string | undefined; dir?: string | undefined },
): Promise<LoadedPipeline> {
  const configFile = options.config === undefined ? undefined : resolve(io.cwd, options.config);
  const config: RunConfig = configFile ? await loadConfig(configFile) : {};
  const mod = await importModule(resolve(io.cwd, options.module));
  const entries = configFile ? pluginEntries(configFile, config.plugins) : [];
  if (isPipeline(mod.pipeline)) {
    if (!isApp(mod.app))
      throw moduleError(
        options.module,
        'exports a built "pipeline" but no "app"; export both, or export pipeline as (app) => pipeline',
      );
    if (entries.length > 0)
      throw moduleError(
        options.module,
        "creates its own app, so the config cannot add plugins; export pipeline as (app) => pipeline instead",
      );
    return { app: mod.app, pipeline: mod.pipeline, config, module: mod };
  }
  const define = typeof mod.pipeline === "function" ? mod.pipeline : mod.default;
  if (typeof define !== "function")
    throw moduleError(
      options.module,
      'exports neither "pipeline" nor a default function (see tapline run --help)',
    );
  const plugins = await instantiatePlugins(configFile ?? "", entries);
  const dir =
    options.dir !== undefined ? resolve(io.cwd, options.dir) : (config.dir ?? resolve(io.cwd, ".tapline"));
  let app: TaplineApp;
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
      throw cliError("TAPLINE_ERR_CLI_CONFIG", `config ${configFile}: ${error.message}`, { cause: error });
    throw error;
  }
  try {
    const built = await define(app, { config });
    if (!isPipeline(built))
      throw moduleError(
        options.module,
        "its pipeline function did not return a built pipeline (call .build())",
      );
    return { app, pipeline: built, config, module: mod };
  } catch (error) {
    await app.close();
    if (isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION"))
      throw cliError("TAPLINE_ERR_CLI_MODULE", error.message, { cause: error });
    if (isCliError(error)) throw error;
    throw moduleThrew(options.module, error);
  }
}

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
