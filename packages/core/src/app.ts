import { resolve } from "node:path";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import * as v from "valibot";
import {
  AppClosedError,
  describeError,
  isTaplineError,
  NoDurableStoreError,
  PluginError,
  ResumePipelineError,
  RunNotFoundError,
  RunNotSuspendedError,
  registrationError,
} from "./errors.ts";
import type { ResumeOptions, SavedRun } from "./events.ts";
import { createHookTable, type TaplineHooks } from "./hooks.ts";
import { installAttribution } from "./internal/attribution.ts";
import { RUN_STATE, type RunState } from "./internal/context.ts";
import { executeRun } from "./internal/executor.ts";
import { checkPlugin } from "./internal/registry.ts";
import { createConsoleLogger } from "./logger.ts";
import { parseOptions } from "./options.ts";
import { type BuilderApp, createBuilder, type PipelineBuilder, type PipelineOptions } from "./pipeline.ts";
import type { PluginApi, PluginDispose, TaplinePlugin } from "./plugin.ts";
import { createRedactor, type RedactOptions, type Redactor } from "./redact.ts";
import type { RunReport } from "./report.ts";
import { CORE_VERSION } from "./version.ts";
import type { Logger, StatusPart } from "./vocabulary.ts";

const AppOptionsSchema = v.strictObject({
  plugins: v.optional(
    v.array(v.unknown(), "an array of plugin instances (call each factory: plugins: [retry()])"),
  ),
  dir: v.optional(v.pipe(v.string("a directory path (string)"), v.nonEmpty("a non-empty directory path"))),
  logger: v.optional(
    v.custom<Logger>(
      (l) =>
        !!l &&
        typeof l === "object" &&
        ["info", "warn", "error", "child"].every(
          (m) => typeof (l as Record<string, unknown>)[m] === "function",
        ),
      "a pino-compatible logger (info, warn, error, child...)",
    ),
  ),
  graceMs: v.optional(v.pipe(v.number("a number of milliseconds"), v.finite(), v.minValue(0))),
  redact: v.optional(v.strictObject({ patterns: v.optional(v.array(v.instance(RegExp, "a RegExp"))) })),
});

const ResumeOptionsSchema = v.strictObject({
  signal: v.optional(v.instance(AbortSignal, "an AbortSignal")),
  resumeData: v.optional(v.unknown()),
  graceMs: v.optional(v.pipe(v.number("a number of milliseconds"), v.finite(), v.minValue(0))),
});

const PipelineOptionsSchema = v.strictObject({
  budget: v.optional(
    v.record(v.string(), v.pipe(v.number("an amount (a number)"), v.finite(), v.minValue(0))),
  ),
});

/** Options of {@link createTapline}. */
export interface TaplineOptions {
  /** Plugin instances, registered in order (a plugin's dependencies must come before it). */
  plugins?: readonly TaplinePlugin[];
  /** Data directory for plugins (logs, metrics, alert history). Default `./.tapline`, resolved from the cwd. */
  dir?: string;
  /** A pino-compatible logger. Default: readable lines on stderr, `warn` and above. */
  logger?: Logger;
  /**
   * After a run is cancelled (or a step times out), how long to wait for the running step to settle before
   * the run stops waiting and marks it `abandoned`. Default 2000 ms.
   */
  graceMs?: number;
  /**
   * Secret redaction for error messages, logs, records and alerts. The built-in patterns (bearer and basic
   * credentials, URL user-info, token/key query parameters, API-key shapes) always apply; add your own.
   */
  redact?: RedactOptions;
}

/**
 * Overall health: the worst level among the parts plugins contribute (`critical` > `degraded` > `ok`). A part
 * at `unknown` (starting, stopped) does not lower the level but is named in the message.
 */
export interface AppStatus {
  readonly level: "healthy" | "degraded" | "critical";
  /** "healthy", or the non-ok parts: "critical: alerts: step tts failing 62% over 5m". */
  readonly message: string;
  readonly parts: readonly StatusPart[];
  /** Epoch ms. */
  readonly time: number;
}

/** A Tapline app: the plugin registry, the hooks, and the pipelines built on them. */
export interface TaplineApp extends AsyncDisposable {
  /** The lifecycle hooks. Tap them from plugins (in `setup`); only core calls them. */
  readonly hooks: TaplineHooks;
  /** The data directory (absolute). */
  readonly dir: string;
  readonly log: Logger;
  /**
   * The app's secret redactor (built-in patterns plus `createTapline({ redact })`). Plugins pass every error
   * message, alert text and record field they print or persist through it.
   */
  readonly redact: Redactor;
  /** Registered plugins, in order. */
  readonly plugins: readonly { readonly name: string; readonly version: string }[];
  /** Starts a pipeline definition; chain `.step()` calls, then `.build()`. */
  pipeline<TInput = void>(name: string, options?: PipelineOptions): PipelineBuilder<TInput, TInput, {}>;
  /**
   * Continues a saved run (needs a durable store plugin, `@tapline/plugin-durable`): a run that failed, was
   * cancelled, whose process died, or that a unit suspended. Its pipeline (built in this app, by name) runs
   * again on the saved input under the same run id; every unit whose saved result still holds (same path,
   * same input, artifacts unchanged) is replayed instead of executed (`replayed: true` in its report), the
   * others run. With `resumeData`, the suspended unit runs again with `ctx.resumeData` set (an approval).
   * Resolves to the run's report, like `run()`.
   *
   * Rejects with `TAPLINE_ERR_NO_DURABLE_STORE` (no store plugin), `TAPLINE_ERR_RUN_NOT_FOUND`,
   * `TAPLINE_ERR_RUN_NOT_SUSPENDED` (`resumeData` for a run that is not suspended),
   * `TAPLINE_ERR_RESUME_PIPELINE` (its pipeline is not built here), or the store's refusal (another
   * resumer holds the run: plugin-durable's lock error).
   *
   * @example
   * const report = await app.resume(runId, { resumeData: { approved: true } });
   */
  resume(runId: string, options?: ResumeOptions): Promise<RunReport>;
  /** Resolves when every plugin's asynchronous setup has finished; rejects if one failed. */
  ready(): Promise<void>;
  /** The health of the app, from every plugin's `status` tap. */
  status(): AppStatus;
  /**
   * Cancels runs in flight (reason: an `AppClosedError`), waits for them, then disposes the plugins in reverse
   * order. Idempotent. Afterwards no timer, child process or socket of Tapline keeps the process alive.
   */
  close(): Promise<void>;
}

/**
 * Creates an app and registers its plugins (checked and set up in order, synchronously).
 * Throws a `PluginRegistrationError` naming the plugin when one cannot be registered.
 *
 * @example
 * const app = createTapline({ plugins: [metrics(), retry()] });
 * const story = app.pipeline<string>("story").step("upper", (s) => s.toUpperCase()).build();
 * const report = await story.run("once upon a time");
 * await app.close();
 */
export function createTapline(options: TaplineOptions = {}): TaplineApp {
  parseOptions(AppOptionsSchema, options, "createTapline()");
  const { plugins = [], logger = createConsoleLogger(), graceMs = 2000 } = options;
  const redactor = createRedactor(options.redact);
  const dir = resolve(options.dir ?? ".tapline");
  const hooks = createHookTable();
  const registered: { name: string; version: string }[] = [];
  const disposers: (PluginDispose | undefined)[] = [];
  const setups: Promise<unknown>[] = [];
  const runs = new Set<RunState>();
  const built: BuilderApp["built"] = new Map();
  const stepOptionKeys = new Map<string, StandardSchemaV1 | undefined>();
  let current: string | undefined;
  let closing: Promise<void> | undefined;

  const reportPluginError = (error: PluginError, event: unknown): void => {
    const ctx = (
      event as { ctx?: { [RUN_STATE]?: RunState; runId?: string; step?: string; path?: string } } | undefined
    )?.ctx;
    ctx?.[RUN_STATE]?.report.pluginErrors.push(error);
    logger.warn(
      { plugin: error.plugin, hook: error.hook, runId: ctx?.runId, step: ctx?.path ?? ctx?.step },
      error.message,
    );
    if (hooks.pluginError.taps.length > 0) {
      hooks.pluginError.call({
        error,
        ...(ctx?.runId !== undefined && { runId: ctx.runId }),
        ...(ctx?.step !== undefined && { step: ctx.step, path: ctx.path ?? ctx.step }),
      });
    }
  };
  installAttribution(hooks, () => current, reportPluginError);

  const app: TaplineApp & BuilderApp = {
    hooks,
    dir,
    log: logger,
    redact: redactor,
    plugins: registered,
    graceMs,
    pending: undefined,
    stepOptionKeys,
    reportPluginError,
    runs,
    built,
    assertOpen(what) {
      if (closing) throw new AppClosedError({ what });
    },
    pipeline(name, pipelineOptions) {
      app.assertOpen(`define pipeline "${name}"`);
      const defaults = parseOptions(PipelineOptionsSchema, pipelineOptions ?? {}, `app.pipeline("${name}")`);
      return createBuilder(app, name, [], defaults);
    },
    async resume(runId, resumeOptions = {}) {
      app.assertOpen(`resume run "${runId}"`);
      if (typeof runId !== "string" || runId === "")
        throw new TypeError(`app.resume() needs a run id (a non-empty string), got ${String(runId)}`);
      parseOptions(ResumeOptionsSchema, resumeOptions, `app.resume("${runId}")`);
      if (hooks.loadRun.taps.length === 0) throw new NoDurableStoreError({ what: "app.resume()" });
      if (app.pending) await app.pending;
      const { resumeData, signal, graceMs: runGraceMs } = resumeOptions;
      let saved: SavedRun | undefined;
      try {
        saved = await hooks.loadRun.promise({ runId, resumeData });
      } catch (error) {
        // A store's typed refusal (the run is locked by another resumer) reaches the caller as it is.
        if (isTaplineError(error, "TAPLINE_ERR_PLUGIN_HOOK") && isTaplineError(error.cause))
          throw error.cause;
        throw error;
      }
      if (!saved) throw new RunNotFoundError({ runId });
      const definition = built.get(saved.pipeline);
      const refusal =
        resumeData !== undefined && saved.status !== "suspended"
          ? new RunNotSuspendedError({ runId, status: saved.status })
          : definition === undefined
            ? new ResumePipelineError({ runId, pipeline: saved.pipeline })
            : undefined;
      if (refusal || !definition) {
        await saved.release?.();
        throw refusal;
      }
      return executeRun(
        app,
        saved.pipeline,
        definition.steps,
        saved.input,
        {
          runId,
          ...(saved.labels && { labels: saved.labels }),
          ...(saved.budget && { budget: saved.budget }),
          ...(signal && { signal }),
          ...(runGraceMs !== undefined && { graceMs: runGraceMs }),
        },
        definition.defaults,
        { unit: saved.suspended?.unit, data: resumeData },
      );
    },
    ready: () => app.pending ?? Promise.resolve(),
    status() {
      // Closing is not a health problem: a status written by a plugin's dispose must read as the app ran.
      return summarizeStatus(hooks.status.taps.length > 0 ? hooks.status.call([]) : []);
    },
    close() {
      closing ??= closeApp();
      return closing;
    },
    [Symbol.asyncDispose]: () => app.close(),
  };

  async function closeApp(): Promise<void> {
    const reason = new AppClosedError({ what: "continue the run" });
    const settled = [...runs].map((run) => new Promise<void>((resolve) => (run.onSettled = resolve)));
    for (const run of runs) run.abort(reason);
    // A run whose step ignores its signal is waited for at most graceMs (plus a margin), then left behind.
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs + 100)));
    await Promise.race([Promise.allSettled(settled), patience]);
    clearTimeout(timer);
    await Promise.allSettled(setups);
    for (let i = disposers.length - 1; i >= 0; i--) {
      const dispose = disposers[i];
      if (!dispose) continue;
      try {
        await dispose();
      } catch (error) {
        reportPluginError(
          new PluginError({ plugin: registered[i]!.name, hook: "dispose", cause: error }),
          undefined,
        );
      }
    }
  }

  const names = new Set<string>();
  for (const plugin of plugins) {
    let pluginOptions: unknown;
    try {
      pluginOptions = checkPlugin(plugin, names, CORE_VERSION);
    } catch (error) {
      void app.close();
      throw error;
    }
    const { name, version } = plugin;
    const index = registered.length;
    names.add(name);
    registered.push({ name, version });
    for (const key of plugin.stepOptions) stepOptionKeys.set(key, plugin.stepOptionSchemas?.[key]);
    const api = createPluginApi(app, plugin, pluginOptions, reportPluginError);
    let result: ReturnType<TaplinePlugin["setup"]>;
    current = name;
    try {
      result = plugin.setup(api);
    } catch (error) {
      current = undefined;
      void app.close();
      throw registrationError(
        "TAPLINE_ERR_PLUGIN_SETUP",
        name,
        `plugin "${name}" failed in setup(): ${describeError(error)}`,
        { cause: error },
      );
    }
    current = undefined;
    if (typeof result === "function") disposers[index] = result;
    else if (result && typeof (result as Promise<unknown>).then === "function") {
      setups.push(
        (result as Promise<void | PluginDispose>).then(
          (dispose) => {
            if (typeof dispose === "function") disposers[index] = dispose;
          },
          (error: unknown) => {
            throw registrationError(
              "TAPLINE_ERR_PLUGIN_SETUP",
              name,
              `plugin "${name}" failed in its asynchronous setup(): ${describeError(error)}`,
              { cause: error },
            );
          },
        ),
      );
    }
  }
  if (setups.length > 0) {
    const pending = Promise.all(setups).then(() => {
      (app as { pending: Promise<void> | undefined }).pending = undefined;
    });
    pending.catch(() => {}); // surfaced by ready() and by run()
    (app as { pending: Promise<void> | undefined }).pending = pending;
  }
  return app;
}

function createPluginApi(
  app: TaplineApp,
  plugin: TaplinePlugin,
  options: unknown,
  reportPluginError: (error: PluginError, event: unknown) => void,
): PluginApi<unknown> {
  const { hooks } = app;
  const name = plugin.name;
  return {
    name,
    options,
    hooks,
    app,
    dir: app.dir,
    log: app.log.child({ plugin: name }),
    coreVersion: CORE_VERSION,
    redact: app.redact,
    metric(metricName, value, labels = {}, extra) {
      if (hooks.metric.taps.length === 0) return;
      // One fixed shape (absent fields are undefined): no spreads on this hot path.
      hooks.metric.call({
        name: metricName,
        value,
        labels,
        time: extra?.time ?? Date.now(),
        unit: extra?.unit,
        type: extra?.type,
        runId: undefined,
      });
    },
    raiseAlert(event) {
      if (hooks.alert.taps.length === 0) return;
      hooks.alert
        .promise({ ...event, time: event.time ?? Date.now(), source: name })
        .catch((error: unknown) => {
          reportPluginError(new PluginError({ plugin: name, hook: "alert", cause: error }), undefined);
        });
    },
    reportError(error, hook = "background") {
      reportPluginError(new PluginError({ plugin: name, hook, cause: error }), undefined);
    },
  };
}

// `unknown` (a part that cannot tell yet, or any more: a sampler starting or stopped) does not lower the
// level, but is named in the message. An unrecognised level counts as degraded.
const RANK: Record<string, number> = { ok: 0, unknown: 0, degraded: 1, critical: 2 };
const ORDER: Record<string, number> = { critical: 0, degraded: 1, unknown: 2 };

function summarizeStatus(parts: StatusPart[]): AppStatus {
  let worst = 0;
  for (const part of parts) worst = Math.max(worst, RANK[part.level] ?? 1);
  const level = worst === 2 ? "critical" : worst === 1 ? "degraded" : "healthy";
  const notable = parts
    .filter((p) => p.level !== "ok")
    .sort((a, b) => (ORDER[a.level] ?? 1) - (ORDER[b.level] ?? 1))
    .map((p) => `${p.level}: ${p.component}: ${p.message}`)
    .join("; ");
  const message = level === "healthy" ? (notable ? `healthy (${notable})` : "healthy") : notable;
  return { level, message, parts, time: Date.now() };
}
