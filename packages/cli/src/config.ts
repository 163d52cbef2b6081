import { readFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { TaplinePlugin } from "@tapline/core";
import { parse as parseYaml } from "yaml";
import { CliError } from "./errors.ts";

/** The file `tapline run --config` reads (YAML or JSON). */
export interface RunConfig {
  /** The app's data folder, relative to the config file. Default `./.tapline` from the cwd. */
  readonly dir?: string;
  /**
   * Plugins in registration order: a map `{ retry: {options}, metrics: {} }` or a list of
   * `{ plugin: "retry" | "@scope/pkg" | "./file.ts", export?: "factory", options?: {} }`.
   */
  readonly plugins?: Readonly<Record<string, unknown>> | readonly PluginEntry[];
  /** The input of the run (overrides the module's `input`). */
  readonly input?: unknown;
  /** Several inputs: one run each. */
  readonly inputs?: readonly unknown[];
  /** Runs in flight at once with `inputs`. Default 1. */
  readonly concurrency?: number;
}

/** One plugin of a config's list form. */
export interface PluginEntry {
  /** A short name (`retry`, `metrics`, `validate`, `alerts`, `gpu`), a package name, or a file path. */
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
};

const configError = (file: string, message: string, cause?: unknown) =>
  new CliError(
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
  const known = new Set(["dir", "plugins", "input", "inputs", "concurrency"]);
  for (const key of Object.keys(config)) {
    if (!known.has(key)) throw configError(file, `unknown key "${key}"; expected ${[...known].join(", ")}`);
  }
  if (config.dir !== undefined && typeof config.dir !== "string")
    throw configError(file, '"dir" must be a string');
  if (config.inputs !== undefined && !Array.isArray(config.inputs))
    throw configError(file, '"inputs" must be a list');
  if (config.input !== undefined && config.inputs !== undefined)
    throw configError(file, 'give "input" or "inputs", not both');
  const c = config.concurrency;
  if (c !== undefined && !(typeof c === "number" && Number.isInteger(c) && c >= 1))
    throw configError(file, '"concurrency" must be an integer ≥ 1');
  const p = config.plugins;
  if (p !== undefined && (typeof p !== "object" || p === null))
    throw configError(file, '"plugins" must be a mapping or a list');
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
      const hint =
        known || isPath
          ? ""
          : `; it is neither a first-party plugin (${Object.keys(KNOWN_PLUGINS).join(", ")}) nor an installed package`;
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
