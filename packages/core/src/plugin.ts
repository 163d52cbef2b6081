import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { MetricOptions } from "./events.ts";
import type { TaplineHooks } from "./hooks.ts";
import type { Redactor } from "./redact.ts";
import type { AlertEvent, Logger } from "./vocabulary.ts";

/** What `setup()` may return: nothing, or a function that releases the plugin's resources. */
export type PluginDispose = () => void | Promise<void>;

/** What a plugin's `setup()` receives. */
export interface PluginApi<TOptions = unknown> {
  /** The plugin's name. */
  readonly name: string;
  /** The plugin's options, validated by its schema. */
  readonly options: TOptions;
  /** The app's hooks. Tap them here, in `setup()`, never during a run. */
  readonly hooks: TaplineHooks;
  /** The app itself, e.g. as a `WeakMap` key for plugin-owned hooks (`getRetryHooks(app)`). */
  readonly app: object;
  /** The app's data directory (absolute). Create what you need under it. */
  readonly dir: string;
  /** A child of the app's logger bound to `{ plugin: name }`. */
  readonly log: Logger;
  /** The running core's version. */
  readonly coreVersion: string;
  /** The app's secret redactor: pass error messages and fields through it before printing or persisting them. */
  readonly redact: Redactor;
  /** Publish a sample through the `metric` hook (for background producers such as samplers). */
  metric(name: string, value: number, labels?: Record<string, string>, options?: MetricOptions): void;
  /** Raise an alert event through the `alert` hook; returns at once, handlers run in the background. */
  raiseAlert(event: Omit<AlertEvent, "time" | "source"> & { time?: number }): void;
  /** Report an error that must not fail anything (a background sampler failed); goes to `pluginError`. */
  reportError(error: unknown, hook?: string): void;
}

/** The definition given to {@link definePlugin}. */
export interface PluginDefinition<TOptions, TInput> {
  /** Unique in an app; by convention the npm package name. */
  name: string;
  /** The plugin's own version. */
  version: string;
  /** Semver range of `@tapline/core` the plugin works with, e.g. `"^1.0.0"`. */
  core: string;
  /** Names of plugins that must be registered before this one. */
  dependencies?: readonly string[];
  /**
   * Schema of the options (any Standard Schema: zod, valibot, arktype, Effect Schema...), validated when the
   * plugin is registered; must validate synchronously. Without it, options are passed as given.
   */
  options?: StandardSchemaV1<TInput, TOptions>;
  /**
   * Step options this plugin adds (by module augmentation of `StepOptions`); other keys are rejected. Give
   * a schema per key (`{ retry: RetryStepSchema }`) and core checks each step's value when the step is
   * added, with the same errors as plugin options (path, value, closest match); a key mapped to `null` or
   * listed in an array is accepted as is.
   */
  stepOptions?: readonly string[] | Readonly<Record<string, StandardSchemaV1 | null>>;
  /**
   * Taps hooks and starts background work. Runs synchronously while the app is created; may return a
   * dispose function (or a promise of one: `app.ready()` and the first run wait for it).
   */
  setup(api: PluginApi<TOptions>): void | PluginDispose | Promise<void | PluginDispose>;
}

/**
 * A plugin instance, ready to pass to `createTapline({ plugins })`. A plain object, so plugins built
 * against another copy of core register fine.
 */
export interface TaplinePlugin {
  readonly name: string;
  readonly version: string;
  readonly core: string;
  readonly dependencies: readonly string[];
  readonly stepOptions: readonly string[];
  /** Schemas of the step options that have one, by key. */
  readonly stepOptionSchemas?: Readonly<Record<string, StandardSchemaV1>>;
  /** The options as the user passed them. */
  readonly rawOptions: unknown;
  readonly schema: StandardSchemaV1 | undefined;
  readonly setup: (api: PluginApi<any>) => void | PluginDispose | Promise<void | PluginDispose>;
}

/** The factory {@link definePlugin} returns; call it with the user's options. */
export type PluginFactory<TInput> = undefined extends TInput
  ? (options?: TInput) => TaplinePlugin
  : (options: TInput) => TaplinePlugin;

/**
 * Defines a plugin. Returns a factory: call it with the user's options to get a plugin instance.
 * Name, core range, dependencies and options are checked when the instance is registered.
 *
 * @example
 * export const hello = definePlugin({
 *   name: "tapline-plugin-hello", version: "1.0.0", core: "^1.0.0",
 *   setup(api) {
 *     api.hooks.stepEnd.tapPromise(api.name, async ({ ctx, report }) => ctx.log.info(report.status));
 *   },
 * });
 * createTapline({ plugins: [hello()] });
 */
export function definePlugin<TOptions = undefined, TInput = TOptions>(
  definition: PluginDefinition<TOptions, TInput>,
): PluginFactory<TInput> {
  const declared = definition.stepOptions ?? [];
  const stepOptionKeys: readonly string[] = Array.isArray(declared) ? declared : Object.keys(declared);
  const stepOptionSchemas: Record<string, StandardSchemaV1> = {};
  if (!Array.isArray(declared)) {
    for (const [key, schema] of Object.entries(declared as Record<string, StandardSchemaV1 | null>)) {
      if (schema) stepOptionSchemas[key] = schema;
    }
  }
  const factory = (options?: TInput): TaplinePlugin => ({
    name: definition.name,
    version: definition.version,
    core: definition.core,
    dependencies: definition.dependencies ?? [],
    stepOptions: stepOptionKeys,
    stepOptionSchemas,
    rawOptions: options,
    schema: definition.options as StandardSchemaV1 | undefined,
    setup: definition.setup as TaplinePlugin["setup"],
  });
  return factory as PluginFactory<TInput>;
}
