import { PerformanceTracker } from "./tracker.ts";

/**
 * One standalone operation, as given to {@link logOperation} (the seed's `PerformanceMonitor.log_operation`).
 */
export interface OperationEntry {
  /** What was done: `tts.synthesize`, `render`. */
  readonly operation: string;
  /** What it was done to: a file, a story id. Persisted, never used as a metric label (cardinality). */
  readonly subject?: string;
  /** Duration in milliseconds. */
  readonly duration: number;
  readonly success: boolean;
  /** The error (or its message) when `success` is false. */
  readonly error?: unknown;
  /** Extra measurements (characters, bytes, tokens). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Labels for the Prometheus series (keep their values few). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Epoch ms when it ended. Default now. */
  readonly time?: number;
}

/** Anything that takes operations: a {@link PerformanceTracker}, a `MetricsStore`, the plugin's `getMetrics(app)`. */
export interface OperationSink {
  logOperation(entry: OperationEntry): void;
}

/**
 * The process-wide tracker used when no sink is given, like the seed's global `PerformanceMonitor`. Its memory
 * is bounded (see `PerformanceTracker`). Inside an app, prefer `getMetrics(app)`, which also persists and exports.
 */
export const defaultTracker: PerformanceTracker = new PerformanceTracker();

/**
 * Records one operation in a sink (default: {@link defaultTracker}). Never throws for a bad sink: a sink
 * error is rethrown only if the entry itself is invalid.
 *
 * @example
 * const t0 = performance.now();
 * try { await synthesize(text); logOperation({ operation: "tts", subject: file, duration: performance.now() - t0, success: true }); }
 * catch (error) { logOperation({ operation: "tts", duration: performance.now() - t0, success: false, error }); throw error; }
 */
export function logOperation(entry: OperationEntry, sink: OperationSink = defaultTracker): void {
  if (!entry || typeof entry.operation !== "string" || entry.operation === "") {
    throw new TypeError('logOperation: "operation" must be a non-empty string');
  }
  if (!(Number.isFinite(entry.duration) && entry.duration >= 0)) {
    throw new TypeError(
      `logOperation("${entry.operation}"): "duration" must be a finite number of ms ≥ 0, got ${String(entry.duration)}`,
    );
  }
  sink.logOperation(entry);
}

/**
 * Runs `fn`, timing it on the monotonic clock (`performance.now()`), and records the outcome as an operation
 * named `name` in `sink` (default: {@link defaultTracker}). Returns (or rethrows) what `fn` does. The seed's
 * `@time_operation` decorator, as a function.
 *
 * @example
 * const audio = await timed("tts.synthesize", () => synthesize(text), { voice: "en" });
 * const audio2 = await timed("tts.synthesize", () => synthesize(text), {}, getMetrics(app));
 */
export async function timed<T>(
  name: string,
  fn: () => T | PromiseLike<T>,
  labels?: Readonly<Record<string, string>>,
  sink: OperationSink = defaultTracker,
): Promise<Awaited<T>> {
  if (typeof name !== "string" || name === "")
    throw new TypeError('timed: "name" must be a non-empty string');
  if (typeof fn !== "function") throw new TypeError(`timed("${name}"): "fn" must be a function`);
  const t0 = performance.now();
  try {
    const result = await fn();
    sink.logOperation({
      operation: name,
      duration: performance.now() - t0,
      success: true,
      ...(labels && { labels }),
    });
    return result;
  } catch (error) {
    sink.logOperation({
      operation: name,
      duration: performance.now() - t0,
      success: false,
      error,
      ...(labels && { labels }),
    });
    throw error;
  }
}
