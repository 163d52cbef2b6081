import { redactSecrets } from "@tapline/core";
import { parseFactoryOptions } from "./options.ts";
import { TrackerOptionsSchema } from "./schemas.ts";
import { WindowedSketch } from "./windowed-sketch.ts";
import { WINDOWS, type WindowName, type WindowStats } from "./windows.ts";

/** What a series is about: a pipeline step, a whole run, or a standalone operation. */
export type SeriesKind = "step" | "run" | "operation";

/** Identity of one tracked series. */
export interface SeriesKey {
  readonly kind: SeriesKind;
  /** Pipeline name for steps and runs; the operation name for operations. */
  readonly name: string;
  /** Step name (steps only). */
  readonly step?: string;
}

/** A tracked series as reported by {@link PerformanceTracker.snapshot}. */
export interface SeriesSnapshot extends SeriesKey {
  /** Runs or steps in flight now. */
  readonly active: number;
  /** The most frequent errors, all time (message → count), at most 5. */
  readonly topErrors: readonly { readonly message: string; readonly count: number }[];
  /** Statistics per window; durations in ms. */
  readonly windows: Readonly<Record<WindowName, WindowStats>>;
}

/** A point-in-time view of every series. */
export interface TrackerSnapshot {
  /** Epoch ms. */
  readonly time: number;
  readonly series: readonly SeriesSnapshot[];
  /** Series refused because `maxSeries` was reached. */
  readonly droppedSeries: number;
}

/** Options of {@link createPerformanceTracker}. */
export interface PerformanceTrackerOptions {
  /** Most series kept (each is bounded: ~92 sketches of ≤ 1024 bins). Records for new series past it are dropped and counted. Default 1000. */
  maxSeries?: number;
  /** Distinct error messages counted per series (the rest go to "other"). Default 20. */
  maxErrorsPerSeries?: number;
  /**
   * Applied to every error message before it is counted (and so before it reaches `topErrors`, snapshots
   * and status). Default: core's `redactSecrets`; the plugin passes the app's redactor (`api.redact.text`).
   */
  redact?: (text: string) => string;
  /** Clock in ms; default `performance.timeOrigin + performance.now()` (monotonic, epoch-aligned). */
  now?: () => number;
}

interface Series {
  readonly key: SeriesKey;
  readonly sketch: WindowedSketch;
  active: number;
  readonly errors: Map<string, number>;
}

const monotonicNow = (): number => performance.timeOrigin + performance.now();

/**
 * Counts, error rates, throughput, active counts and p50/p90/p95/p99 per (pipeline, step), per pipeline run
 * and per standalone operation, over 1 m / 5 m / 1 h windows and all time. Memory is bounded per series
 * (DDSketch with a bin limit, fixed slot rings) and by `maxSeries`.
 */
export class PerformanceTracker {
  readonly #series = new Map<string, Series>();
  readonly #maxSeries: number;
  readonly #maxErrors: number;
  readonly #now: () => number;
  readonly #redact: (text: string) => string;
  #dropped = 0;

  constructor(options: PerformanceTrackerOptions = {}) {
    // Validated once, with core's mechanism (unknown keys get a did-you-mean).
    options = parseFactoryOptions(TrackerOptionsSchema, options, "createPerformanceTracker()");
    const maxSeries = options.maxSeries ?? 1000;
    const maxErrors = options.maxErrorsPerSeries ?? 20;
    this.#maxSeries = maxSeries;
    this.#maxErrors = maxErrors;
    this.#now = options.now ?? monotonicNow;
    this.#redact = options.redact ?? redactSecrets;
  }

  #get(kind: SeriesKind, name: string, step: string | undefined): Series | undefined {
    const id = step === undefined ? `${kind}\u0000${name}` : `${kind}\u0000${name}\u0000${step}`;
    let series = this.#series.get(id);
    if (!series) {
      if (this.#series.size >= this.#maxSeries) {
        this.#dropped++;
        return undefined;
      }
      const key: SeriesKey = step === undefined ? { kind, name } : { kind, name, step };
      series = { key, sketch: new WindowedSketch(this.#now()), active: 0, errors: new Map() };
      this.#series.set(id, series);
    }
    return series;
  }

  /** Marks a run, step or operation as started (`active` goes up until {@link end}). */
  begin(kind: SeriesKind, name: string, step?: string): void {
    const series = this.#get(kind, name, step);
    if (series) series.active++;
  }

  /**
   * Records one completion. `error` (any thrown value or message) is counted under its message when `ok` is
   * false. Pass `begun: true` when {@link begin} was called for it, so `active` goes back down.
   */
  record(
    kind: SeriesKind,
    name: string,
    step: string | undefined,
    durationMs: number,
    ok: boolean,
    error?: unknown,
    begun = false,
  ): void {
    const series = this.#get(kind, name, step);
    if (!series) return;
    if (begun && series.active > 0) series.active--;
    series.sketch.record(durationMs, ok, this.#now());
    if (!ok && this.#maxErrors > 0) {
      let message = errorMessage(error, this.#redact);
      if (!series.errors.has(message) && series.errors.size >= this.#maxErrors) message = "other";
      series.errors.set(message, (series.errors.get(message) ?? 0) + 1);
    }
  }

  /** Statistics of one series over one window, or undefined when the series is unknown. */
  stats(kind: SeriesKind, name: string, step?: string, window: WindowName = "all"): WindowStats | undefined {
    const id = step === undefined ? `${kind}\u0000${name}` : `${kind}\u0000${name}\u0000${step}`;
    return this.#series.get(id)?.sketch.stats(window, this.#now());
  }

  /** Every series, every window. Costs a few sketch merges per series: call it at snapshot intervals, not per record. */
  snapshot(): TrackerSnapshot {
    const now = this.#now();
    const series: SeriesSnapshot[] = [];
    for (const s of this.#series.values()) {
      const windows = {} as Record<WindowName, WindowStats>;
      for (const w of WINDOWS) windows[w] = s.sketch.stats(w, now);
      const topErrors = [...s.errors.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([message, count]) => ({ message, count }));
      series.push({ ...s.key, active: s.active, topErrors, windows });
    }
    return { time: Date.now(), series, droppedSeries: this.#dropped };
  }

  /** Records a standalone operation (makes a tracker an `OperationSink` for `timed()` and `logOperation()`). */
  logOperation(entry: { operation: string; duration: number; success: boolean; error?: unknown }): void {
    this.record("operation", entry.operation, undefined, entry.duration, entry.success, entry.error);
  }

  /** Number of series tracked. */
  get size(): number {
    return this.#series.size;
  }
}

/** Creates a {@link PerformanceTracker}; options are validated here, once. */
export function createPerformanceTracker(options?: PerformanceTrackerOptions): PerformanceTracker {
  return new PerformanceTracker(options);
}

/**
 * @internal A short, bounded, redacted message for an error (first line, secrets redacted, at most 200
 * characters). Redacted before it is cut, so a secret is never half-kept.
 */
export function errorMessage(error: unknown, redact: (text: string) => string = redactSecrets): string {
  let text: string;
  if (error === undefined || error === null) text = "error";
  else if (error instanceof Error) text = `${error.name}: ${error.message}`;
  else if (typeof error === "string") text = error;
  else text = String(error);
  const first = text.split("\n", 1)[0] ?? text;
  const line = redact(first.length > 2000 ? first.slice(0, 2000) : first);
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
