import { stat } from "node:fs/promises";
import { type AppStatus, type Artifact, definePlugin, type PluginFactory } from "@tapline/core";
import type { PersistError } from "./errors.ts";
import { MetricHistory } from "./history.ts";
import { memoize } from "./internal/memoize.ts";
import { optionsSchema } from "./options.ts";
import type { MetricsPluginOptions, NormalizedOptions } from "./plugin-options.ts";
import { type MetricsServer, PrometheusExporter, startMetricsServer } from "./prometheus.ts";
import { RECORD_LIMITS } from "./records.ts";
import { type MetricsSnapshot, metricsSnapshot } from "./snapshot.ts";
import { MetricsStore } from "./store.ts";
import { SystemSampler } from "./system/sampler.ts";
import { logOperation, type OperationEntry, type OperationSink, timed } from "./timing.ts";
import { PerformanceTracker } from "./tracker.ts";

export type { MetricsSnapshot } from "./snapshot.ts";

/** The package's version, reported as the plugin's version. */
const METRICS_PLUGIN_VERSION = "1.0.0";

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

/** Declared files with their sizes (a file gone or unreadable keeps none; only those a record keeps are read). */
async function artifactSizes(
  artifacts: readonly Artifact[],
): Promise<{ path: string; kind?: string; size?: number }[]> {
  return Promise.all(
    artifacts.map(async (a, i) => {
      const size =
        i >= RECORD_LIMITS.artifacts
          ? undefined
          : await stat(a.path).then(
              (s) => (s.isFile() ? s.size : undefined),
              () => undefined,
            );
      return { path: a.path, ...(a.kind && { kind: a.kind }), ...(size !== undefined && { size }) };
    }),
  );
}

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

/**
 * `@tapline/plugin-metrics`: times every run, step and attempt, tracks counts, error rates, throughput and
 * percentiles per (pipeline, step) and per operation, samples the system, persists everything as JSON lines
 * under the app's dir (plus `status.json`), and exposes Prometheus metrics.
 *
 * A thin adapter: hooks in, calls to the standalone objects out (`PerformanceTracker`, `MetricsStore`,
 * `SystemSampler`, `PrometheusExporter`, `timed`, `logOperation`), so a pipeline and a standalone user run the
 * same code.
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
    const tracker = new PerformanceTracker({ ...o.tracker, redact: redactText });
    const history = new MetricHistory(o.history);
    const exporter = o.prometheus === false ? undefined : new PrometheusExporter(o.prometheus.exporter);
    const reported = new Set<string>();
    const onPersistError = (error: PersistError) => {
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
            tracker,
            redact: { text: redactText, fields: api.redact.fields },
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
    // Operations go where a standalone user would send them: the store (which counts them in the tracker)
    // or the tracker, and the exporter.
    const primary: OperationSink = store ?? tracker;
    const operations: OperationSink = exporter
      ? {
          logOperation(entry) {
            primary.logOperation(entry);
            exporter.logOperation(entry);
          },
        }
      : primary;
    // The only step that can fail (port in use) comes before anything is tapped, opened, listened to or
    // started (the objects above hold no resource yet): a failed setup leaves nothing behind.
    let server: MetricsServer | undefined;
    if (exporter && o.prometheus !== false && o.prometheus.server !== false) {
      server = await startMetricsServer(exporter, o.prometheus.server);
    }
    const serverUrl = server?.url;

    hooks.runStart.tap(api.name, ({ ctx }) => {
      tracker.begin("run", ctx.pipeline);
      exporter?.activeRun(ctx.pipeline, 1);
    });
    hooks.stepStart.tap(api.name, ({ ctx, replayed }) => {
      if (replayed) return;
      // Series by definition path (`scenes[]`): 10,000 map items are one series; records keep the path.
      tracker.begin("step", ctx.pipeline, ctx.definitionPath);
      exporter?.activeStep(ctx.pipeline, ctx.definitionPath, 1);
    });
    hooks.stepAttempt.tap(api.name, (e) => {
      if (e.phase === "end")
        exporter?.countAttempt(e.ctx.pipeline, e.ctx.definitionPath, e.status ?? "failed");
    });
    // Backpressure instead of dropping: a loop of runs that never yields to the event loop (pure transforms,
    // fail-fast steps) never completes a write; the step or run that finds the writer backlogged waits for it.
    const drained = Promise.resolve();
    const backpressure = (): Promise<void> => (store?.backlogged ? store.drain() : drained);
    hooks.stepEnd.tapPromise(api.name, async ({ ctx, report, replayed }) => {
      const { pipeline, definitionPath: step } = ctx;
      if (replayed) {
        // Counted as replayed, never as a 0 ms execution: no duration sample, no attempt, no active gauge.
        ctx.metric("tapline_steps_replayed_total", 1, {}, { type: "counter" });
        store?.recordStep({
          runId: ctx.runId,
          pipeline,
          step,
          path: ctx.path,
          status: report.status,
          durationMs: report.durationMs,
          attempts: report.attempts,
          ...(report.savedCost && { cost: report.savedCost }),
          replayed: true,
        });
        return backpressure();
      }
      tracker.record(
        "step",
        pipeline,
        step,
        report.durationMs,
        report.status === "success",
        report.error,
        true,
      );
      exporter?.activeStep(pipeline, step, -1);
      exporter?.observeStep(pipeline, step, report.status, report.durationMs);
      if (store) {
        // The size of each declared file, read once when the step ends (the page shows it beside the player).
        const artifacts = report.artifacts.length === 0 ? undefined : await artifactSizes(report.artifacts);
        store.recordStep({
          runId: ctx.runId,
          pipeline,
          step,
          path: ctx.path,
          status: report.status,
          durationMs: report.durationMs,
          attempts: report.attempts,
          error: report.error,
          cost: report.cost,
          findings: report.findings,
          size: sizeOf(report.extensions),
          labels: ctx.labels,
          artifacts,
        });
      }
      ctx.metric(
        "tapline_step_duration_seconds",
        report.durationMs / 1000,
        { status: report.status },
        { unit: "seconds" },
      );
      return backpressure();
    });
    hooks.runEnd.tapPromise(api.name, ({ ctx, report }) => {
      const ok = report.status === "success";
      tracker.record("run", ctx.pipeline, undefined, report.durationMs, ok, report.error, true);
      exporter?.activeRun(ctx.pipeline, -1);
      exporter?.observeRun(ctx.pipeline, report.status, report.durationMs);
      store?.recordRun({
        runId: ctx.runId,
        pipeline: ctx.pipeline,
        status: report.status,
        durationMs: report.durationMs,
        failedStep: report.failedStep,
        error: report.error,
        cost: report.cost,
      });
      return backpressure();
    });
    hooks.metric.tap(api.name, (sample) => {
      history.add(sample);
      exporter?.sample(sample);
      store?.sample(sample);
    });
    hooks.status.tap(api.name, (parts) => {
      const degraded = store?.degraded === true;
      const sampler$ = sampler?.stats;
      parts.push({
        component: "metrics",
        level: degraded ? "degraded" : "ok",
        message: degraded ? (store?.lastError ?? "metrics records cannot be written") : "recording",
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

    const status = () => app.status();
    const persistNow = async (): Promise<void> => {
      await store?.checkpoint(tracker.snapshot(), status).catch((error: unknown) => {
        api.reportError(error, "snapshot");
      });
    };
    let snapshotTimer: NodeJS.Timeout | undefined;
    if (store) {
      snapshotTimer = setInterval(() => void persistNow(), o.snapshotIntervalMs);
      snapshotTimer.unref();
    }
    const onExit = () => store?.flushSync();
    process.on("exit", onExit);
    sampler?.start();

    runtimes.set(api.app, {
      tracker,
      history,
      exporter,
      store,
      sampler,
      serverUrl,
      logOperation: (entry) => logOperation(entry, operations),
      timed: (name, fn, labels) => timed(name, fn, labels, operations),
      snapshot: () => metricsSnapshot(tracker, history),
      persistNow,
    });

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

/** A unit's reported size (`ctx.annotate("size", { value })`), when it is a number. */
function sizeOf(extensions: Record<string, unknown>): number | undefined {
  const value = (extensions.size as { value?: unknown } | undefined)?.value;
  return typeof value === "number" ? value : undefined;
}
