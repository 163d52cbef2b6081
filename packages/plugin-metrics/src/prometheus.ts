import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MetricSample } from "@tapline/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { MetricsServerError } from "./errors.ts";
import { seriesId } from "./history.ts";
import { parseFactoryOptions } from "./options.ts";
import { ExporterOptionsSchema, ServerOptionsSchema } from "./schemas.ts";

/** Default histogram buckets for durations, in seconds (5 ms to 10 min: LLM, TTS and render steps). */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/** Options of {@link PrometheusExporter}. */
export interface PrometheusExporterOptions {
  /** Histogram buckets (seconds) for every duration. Default {@link DURATION_BUCKETS}. */
  buckets?: readonly number[];
  /** Most label sets per metric; excess label sets are dropped and counted in `tapline_metrics_dropped_samples_total{metric}`. Default 1000. */
  maxSeriesPerMetric?: number;
  /** Most distinct metric names taken from the `metric` hook. Default 500. */
  maxMetrics?: number;
  /** Labels added to every series (e.g. `{ worker: "a" }`). */
  defaultLabels?: Record<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Dynamic {
  metric: Gauge | Counter;
  keys: readonly string[];
  /** Each label set's value, to re-declare the metric when its label names grow (bounded by the guard). */
  readonly values: Map<string, { labels: Readonly<Record<string, string>>; value: number }>;
}

/**
 * The Prometheus side: a prom-client `Registry` of its own (never the global one) with histograms for
 * durations (`tapline_step_duration_seconds{pipeline,step,status}`, `tapline_run_duration_seconds`,
 * `tapline_operation_duration_seconds`), active gauges, and a gauge or counter for every other sample of the
 * `metric` hook. A cardinality guard per metric drops excess label sets and counts them.
 */
export class PrometheusExporter {
  /** The prom-client registry; register your own metrics on it if you like. */
  readonly registry: Registry;
  readonly #stepDuration: Histogram;
  readonly #runDuration: Histogram;
  readonly #operationDuration: Histogram;
  readonly #attempts: Counter;
  readonly #activeRuns: Gauge;
  readonly #activeSteps: Gauge;
  readonly #dropped: Counter;
  readonly #guards = new Map<string, Set<string>>();
  readonly #dynamic = new Map<string, Dynamic | null>();
  readonly #maxSeries: number;
  readonly #maxMetrics: number;

  constructor(options: PrometheusExporterOptions = {}) {
    options = parseFactoryOptions(ExporterOptionsSchema, options, "new PrometheusExporter()");
    const buckets = options.buckets ?? DURATION_BUCKETS;
    const maxSeries = options.maxSeriesPerMetric ?? 1000;
    const maxMetrics = options.maxMetrics ?? 500;
    this.#maxSeries = maxSeries;
    this.#maxMetrics = maxMetrics;
    this.registry = new Registry();
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    const registers = [this.registry];
    const b = [...buckets];
    this.#stepDuration = new Histogram({
      name: "tapline_step_duration_seconds",
      help: "Wall time of pipeline steps, retries and backoff included.",
      labelNames: ["pipeline", "step", "status"],
      buckets: b,
      registers,
    });
    this.#runDuration = new Histogram({
      name: "tapline_run_duration_seconds",
      help: "Wall time of pipeline runs.",
      labelNames: ["pipeline", "status"],
      buckets: b,
      registers,
    });
    this.#operationDuration = new Histogram({
      name: "tapline_operation_duration_seconds",
      help: "Wall time of standalone operations (timed(), logOperation()).",
      labelNames: ["operation", "status"],
      buckets: b,
      registers,
    });
    this.#attempts = new Counter({
      name: "tapline_step_attempts_total",
      help: "Real calls of step functions.",
      labelNames: ["pipeline", "step", "status"],
      registers,
    });
    this.#activeRuns = new Gauge({
      name: "tapline_runs_active",
      help: "Runs in flight.",
      labelNames: ["pipeline"],
      registers,
    });
    this.#activeSteps = new Gauge({
      name: "tapline_steps_active",
      help: "Steps in flight.",
      labelNames: ["pipeline", "step"],
      registers,
    });
    this.#dropped = new Counter({
      name: "tapline_metrics_dropped_samples_total",
      help: "Samples dropped by the cardinality guard or because of a bad name or label set.",
      labelNames: ["metric", "reason"],
      registers,
    });
  }

  #allow(metric: string, labels: Readonly<Record<string, string>>): boolean {
    let set = this.#guards.get(metric);
    if (!set) {
      set = new Set();
      this.#guards.set(metric, set);
    }
    const id = seriesId("", labels);
    if (set.has(id)) return true;
    if (set.size >= this.#maxSeries) {
      this.#dropped.inc({ metric, reason: "cardinality" });
      return false;
    }
    set.add(id);
    return true;
  }

  /** Observes one step duration (ms). */
  observeStep(pipeline: string, step: string, status: string, durationMs: number): void {
    const labels = { pipeline, step, status };
    if (this.#allow("tapline_step_duration_seconds", labels))
      this.#stepDuration.observe(labels, durationMs / 1000);
  }

  /** Counts one attempt. */
  countAttempt(pipeline: string, step: string, status: string): void {
    const labels = { pipeline, step, status };
    if (this.#allow("tapline_step_attempts_total", labels)) this.#attempts.inc(labels);
  }

  /** Observes one run duration (ms). */
  observeRun(pipeline: string, status: string, durationMs: number): void {
    const labels = { pipeline, status };
    if (this.#allow("tapline_run_duration_seconds", labels))
      this.#runDuration.observe(labels, durationMs / 1000);
  }

  /** Observes one standalone operation (ms). */
  observeOperation(operation: string, success: boolean, durationMs: number): void {
    const labels = { operation, status: success ? "success" : "failed" };
    if (this.#allow("tapline_operation_duration_seconds", labels))
      this.#operationDuration.observe(labels, durationMs / 1000);
  }

  /**
   * Observes a standalone operation (makes the exporter an `OperationSink`: `timed(name, fn, labels, exporter)`).
   */
  logOperation(entry: { operation: string; duration: number; success: boolean }): void {
    this.observeOperation(entry.operation, entry.success, entry.duration);
  }

  /** Moves the active-runs gauge. */
  activeRun(pipeline: string, delta: 1 | -1): void {
    if (this.#allow("tapline_runs_active", { pipeline })) this.#activeRuns.inc({ pipeline }, delta);
  }

  /** Moves the active-steps gauge. */
  activeStep(pipeline: string, step: string, delta: 1 | -1): void {
    const labels = { pipeline, step };
    if (this.#allow("tapline_steps_active", labels)) this.#activeSteps.inc(labels, delta);
  }

  /**
   * Takes a sample from the `metric` hook: gauges set their value, counters add theirs. The first sample of a
   * name fixes its label names; a sample may leave some out (a total beside per-core series: `{}` and
   * `{cpu}`), or add some to all of them (the metric is declared again with the larger set, values kept);
   * a sample with other label names (`{a}` then `{b}`) is dropped and counted. Names this exporter owns as
   * histograms (`tapline_step_duration_seconds`...) are ignored here.
   */
  sample(s: MetricSample): void {
    let d = this.#dynamic.get(s.name);
    if (d === undefined) {
      d = this.#create(s.name, s.unit, s.type === "counter", Object.keys(s.labels).sort());
      this.#dynamic.set(s.name, d);
    }
    if (d === null) return;
    const keys = Object.keys(s.labels);
    if (!keys.every((k) => d.keys.includes(k))) {
      if (!d.keys.every((k) => keys.includes(k)) || !this.#widen(s, d, keys.sort())) {
        this.#dropped.inc({ metric: s.name, reason: "labels" });
        return;
      }
    }
    if (!this.#allow(s.name, s.labels)) return;
    const id = seriesId("", s.labels);
    if (d.metric instanceof Counter) {
      if (s.value < 0) return;
      d.metric.inc(s.labels, s.value);
      const had = d.values.get(id);
      d.values.set(id, { labels: s.labels, value: (had?.value ?? 0) + s.value });
    } else {
      d.metric.set(s.labels, s.value);
      d.values.set(id, { labels: s.labels, value: s.value });
    }
  }

  /** Declares `d`'s metric again with `keys` (a superset of its label names) and restores its values. */
  #widen(s: MetricSample, d: Dynamic, keys: readonly string[]): boolean {
    if (keys.some((k) => !LABEL.test(k) || k.startsWith("__"))) return false;
    const counter = d.metric instanceof Counter;
    this.registry.removeSingleMetric(s.name);
    const next = this.#create(s.name, s.unit, counter, keys);
    if (!next) return false;
    for (const { labels, value } of d.values.values()) {
      if (next.metric instanceof Counter) next.metric.inc(labels, value);
      else next.metric.set(labels, value);
    }
    d.metric = next.metric;
    d.keys = keys;
    return true;
  }

  #create(name: string, unit: string | undefined, counter: boolean, keys: readonly string[]): Dynamic | null {
    if (this.#owned.has(name)) return null;
    if (!NAME.test(name) || keys.some((k) => !LABEL.test(k) || k.startsWith("__"))) {
      this.#dropped.inc({ metric: NAME.test(name) ? name : "invalid", reason: "name" });
      return null;
    }
    if (!this.#dynamic.has(name) && this.#dynamic.size >= this.#maxMetrics) {
      this.#dropped.inc({ metric: name, reason: "metrics" });
      return null;
    }
    const help = `${name}${unit ? ` (${unit})` : ""}, from the Tapline metric hook.`;
    const config = { name, help, labelNames: [...keys], registers: [this.registry] };
    try {
      const metric = counter ? new Counter(config) : new Gauge(config);
      return { metric, keys, values: new Map() };
    } catch {
      this.#dropped.inc({ metric: name, reason: "name" });
      return null;
    }
  }

  readonly #owned = new Set([
    "tapline_step_duration_seconds",
    "tapline_run_duration_seconds",
    "tapline_operation_duration_seconds",
    "tapline_step_attempts_total",
    "tapline_runs_active",
    "tapline_steps_active",
    "tapline_metrics_dropped_samples_total",
  ]);

  /** The exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * A Node `http` request handler serving the exposition on GET (any path: mount it where you like).
   *
   * @example
   * http.createServer((req, res) => req.url === "/metrics" ? exporter.handler(req, res) : app(req, res));
   */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    this.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": this.registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end(`metrics collection failed: ${(error as Error).message}\n`);
      },
    );
  };
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Default `127.0.0.1`: never exposed beyond the host unless you ask. */
  host?: string;
  /** Default 0: a free port (read it from `port`/`url`). */
  port?: number;
  /** Default `/metrics`. */
  path?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves an exporter's `/metrics` on its own HTTP server, bound to 127.0.0.1 by default. Rejects with a
 * `MetricsServerError` when it cannot listen. The server does not keep the process alive once closed.
 */
export async function startMetricsServer(
  exporter: PrometheusExporter,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  options = parseFactoryOptions(ServerOptionsSchema, options, "startMetricsServer()");
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const path = options.path ?? "/metrics";
  const server: Server = createServer((req, res) => {
    const url = req.url?.split("?", 1)[0];
    if (url === path) exporter.handler(req, res);
    else res.writeHead(404, { "content-type": "text/plain" }).end(`not found: metrics are at ${path}\n`);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new MetricsServerError({ host, port, cause: error })));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}${path}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
