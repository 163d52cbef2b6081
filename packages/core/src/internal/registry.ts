import semver from "semver";
import { registrationError } from "../errors.ts";
import { checkOptions, formatOptionIssues } from "../options.ts";
import type { TaplinePlugin } from "../plugin.ts";

/**
 * @internal
 * Checks a plugin instance before its setup runs (fastify's `registerPlugin` checks): shape, unique name,
 * core range, dependencies registered earlier, options valid. Returns the validated options.
 */
export function checkPlugin(plugin: unknown, registered: ReadonlySet<string>, coreVersion: string): unknown {
  const p = plugin as Partial<TaplinePlugin> | null | undefined;
  const name = typeof p?.name === "string" && p.name.trim() !== "" ? p.name : undefined;
  const label = name ?? "<unnamed>";
  const bad = (what: string) =>
    registrationError(
      "TAPLINE_ERR_PLUGIN_INVALID",
      label,
      `invalid plugin ${name ? `"${name}"` : `(${typeof plugin})`}: ${what}. Build plugins with definePlugin() and pass the result of calling its factory, e.g. plugins: [retry()]`,
    );
  if (!p || typeof p !== "object") throw bad("not an object (did you pass the factory without calling it?)");
  if (!name) throw bad('"name" must be a non-empty string');
  if (typeof p.setup !== "function") throw bad('"setup" must be a function');
  if (typeof p.version !== "string" || !semver.valid(p.version))
    throw bad('"version" must be a semver version');
  if (typeof p.core !== "string" || !semver.validRange(p.core))
    throw bad('"core" must be a semver range such as "^1.0.0"');
  if (registered.has(name)) {
    throw registrationError(
      "TAPLINE_ERR_PLUGIN_DUPLICATE",
      name,
      `plugin "${name}" is registered twice; register each plugin once (configure it through its options)`,
    );
  }
  if (!semver.satisfies(coreVersion, p.core, { includePrerelease: true })) {
    throw registrationError(
      "TAPLINE_ERR_PLUGIN_CORE_VERSION",
      name,
      `plugin "${name}@${p.version}" needs @tapline/core ${p.core}, but this is ${coreVersion}; install a version of the plugin made for core ${semver.major(coreVersion)}.x`,
    );
  }
  for (const dependency of p.dependencies ?? []) {
    if (!registered.has(dependency)) {
      throw registrationError(
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        name,
        `plugin "${name}" depends on plugin "${dependency}", which is not registered before it; add ${dependency} earlier in the plugins list`,
      );
    }
  }
  return validateOptions(name, p as TaplinePlugin);
}

function validateOptions(name: string, plugin: TaplinePlugin): unknown {
  if (!plugin.schema) return plugin.rawOptions;
  const result = checkOptions(plugin.schema, plugin.rawOptions);
  if (result.issues) {
    throw registrationError(
      "TAPLINE_ERR_PLUGIN_OPTIONS",
      name,
      `plugin "${name}" has invalid options:\n${formatOptionIssues(result.issues)}`,
      { issues: result.issues },
    );
  }
  return result.value;
}
