import {
  definePlugin,
  isTaplineError,
  type PluginDefinition,
  type PluginFactory,
  type TaplineApp,
} from "@tapline/core";
import {
  type AlertManager,
  type AlertManagerOptions,
  createPreparedManager,
  fileIssues,
  type PreparedOptions,
  prepare,
} from "./manager.ts";
import { PluginOptionsSchema } from "./schemas.ts";

/** Options of the {@link alerts} plugin: the manager's, minus what the plugin wires itself. */
export interface AlertsPluginOptions
  extends Omit<AlertManagerOptions, "dir" | "onTransition" | "onError" | "onMetric" | "redact"> {
  /** Write the history as JSON lines under `<app dir>/alerts/`. Default true. */
  readonly persist?: boolean;
}

/**
 * The size of the work a step did, for regression rules with `normalize: true`: a longer story is not a
 * slower step. Report it from the step with `ctx.annotate("size", { value: seconds, unit: "seconds" })`.
 */
export interface StepSize {
  /** The amount of work (seconds of audio produced, frames rendered, tokens); > 0. */
  readonly value: number;
  /** What `value` counts, for reading reports. */
  readonly unit?: string;
}

declare module "@tapline/core" {
  interface StepReportExtensions {
    /** The size of the step's work, read by plugin-alerts' regression rules (`normalize: true`). */
    size?: StepSize;
  }
}

/** Metric fed by the plugin for each `pluginError` of another plugin (value 1, labels `plugin`, `hook`). */
export const PLUGIN_ERROR_METRIC = "tapline_alerts_plugin_errors";

const managers = new WeakMap<object, AlertManager>();
const HANDLER_CODES = ["TAPLINE_ERR_ALERTS_HANDLER", "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT"] as const;

/**
 * The alert manager the plugin created for an app, to add silences or read active alerts at run time.
 *
 * @example
 * alertManagerOf(app)?.silence({ matchers: { step: "tts" }, duration: "1h", comment: "provider outage" });
 */
export function alertManagerOf(app: TaplineApp | object): AlertManager | undefined {
  return managers.get(app);
}

interface CheckedPluginOptions {
  readonly options: AlertsPluginOptions;
  readonly prepared: PreparedOptions;
}

/**
 * The plugin's options schema: valibot's (core explains its issues: unknown keys with did-you-mean, paths,
 * values), then what needs several fields and the rule file, whose problems name the file. Options are
 * normalised here, once, at registration; `setup` builds the manager from the result.
 */
const schema: NonNullable<
  PluginDefinition<CheckedPluginOptions, AlertsPluginOptions | undefined>["options"]
> = {
  // core walks the valibot entries to find the known keys of a misspelt one
  ...(PluginOptionsSchema as object),
  "~standard": {
    version: 1,
    vendor: "@tapline/plugin-alerts",
    validate(value) {
      const shape = PluginOptionsSchema["~standard"].validate(value);
      if (shape instanceof Promise || shape.issues) return shape as { issues: [] };
      const options = (shape.value ?? {}) as AlertsPluginOptions;
      const { persist: _persist, ...managerOptions } = options;
      try {
        return { value: { options, prepared: prepare(managerOptions, "alerts()") } };
      } catch (error) {
        if (!isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")) throw error;
        return {
          issues: fileIssues(error).map((i) => ({
            message: i.message,
            path: i.path === "(options)" ? [] : splitPath(i.path),
          })),
        };
      }
    },
  },
};

function splitPath(path: string): PropertyKey[] {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== "")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/**
 * The alerts plugin: evaluates rules on every metric sample, watches steps (failure rate, p95, stuck steps),
 * takes other plugins' alerts (e.g. plugin-retry's `breaker_open`), notifies handlers, persists the history
 * and contributes to `app.status()`.
 *
 * @example
 * const app = createTapline({
 *   plugins: [alerts({ rules: [presets.stepFailureRate(), presets.stuckStep({ after: "15m" })], handlers: [consoleHandler()] })],
 * });
 */
export const alerts: PluginFactory<AlertsPluginOptions | undefined> = definePlugin<
  CheckedPluginOptions,
  AlertsPluginOptions | undefined
>({
  name: "@tapline/plugin-alerts",
  version: "1.0.0",
  core: "^1.0.0",
  options: schema,
  setup(api) {
    const { persist = true, ...options } = api.options.options;
    const manager = createPreparedManager(
      {
        ...options,
        ...(persist && { dir: api.dir }),
        onTransition(event) {
          // Re-publish our own rules' transitions so other plugins see them; alerts raised by others stay theirs.
          if (event.source !== undefined) return;
          const {
            fingerprint: _fp,
            endsAt: _end,
            source: _src,
            ...rest
          } = event as typeof event & { endsAt?: number };
          api.raiseAlert(rest);
        },
        onError(error) {
          api.reportError(
            error,
            isTaplineError(error, HANDLER_CODES) ? `handler:${error.handler}` : "alerts",
          );
        },
        onMetric(name, value, labels) {
          api.metric(name, value, labels, { type: "counter" });
        },
      },
      { ...api.options.prepared, redact: api.redact.text },
    );
    managers.set(api.app, manager);
    const { hooks } = api;
    hooks.metric.tap(api.name, (sample) => manager.observe(sample));
    hooks.alert.tapPromise(api.name, async (event) => {
      if (event.source === api.name) return;
      try {
        manager.raise(event);
      } catch (error) {
        if (!isTaplineError(error, "TAPLINE_ERR_ALERTS_CLOSED")) throw error; // an alert arriving while the app closes is dropped
      }
    });
    hooks.stepStart.tapPromise(api.name, async ({ ctx }) => {
      manager.stepStarted({
        runId: ctx.runId,
        pipeline: ctx.pipeline,
        step: ctx.definitionPath,
        path: ctx.path,
        labels: ctx.labels,
      });
    });
    hooks.stepEnd.tapPromise(api.name, async ({ ctx, report, replayed }) => {
      // A replayed unit did not execute: it is no sample of the step's health or speed.
      if (replayed) return;
      manager.stepEnded({
        runId: ctx.runId,
        pipeline: ctx.pipeline,
        step: ctx.definitionPath,
        path: ctx.path,
        labels: ctx.labels,
        status: report.status,
        durationMs: report.durationMs,
        ...(typeof report.extensions?.size?.value === "number" && { size: report.extensions.size.value }),
      });
    });
    hooks.runEnd.tapPromise(api.name, async ({ ctx }) => manager.endRun(ctx.runId));
    hooks.status.tap(api.name, (parts) => {
      parts.push(manager.status());
      return parts;
    });
    hooks.pluginError.tap(api.name, ({ error, runId }) => {
      if (error.plugin === api.name) return; // never alert on our own failures (no feedback loop)
      manager.observe({
        name: PLUGIN_ERROR_METRIC,
        value: 1,
        type: "counter",
        labels: { plugin: error.plugin, hook: error.hook },
        time: Date.now(),
        ...(runId !== undefined && { runId }),
      });
    });
    return async () => {
      managers.delete(api.app);
      await manager.close();
    };
  },
});
