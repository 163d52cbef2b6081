import type { Finding, PluginError } from "./errors.ts";
import type { Artifact } from "./vocabulary.ts";

/**
 * Outcome of a step. `skipped`: never started because an earlier step failed or the run was cancelled.
 * `suspended`: the unit called `ctx.suspend()` (it runs again when the run is resumed).
 */
export type StepStatus = "success" | "failed" | "cancelled" | "skipped" | "suspended";

/** Outcome of a run. `suspended`: a unit called `ctx.suspend()`; `app.resume()` continues it. */
export type RunStatus = "success" | "failed" | "cancelled" | "suspended";

/** One real call of a step function (plus output validation, which is part of the attempt). */
export interface AttemptReport {
  readonly attempt: number;
  status: "running" | "success" | "failed";
  /** Epoch ms. */
  readonly startedAt: number;
  durationMs: number;
  error?: unknown;
  /** Findings recorded during this attempt (`ctx.finding()`, validators). */
  findings: readonly Finding[];
  /** Files declared during this attempt (`ctx.artifact()`). */
  artifacts: readonly Artifact[];
  /** What this attempt cost (`ctx.cost()`), by cost unit; absent when nothing was recorded. */
  cost?: Record<string, number>;
}

/**
 * The report extensions plugins add to each step report, by key. Plugins declare theirs by module
 * augmentation, as they do for `StepOptions`, so `report.steps[0].extensions.retry` is typed:
 *
 * @example
 * declare module "@tapline/core" {
 *   interface StepReportExtensions { cost?: { usd: number } }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by plugins
export interface StepReportExtensions {}

/** {@link StepReportExtensions} plus any other key, as `unknown`. */
export type StepExtensions = { -readonly [K in keyof StepReportExtensions]?: StepReportExtensions[K] } & {
  [key: string]: unknown;
};

/** What happened to one step of a run. */
export interface StepReport {
  /** The unit's name in its parent (a step name, a branch or case key, `[3]` for a map item). */
  readonly name: string;
  /** The unit's path with indexes (`scenes[3]`); a top-level step's is its name. */
  readonly path: string;
  readonly index: number;
  /**
   * The units inside a parallel, map, branch or sub-pipeline step, in definition (or item) order. A shape
   * step has no attempts of its own: its children have them.
   */
  children?: StepReport[];
  status: StepStatus;
  /** Every attempt, in order; retry plugins may add attempts. */
  readonly attempts: AttemptReport[];
  /** Epoch ms; 0 for a skipped step. */
  startedAt: number;
  /** Wall time of the step, every attempt and backoff included. */
  durationMs: number;
  output?: unknown;
  error?: unknown;
  /** Findings of the last attempt plus those recorded with `ctx.finding()`. */
  findings: readonly Finding[];
  /** Artifacts of the last attempt. */
  artifacts: readonly Artifact[];
  /** True when the step ignored its aborted signal and the run stopped waiting for it after the grace period. */
  abandoned: boolean;
  /** What the unit cost, every attempt (and, for a shape, every unit inside) included; `{}` when nothing. */
  cost: Record<string, number>;
  /**
   * True when a durable store replayed this unit's saved result (a resumed run): it was not executed (no
   * wrapper, no attempt) and costs nothing; `savedCost` is what its original execution cost.
   */
  replayed: boolean;
  /** What replaying saved: the replayed unit's original cost (for a shape, its replayed units'). */
  savedCost?: Record<string, number>;
  /**
   * Plugin contributions (`ctx.annotate()`), e.g. `retry`, `gpu`. Typed for every plugin that declares its
   * key in {@link StepReportExtensions}; other keys are `unknown`.
   */
  readonly extensions: StepExtensions;
}

/** What `pipeline.run()` resolves to. A run never rejects for a step failure: read `status`. */
export interface RunReport<TOutput = unknown, TOutputs = Record<string, unknown>> {
  readonly runId: string;
  readonly pipeline: string;
  status: RunStatus;
  /** The last step's output, on success. */
  output?: TOutput;
  /** Every completed step's output, by name. */
  readonly outputs: Partial<TOutputs>;
  readonly steps: StepReport[];
  /** Epoch ms. */
  readonly startedAt: number;
  durationMs: number;
  /** The failing step's error, or a `CancelledError`. */
  error?: unknown;
  /** Path of the unit that failed or was cancelled (`scenes[3]` when an item of the `scenes` map failed). */
  failedStep?: string;
  /** The abort reason, when cancelled. */
  cancelReason?: unknown;
  /** What the run cost, by cost unit (`{ usd: 0.012, tokens: 1200 }`). */
  readonly cost: Record<string, number>;
  /** The run's budget, when it had one. */
  readonly budget?: Readonly<Record<string, number>>;
  /**
   * Set when the budget stopped the run, or a unit's spend passed it (a `TAPLINE_ERR_BUDGET_EXCEEDED` error
   * naming the cost unit, the spend, the limit and the unit).
   */
  budgetExceeded?: unknown;
  /** Errors from observe taps during this run; they did not fail it. */
  readonly pluginErrors: PluginError[];
  /** True for a run continued by `app.resume()`. */
  readonly resumed: boolean;
  /** Set when the run is suspended: the unit that called `ctx.suspend()`, its reason and data. */
  suspended?: { readonly unit: string; readonly reason: string; readonly data?: unknown };
  /** What the replayed units of a resumed run saved, by cost unit (their original cost). */
  savedCost?: Record<string, number>;
}
