import { readFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { OptionIssue, TaplinePlugin } from "@tapline/core";
import { checkOptions, formatOptionIssues } from "@tapline/core/kit";
import * as v from "valibot";
import { parse as parseYaml } from "yaml";
import { cliError } from "./errors.ts";

/** The file `tapline run --config` reads (YAML or JSON). */
export interface RunConfig {
  /** The app's data folder, relative to the config file. Default `./.tapline` from the cwd. */
  readonly dir?: string;
  /**
   * Plugins in registration order: a map `{ retry: {options}, metrics: {} }` or a list of names and
   * `{ plugin: "retry" | "@scope/pkg" | "./file.ts", export?: "factory", options?: {} }`.
   */
  readonly plugins?: Readonly<Record<string, unknown>> | readonly (string | PluginEntry)[];
  /** The input of the run (overrides the module's `input`). */
  readonly input?: unknown;
  /** Several inputs: one run each. */
  readonly inputs?: readonly unknown[];
  /** Runs in flight at once with `inputs`. Default 1. */
  readonly concurrency?: number;
}

/** One plugin of a config's list form. */
export interface PluginEntry {
  /** A short name (`retry`, `metrics`, `validate`, `alerts`, `gpu`, `durable`), a package name, or a file path. */
  readonly plugin: string;
  /** The factory's export name; default: the short name's factory, else `default`. */
  readonly export?: string;
  readonly options?: unknown;
}

/** The first-party plugins, by short name. */
export const KNOWN_PLUGINS: Readonly<Record<string, { pkg: string; factory: string }>> = {
  retry: { pkg: "@tapline/plugin-retry", factory: "retry" },
  metrics: { pkg: "@tapline/plugin-metrics", factory: "metrics" },
  validate: { pkg: "@tapline/plugin-validate", factory: "validate" },
  alerts: { pkg: "@tapline/plugin-alerts", factory: "alerts" },
  gpu: { pkg: "@tapline/plugin-gpu", factory: "gpu" },
  durable: { pkg: "@tapline/plugin-durable", factory: "durable" },
};

const PluginEntrySchema = v.strictObject({
  plugin: v.pipe(v.string(), v.minLength(1)),
  export: v.optional(v.pipe(v.string(), v.minLength(1))),
  options: v.optional(v.unknown()),
});

/** The config file's own level, strict: an unknown or misspelt key is an error with the closest known key. */
const RunConfigSchema: v.GenericSchema<unknown, RunConfig> = v.strictObject({
  dir: v.optional(v.pipe(v.string(), v.minLength(1))),
  plugins: v.optional(
    v.union([
      v.array(v.union([v.pipe(v.string(), v.minLength(1)), PluginEntrySchema])),
      v.record(v.pipe(v.string(), v.minLength(1)), v.unknown()),
    ]),
  ),
  input: v.optional(v.unknown()),
  inputs: v.optional(v.array(v.unknown())),
  concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** A list entry is checked on its own, so a misspelt field gets its own did-you-mean (a union would hide it). */
function checkEntries(plugins: unknown): OptionIssue[] {
  if (!Array.isArray(plugins)) return [];
  return plugins.flatMap((entry, i) => {
    if (typeof entry === "string") return [];
    const result = checkOptions(PluginEntrySchema, entry);
    const issues = result.issues ?? [];
    return issues.map((issue) => ({
      ...issue,
      path: issue.path === "(options)" ? `plugins[${i}]` : `plugins[${i}].${issue.path}`,
    }));
  });
}

/** A first-party plugin's name at the top level: its options belong under `plugins:`. */
function explain(issue: OptionIssue): OptionIssue {
  const key = /^unknown option "([^"]+)"/.exec(issue.message)?.[1];
  if (key === undefined || !(key in KNOWN_PLUGINS)) return issue;
  return {
    ...issue,
    message: `${issue.message}; plugin options go under "plugins:" (plugins: { ${key}: { ... } })`,
  };
}

/** The closest first-party short name to a misspelt one (`retyr` → `retry`), through core's did-you-mean. */
function closestPlugin(name: string): string | undefined {
  const result = checkOptions(v.picklist(Object.keys(KNOWN_PLUGINS)), name);
  return result.issues?.[0]?.suggestion;
}

const configError = (file: string, message: string, cause?: unknown) =>
  cliError(
    "TAPLINE_ERR_CLI_CONFIG",
    `config ${file}: ${message}`,
    cause === undefined ? undefined : { cause },
  );

/** Reads and checks a YAML (`.yaml`, `.yml`) or JSON config file. */
export async function loadConfig(file: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw configError(
      file,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      error,
    );
  }
  let data: unknown;
  try {
    data = extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw configError(
      file,
      `is not valid ${extname(file).toLowerCase() === ".json" ? "JSON" : "YAML"}: ${(error as Error).message}`,
      error,
    );
  }
  data ??= {};
  if (typeof data !== "object" || Array.isArray(data))
    throw configError(file, "must be a mapping (dir, plugins, input, inputs, concurrency)");
  const config = data as Record<string, unknown>;
  const listIssues = checkEntries(config.plugins);
  const result = checkOptions(RunConfigSchema, data);
  // A list entry's own issues are more precise than the union's "expected ..." for the same entry.
  const issues = [
    ...(result.issues ?? []).filter(
      (i) =>
        !listIssues.some(
          (l) => l.path === i.path || l.path.startsWith(`${i.path}.`) || l.path.startsWith(`${i.path}[`),
        ),
    ),
    ...listIssues,
  ].map(explain);
  if (issues.length > 0) throw configError(file, `invalid:\n${formatOptionIssues(issues)}`);
  if (config.input !== undefined && config.inputs !== undefined)
    throw configError(file, 'give "input" or "inputs", not both');
  return {
    ...(config as RunConfig),
    ...(typeof config.dir === "string" && { dir: resolve(dirname(file), config.dir) }),
  };
}

/** Normalises both forms of `plugins` into a list of entries. */
export function pluginEntries(file: string, plugins: RunConfig["plugins"]): PluginEntry[] {
  if (plugins === undefined) return [];
  if (Array.isArray(plugins)) {
    return plugins.map((entry, i) => {
      if (typeof entry === "string") return { plugin: entry };
      if (!entry || typeof entry !== "object" || typeof (entry as PluginEntry).plugin !== "string") {
        throw configError(file, `plugins[${i}] must be a name or { plugin, export?, options? }`);
      }
      return entry as PluginEntry;
    });
  }
  return Object.entries(plugins as Record<string, unknown>).map(([plugin, options]) => ({
    plugin,
    ...(options !== null && options !== undefined && { options }),
  }));
}

/** Imports each plugin's factory and calls it with its options. */
export async function instantiatePlugins(
  file: string,
  entries: readonly PluginEntry[],
): Promise<TaplinePlugin[]> {
  const plugins: TaplinePlugin[] = [];
  for (const entry of entries) {
    const known = KNOWN_PLUGINS[entry.plugin];
    const isPath = entry.plugin.startsWith(".") || isAbsolute(entry.plugin);
    const specifier =
      known?.pkg ?? (isPath ? pathToFileURL(resolve(dirname(file), entry.plugin)).href : entry.plugin);
    const exportName = entry.export ?? known?.factory ?? "default";
    let mod: Record<string, unknown>;
    try {
      mod = (await import(specifier)) as Record<string, unknown>;
    } catch (error) {
      const closest = known || isPath ? undefined : closestPlugin(entry.plugin);
      const hint =
        known || isPath
          ? ""
          : `; it is neither a first-party plugin (${Object.keys(KNOWN_PLUGINS).join(", ")}) nor an installed package${closest ? `; did you mean "${closest}"?` : ""}`;
      throw configError(
        file,
        `plugin "${entry.plugin}" could not be loaded (${(error as Error).message})${hint}`,
        error,
      );
    }
    const factory = mod[exportName];
    if (typeof factory !== "function") {
      const names = Object.keys(mod).filter((k) => typeof mod[k] === "function");
      throw configError(
        file,
        `plugin "${entry.plugin}" has no factory export "${exportName}" (functions exported: ${names.join(", ") || "none"})`,
      );
    }
    let plugin: unknown;
    try {
      plugin = entry.options === undefined ? factory() : factory(entry.options);
    } catch (error) {
      throw configError(
        file,
        `plugin "${entry.plugin}" rejected its options: ${(error as Error).message}`,
        error,
      );
    }
    plugins.push(plugin as TaplinePlugin);
  }
  return plugins;
}
