import { join } from "node:path";
import { type AppStatus, definePlugin, type MetricSample, type PluginFactory } from "@tapline/core";
import { isPersistError, PersistError } from "./errors.ts";
import { type HistoryStats, MetricHistory } from "./history.ts";
import { optionsSchema } from "./options.ts";
import type { MetricsPluginOptions, NormalizedOptions } from "./plugin-options.ts";
import { type MetricsServer, PrometheusExporter, startMetricsServer } from "./prometheus.ts";
import { writeStatus } from "./status-file.ts";
import { MetricsStore, round } from "./store.ts";
import { SystemSampler } from "./system/sampler.ts";
import { logOperation as logOp, type OperationEntry, type OperationSink, timed as timeFn } from "./timing.ts";
import { errorMessage, PerformanceTracker, type TrackerSnapshot } from "./tracker.ts";

/** The package's version, reported as the plugin's version. */
export const METRICS_PLUGIN_VERSION = "1.0.0";

/** A point-in-time view of everything the plugin tracks. */
export interface MetricsSnapshot extends TrackerSnapshot {
  /** History stats of every system and process metric (`tapline_system_*`, `tapline_process_*`). */
  readonly system: readonly HistoryStats[];
  /** History stats of every other metric hook sample: quality gauges from validators, retry counters... */
  readonly quality: readonly HistoryStats[];
}

/** What `getMetrics(app)` returns: the plugin's live state, for users and for other tools in the process. */
export interface MetricsRuntime extends OperationSink {
  readonly tracker: PerformanceTracker;
  readonly history: MetricHistory;
  /** Undefined when `prometheus: false`. */
  readonly exporter: PrometheusExporter | undefined;
  /** Undefined when `persist: false`. */
  readonly store: MetricsStore | undefined;
  /** Undefined when `system: false`. */
  readonly sampler: SystemSampler | undefined;
  /** URL of the standalone `/metrics` server, when `prometheus.server` is set. */
  readonly serverUrl: string | undefined;
  /** `timed()` bound to this app: tracked, persisted and exported. */
  timed<T>(
    name: string,
    fn: () => T | PromiseLike<T>,
    labels?: Readonly<Record<string, string>>,
  ): Promise<Awaited<T>>;
  /** `logOperation()` bound to this app. */
  logOperation(entry: OperationEntry): void;
  /** Tracker, system and quality statistics now. */
  snapshot(): MetricsSnapshot;
  /** Writes a snapshot and `status.json` now and flushes every buffered record. */
  persistNow(): Promise<void>;
}

const runtimes = new WeakMap<object, MetricsRuntime>();

/**
 * The plugin's live state for an app (`undefined` when the app has no metrics plugin).
 *
 * @example
 * const m = getMetrics(app)!;
 * await m.timed("upload", () => upload(file));
 * console.log(m.tracker.stats("step", "story", "tts", "5m")?.p95);
 */
export function getMetrics(app: object): MetricsRuntime | undefined {
  return runtimes.get(app);
}

/** A bounded cache of a pure text function (error messages repeat: a failing dependency fails every run). */
function memoize(fn: (text: string) => string): (text: string) => string {
  const cache = new Map<string, string>();
  return (text) => {
    let out = cache.get(text);
    if (out === undefined) {
      if (cache.size >= 256) cache.clear();
      out = fn(text);
      cache.set(text, out);
    }
    return out;
  };
}

const SYSTEM_PREFIXES = ["tapline_system_", "tapline_process_", "tapline_sampler_"];

/**
 * `@tapline/plugin-metrics`: times every run, step and attempt, tracks counts, error rates, throughput and
 * percentiles per (pipeline, step) and per operation, samples the system, persists everything as JSON lines
 * under the app's dir (plus `status.json`), and exposes Prometheus metrics.
 *
 * @example
 * const app = createTapline({ dir: ".tapline", plugins: [metrics({ prometheus: { server: { port: 9464 } } })] });
 */
export const metrics: PluginFactory<MetricsPluginOptions | undefined> = definePlugin<
  NormalizedOptions,
  MetricsPluginOptions | undefined
>({
  name: "@tapline/plugin-metrics",
  version: METRICS_PLUGIN_VERSION,
  core: "^1.0.0",
  options: optionsSchema,
  async setup(api) {
    const o = api.options;
    const { hooks } = api;
    const app = api.app as { status(): AppStatus };
    // One redactor (the app's) for everything persisted: records, topErrors, snapshots, status.json. A failing
    // step's message is redacted by the tracker, the step record and the run record: remember recent results.
    const redactText = memoize(api.redact.text);
    const redact = { text: redactText, fields: api.redact.fields };
    const tracker = new PerformanceTracker({ ...o.tracker, redact: redactText });
    const history = new MetricHistory(o.history);
    const exporter = o.prometheus === false ? undefined : new PrometheusExporter(o.prometheus.exporter);
    let serverUrl: string | undefined;
    const reported = new Set<string>();
    let persistError: PersistError | undefined;
    let statusFailed = false;
    const onPersistError = (error: PersistError) => {
      persistError = error;
      // One clear error per path, not one per flush.
      if (reported.has(error.path)) return;
      reported.add(error.path);
      api.reportError(error, "persist");
    };
    const store =
      o.persist === false
        ? undefined
        : new MetricsStore({
            dir: api.dir,
            flushIntervalMs: o.persist.flushIntervalMs,
            maxFileBytes: o.persist.maxFileBytes,
            retentionDays: o.persist.retentionDays,
            persistSamples: o.persist.samples,
            redact,
            onError: onPersistError,
          });
    const sampler =
      o.system === false
        ? undefined
        : new SystemSampler({
            ...o.system,
            onSample: (samples) => {
              for (const s of samples)
                api.metric(
                  s.name,
                  s.value,
                  s.labels as Record<string, string>,
                  s.unit ? { unit: s.unit } : undefined,
                );
            },
            onError: (error) => api.reportError(error, "system-sampler"),
          });
    // The only step that can fail (port in use) comes before anything is tapped, opened, listened to or
    // started (the objects above hold no resource yet): a failed setup leaves nothing behind.
    let server: MetricsServer | undefined;
    if (exporter && o.prometheus !== false && o.prometheus.server !== false) {
      server = await startMetricsServer(exporter, o.prometheus.server);
      serverUrl = server.url;
    }

    hooks.runStart.tap(api.name, ({ ctx }) => {
      tracker.begin("run", ctx.pipeline);
      exporter?.activeRun(ctx.pipeline, 1);
    });
    hooks.stepStart.tap(api.name, ({ ctx }) => {
      tracker.begin("step", ctx.pipeline, ctx.step);
      exporter?.activeStep(ctx.pipeline, ctx.step, 1);
    });
    hooks.stepAttempt.tap(api.name, (e) => {
      if (e.phase === "end") exporter?.countAttempt(e.ctx.pipeline, e.ctx.step, e.status ?? "failed");
    });
    // Backpressure instead of dropping: a loop of runs that never yields to the event loop (pure transforms,
    // fail-fast steps) never completes a write; the step or run that finds the writer backlogged waits for it.
    const drained = Promise.resolve();
    const backpressure = (): Promise<void> => (store?.backlogged ? store.drain() : drained);
    hooks.stepEnd.tapPromise(api.name, ({ ctx, report }) => {
      const ok = report.status === "success";
      tracker.record("step", ctx.pipeline, ctx.step, report.durationMs, ok, report.error, true);
      exporter?.activeStep(ctx.pipeline, ctx.step, -1);
      exporter?.observeStep(ctx.pipeline, ctx.step, report.status, report.durationMs);
      store?.record({
        t: "step",
        time: Date.now(),
        runId: ctx.runId,
        pipeline: ctx.pipeline,
        step: ctx.step,
        status: report.status,
        durationMs: round(report.durationMs),
        attempts: report.attempts.length,
        ...(report.attempts.length > 1 && { attemptsMs: report.attempts.map((a) => round(a.durationMs)) }),
        ...(!ok && report.error !== undefined && { error: errorMessage(report.error, redactText) }),
      } as Parameters<MetricsStore["record"]>[0]);
      ctx.metric(
        "tapline_step_duration_seconds",
        report.durationMs / 1000,
        { status: report.status },
        { unit: "seconds" },
      );
      return backpressure();
    });
    hooks.runEnd.tapPromise(api.name, ({ ctx, report }) => {
      tracker.record(
        "run",
        ctx.pipeline,
        undefined,
        report.durationMs,
        report.status === "success",
        report.error,
        true,
      );
      exporter?.activeRun(ctx.pipeline, -1);
      exporter?.observeRun(ctx.pipeline, report.status, report.durationMs);
      store?.record({
        t: "run",
        time: Date.now(),
        runId: ctx.runId,
        pipeline: ctx.pipeline,
        status: report.status,
        durationMs: round(report.durationMs),
        ...(report.failedStep !== undefined && { failedStep: report.failedStep }),
        ...(report.status !== "success" &&
          report.error !== undefined && { error: errorMessage(report.error, redactText) }),
      });
      return backpressure();
    });
    hooks.metric.tap(api.name, (sample: MetricSample) => {
      history.add(sample);
      exporter?.sample(sample);
      store?.sample(sample);
    });
    hooks.status.tap(api.name, (parts) => {
      const degraded = store?.degraded === true || statusFailed;
      const sampler$ = sampler?.stats;
      parts.push({
        component: "metrics",
        level: degraded ? "degraded" : "ok",
        message: degraded ? (persistError?.message ?? "metrics records cannot be written") : "recording",
        details: {
          series: tracker.size,
          ...(store && {
            persisted: store.stats.runs.written + store.stats.metrics.written,
            dropped: store.stats.runs.dropped + store.stats.metrics.dropped,
          }),
          ...(sampler$ && {
            samplerSamples: sampler$.samples,
            samplerLastCpuMs: sampler$.lastCpuMs,
            samplerTimeouts: sampler$.timeouts,
          }),
          ...(serverUrl && { prometheus: serverUrl }),
        },
      });
      return parts;
    });

    const snapshot = (): MetricsSnapshot => {
      const all = history.all();
      return {
        ...tracker.snapshot(),
        system: all.filter((h) => SYSTEM_PREFIXES.some((p) => h.name.startsWith(p))),
        quality: all.filter(
          (h) =>
            !SYSTEM_PREFIXES.some((p) => h.name.startsWith(p)) && h.name !== "tapline_step_duration_seconds",
        ),
      };
    };
    const persistStatus = async (): Promise<void> => {
      try {
        await writeStatus(api.dir, api.redact.fields(app.status()));
        statusFailed = false;
      } catch (error) {
        if (!statusFailed) {
          statusFailed = true;
          const persist = isPersistError(error)
            ? error
            : new PersistError(join(api.dir, "status.json"), error);
          persistError ??= persist;
          api.reportError(persist, "persist");
        }
      }
    };
    // Snapshots never overlap: a tick while one is being written waits for it instead of racing it.
    let persisting: Promise<void> = Promise.resolve();
    const persistNow = (): Promise<void> => {
      persisting = persisting
        .then(async () => {
          if (!store) return;
          store.snapshot(tracker.snapshot());
          await store.flush();
          await persistStatus();
        })
        .catch((error: unknown) => api.reportError(error, "snapshot"));
      return persisting;
    };
    let snapshotTimer: NodeJS.Timeout | undefined;
    if (store) {
      snapshotTimer = setInterval(() => void persistNow(), o.snapshotIntervalMs);
      snapshotTimer.unref();
    }
    const onExit = () => store?.flushSync();
    process.on("exit", onExit);
    sampler?.start();

    const runtime: MetricsRuntime = {
      tracker,
      history,
      exporter,
      store,
      sampler,
      get serverUrl() {
        return serverUrl;
      },
      logOperation(entry) {
        logOp(entry, sink);
      },
      timed: (name, fn, labels) => timeFn(name, fn, labels, sink),
      snapshot,
      persistNow,
    };
    const sink: OperationSink = {
      logOperation(entry) {
        if (store) store.logOperation({ ...entry, ...(entry.time === undefined && { time: Date.now() }) });
        tracker.record("operation", entry.operation, undefined, entry.duration, entry.success, entry.error);
        exporter?.observeOperation(entry.operation, entry.success, entry.duration);
      },
    };
    runtimes.set(api.app, runtime);

    return async () => {
      clearInterval(snapshotTimer);
      process.off("exit", onExit);
      await sampler?.stop();
      await server?.close();
      if (store) {
        await persistNow();
        await store.close();
      }
      runtimes.delete(api.app);
    };
  },
});
