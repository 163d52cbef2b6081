/**
 * The vocabulary every plugin shares. Plugins never import each other: they exchange these objects through
 * core's hooks, so plugin-alerts can alert on a breaker opening without knowing plugin-retry exists.
 */

/** Label set of a metric sample or an alert. Values are strings, as in Prometheus. */
export type Labels = Readonly<Record<string, string>>;

/**
 * One measurement, carried by the `metric` hook. Names follow Prometheus conventions
 * (`tapline_step_duration_seconds`, base units, `_total` for counters).
 */
export interface MetricSample {
  readonly name: string;
  readonly value: number;
  /** Base unit: `seconds`, `bytes`, `ratio`, `celsius`, `watts`, `joules`... */
  readonly unit?: string;
  /** `counter` samples carry an increment; `gauge` (the default) carries the current value. */
  readonly type?: "gauge" | "counter";
  readonly labels: Labels;
  /** Epoch milliseconds. */
  readonly time: number;
  /** Set when the sample was produced inside a run. */
  readonly runId?: string;
}

/** Alert severity, in increasing order. */
export type AlertLevel = "info" | "warning" | "error" | "critical";

/** Where an alert instance stands. */
export type AlertState = "pending" | "firing" | "resolved";

/** An alert transition, carried by the `alert` hook to every handler. */
export interface AlertEvent {
  /** Name of the rule (or of the condition) that raised it, e.g. `breaker_open`. */
  readonly rule: string;
  readonly level: AlertLevel;
  readonly state: AlertState;
  readonly labels: Labels;
  /** Human message: "step tts failing 62% over 5m". */
  readonly message: string;
  readonly value?: number;
  /** Epoch milliseconds of the transition. */
  readonly time: number;
  /** Epoch milliseconds when the instance started firing (or pending). */
  readonly startsAt?: number;
  /** The plugin that raised it. */
  readonly source?: string;
  /** Set for run-scoped alerts; they resolve when the run ends. */
  readonly runId?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Health level of one component. */
export type StatusLevel = "ok" | "degraded" | "critical" | "unknown";

/** One plugin's contribution to `app.status()`. */
export interface StatusPart {
  readonly component: string;
  readonly level: StatusLevel;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A file a step produced, declared with `ctx.artifact()`, checked by validators and listed in reports. */
export interface Artifact {
  readonly path: string;
  /** `audio`, `video`, `text`, `subtitles`, `image`... Validators pick artifacts by kind. */
  readonly kind?: string;
  readonly step: string;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * A pino-compatible logger: pass a pino instance (or anything with these methods) as `logger`.
 * The first argument is either a message or an object of fields followed by a message.
 */
export interface Logger {
  trace(obj: unknown, msg?: string, ...args: unknown[]): void;
  debug(obj: unknown, msg?: string, ...args: unknown[]): void;
  info(obj: unknown, msg?: string, ...args: unknown[]): void;
  warn(obj: unknown, msg?: string, ...args: unknown[]): void;
  error(obj: unknown, msg?: string, ...args: unknown[]): void;
  fatal(obj: unknown, msg?: string, ...args: unknown[]): void;
  child(bindings: Record<string, unknown>): Logger;
}
