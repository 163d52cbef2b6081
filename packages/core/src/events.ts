import type { Finding, PluginError } from "./errors.ts";
import type { RunReport, RunStatus, StepReport, StepReportExtensions } from "./report.ts";
import type { Artifact, Labels, Logger } from "./vocabulary.ts";

/**
 * Options a step accepts. Plugins add their own keys by module augmentation, so step options are typed
 * and an unknown key is a type error (and, at run time, a `PipelineDefinitionError` when the pipeline is built):
 *
 * @example
 * declare module "@tapline/core" {
 *   interface StepOptions { retry?: RetryStepOptions }
 * }
 */
export interface StepOptions {
  /** Deadline for the whole step, all attempts included, in ms. The step's signal aborts with a `StepTimeoutError`. */
  timeout?: number;
  /** Labels added to every metric sample and alert the step produces. */
  labels?: Record<string, string>;
  /** A line for reports and progress displays. */
  description?: string;
  /**
   * What one run of this unit is expected to cost, by cost unit (`{ usd: 0.004 }`), or a function of its
   * input. When the run's spend plus this estimate would pass the run's `budget`, the unit does not start
   * and the run fails with `TAPLINE_ERR_BUDGET_EXCEEDED`.
   */
  estimate?: Costs | ((input: any) => Costs);
}

/** Amounts by cost unit: `{ usd: 0.012, tokens: 1200 }`. Units are free-form. */
export type Costs = Readonly<Record<string, number>>;

/** Options of `ctx.cost()`. */
export interface CostOptions {
  /** The cost unit: `usd`, `tokens`, `characters`, `images`... */
  unit: string;
  /** Extra labels on the published `tapline_cost_total` sample (a provider, a model). */
  labels?: Record<string, string>;
}

/** Options of `pipeline.run()`. */
export interface RunOptions {
  /** Aborting it cancels the run: the running step's `ctx.signal` aborts with the same reason. */
  signal?: AbortSignal;
  /** Defaults to a random UUID. */
  runId?: string;
  /** Labels added to every sample and alert of this run. */
  labels?: Record<string, string>;
  /** Overrides the app's `graceMs` for this run. */
  graceMs?: number;
  /**
   * A W3C `traceparent` (`00-<trace id>-<span id>-<flags>`) the run continues: tracing plugins make the run a
   * child of that span, across processes (a queued job carries it). Not a label, so it never becomes a
   * metric series. `tracestate` goes with it.
   */
  traceparent?: string;
  tracestate?: string;
  /**
   * Most this run may spend, by cost unit (`{ usd: 0.5 }`); overrides the pipeline's. Before each unit, its
   * `estimate` is added to what was spent: past the budget, the unit does not start and the run fails with
   * `TAPLINE_ERR_BUDGET_EXCEEDED`. A spend that passes it during a unit is reported, and no later unit starts.
   */
  budget?: Costs;
}

/** Options of `app.resume()`. */
export interface ResumeOptions {
  /** Aborting it cancels the resumed run, as `RunOptions.signal` does. */
  signal?: AbortSignal;
  /**
   * For a suspended run (an approval): the suspended unit runs again with `ctx.resumeData` set to this.
   * Giving it for a run that is not suspended is a `TAPLINE_ERR_RUN_NOT_SUSPENDED` error.
   */
  resumeData?: unknown;
  /** Overrides the app's `graceMs` for this run. */
  graceMs?: number;
}

/** Options of `ctx.suspend()`. */
export interface SuspendOptions {
  /** Why the run waits (shown by `tapline runs` and the run's report): "approve the script". */
  reason: string;
  /** Anything the person who resumes needs to see (saved with the run; serialisable). */
  data?: unknown;
}

/** A run as a durable store saved it: what `app.resume()` needs to run it again. */
export interface SavedRun {
  readonly runId: string;
  readonly pipeline: string;
  /** The run's input, as it was first given. */
  readonly input: unknown;
  /** `running` for a run whose process died (its lease expired) or is still going. */
  readonly status: RunStatus | "running";
  readonly labels?: Record<string, string>;
  readonly budget?: Costs;
  /** Set for a suspended run. */
  readonly suspended?: { readonly unit: string; readonly reason: string; readonly data?: unknown };
  /**
   * Called by core when it does not go on with the loaded run (the run is not suspended but was given
   * `resumeData`, or its pipeline is not built): the store lets go of what it took (a lease).
   */
  readonly release?: () => void | Promise<void>;
}

/** Given to `loadRun` taps by `app.resume()`. */
export interface LoadRunEvent {
  readonly runId: string;
  /** What `resume()` was given as `resumeData` (`undefined` for a plain resume). */
  readonly resumeData: unknown;
}

/** Given to `replayUnit` taps before a function unit runs. */
export interface ReplayUnitEvent {
  readonly ctx: StepContext;
  readonly input: unknown;
}

/** A saved result a store offers for a unit: the unit is not executed, its report is marked replayed. */
export interface ReplayedUnit {
  readonly output: unknown;
  /** What the original execution cost (reported as the unit's `savedCost`). */
  readonly cost?: Costs;
  /** The files the original execution declared (already checked by the store). */
  readonly artifacts?: readonly Artifact[];
}

/** Given to `saveUnit` taps after a function unit succeeded (not after a replay). */
export interface SaveUnitEvent {
  readonly ctx: StepContext;
  readonly input: unknown;
  readonly report: StepReport;
}

/** Context of a run, given to run-level hooks. */
export interface RunContext {
  readonly runId: string;
  readonly pipeline: string;
  /** Aborted when the run is cancelled (its `reason` is the cancel reason). */
  readonly signal: AbortSignal;
  /** A child logger bound to `{ runId, pipeline }`. */
  readonly log: Logger;
  readonly labels: Labels;
  /** The caller's W3C trace context, when `run()` was given one (`RunOptions.traceparent`). */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  /** Publish a sample through the `metric` hook, labelled with the pipeline (and step). */
  metric(name: string, value: number, labels?: Record<string, string>, options?: MetricOptions): void;
}

/** Extra fields of a sample published through `ctx.metric()`. */
export interface MetricOptions {
  unit?: string;
  type?: "gauge" | "counter";
  /** Epoch ms the value was measured at (default: now), e.g. one timestamp for a whole sampler snapshot. */
  time?: number;
}

/** Context of one step execution, the second argument of every step function. */
export interface StepContext<TOutputs = Record<string, unknown>> extends RunContext {
  /** The top-level step this unit belongs to (`scenes` for the item `scenes[3]`). */
  readonly step: string;
  /**
   * The unit's path with indexes: `script`, `media.voice`, `scenes[3]`, `publish.shorts`. Use it in records
   * and messages.
   */
  readonly path: string;
  /** The path without indexes (`scenes[]`): use it for metric labels and span names (low cardinality). */
  readonly definitionPath: string;
  /** The enclosing unit's context (the `scenes` step for `scenes[3]`); `undefined` for a top-level step. */
  readonly parent: StepContext | undefined;
  /** Zero-based position: of the step in its pipeline, of the item in its map, of the branch in its step. */
  readonly index: number;
  /** Number of the current attempt, from 1; retry plugins call the step again and this goes up. */
  readonly attempt: number;
  /** The outputs of every earlier step, by step name. */
  readonly outputs: Readonly<TOutputs>;
  readonly options: Readonly<StepOptions>;
  /**
   * When the step's `timeout` expires, in epoch ms (`undefined` without a timeout). Wrappers that budget
   * time across attempts (retry) read what is left from it, so their budget and core's timeout agree.
   */
  readonly deadline: number | undefined;
  /**
   * Record what this attempt cost (`ctx.cost(0.004, { unit: "usd" })`): a billed attempt that then fails still
   * costs. Summed per unit, step and run (`report.cost`), published as `tapline_cost_total{pipeline,step,unit}`,
   * and checked against the run's budget.
   */
  cost(amount: number, options: CostOptions): void;
  /** Declare a file this attempt produced: validators check it, reports list it. */
  artifact(path: string, info?: { kind?: string; meta?: Record<string, unknown> }): void;
  /** Record a finding that does not fail the step (a warning, a measurement). */
  finding(finding: Finding): void;
  /**
   * Ends the run with status `suspended`, to wait for a person or an event (approve the script before paying
   * for the voice). Throws (never returns): the unit stops here, nothing after it starts, and no retry calls it
   * again. `app.resume(runId, { resumeData })` (or `tapline approve`) runs this unit again with
   * `ctx.resumeData` set; the units before it replay from the store. Needs a durable store plugin
   * (`@tapline/plugin-durable`); without one it fails the unit with `TAPLINE_ERR_NO_DURABLE_STORE`.
   *
   * @example
   * if (ctx.resumeData === undefined) return ctx.suspend({ reason: "approve the script", data: { script } });
   */
  suspend(options: SuspendOptions): never;
  /**
   * What `app.resume(runId, { resumeData })` was given, in the unit that suspended the run; `undefined`
   * elsewhere and in a first run.
   */
  readonly resumeData: unknown;
  /** Attach plugin data to this step's report, under `report.extensions[key]`. */
  annotate<K extends string>(
    key: K,
    value: K extends keyof StepReportExtensions ? NonNullable<StepReportExtensions[K]> : unknown,
  ): void;
}

/** Calls the step (and whatever wraps it). `signal` is the signal the call must honour. */
export type StepRunner = (input: unknown, signal: AbortSignal) => Promise<unknown>;

/** What a `wrapStep` tap knows about the step it wraps. */
export interface WrapStepInfo {
  readonly ctx: StepContext;
  /** The top-level step (see `ctx.path` for the unit). */
  readonly step: string;
  readonly pipeline: string;
  readonly options: Readonly<StepOptions>;
}

/** Fired once per run, before the first step; awaited. */
export interface RunStartEvent {
  readonly ctx: RunContext;
  readonly input: unknown;
  /** True for a run continued by `app.resume()`. */
  readonly resumed: boolean;
}

/** Fired before each step; awaited. */
export interface StepStartEvent {
  readonly ctx: StepContext;
  readonly input: unknown;
  /**
   * True when a durable store replays the unit's saved result instead of executing it: no attempt follows,
   * and `stepEnd` comes with the replayed report. Count it as replayed, not as a 0 ms execution.
   */
  readonly replayed: boolean;
}

/** Given to `validateStepInput` taps, once per step, before any attempt. */
export interface StepInputEvent {
  readonly ctx: StepContext;
  readonly input: unknown;
}

/** Given to `validateStepOutput` taps after every successful call, inside the attempt. */
export interface StepOutputEvent {
  readonly ctx: StepContext;
  readonly output: unknown;
  /** Files declared through `ctx.artifact()` during this attempt. */
  readonly artifacts: readonly Artifact[];
}

/** Fired synchronously around each real call of the step function. */
export interface StepAttemptEvent {
  readonly ctx: StepContext;
  readonly attempt: number;
  readonly phase: "start" | "end";
  /** Set on `end`. */
  readonly status?: "success" | "failed";
  /** Set on `end`, in ms. */
  readonly durationMs?: number;
  /** Set on a failed `end`. */
  readonly error?: unknown;
}

/** Fired after each step, whatever its outcome; awaited. */
export interface StepEndEvent {
  readonly ctx: StepContext;
  /** True for a replayed unit (see `StepStartEvent.replayed`); also `report.replayed`. */
  readonly replayed: boolean;
  /** The step's report; taps may add to `report.extensions`. */
  readonly report: StepReport;
}

/** Fired once per run after the last step; taps run in parallel and are awaited. */
export interface RunEndEvent {
  readonly ctx: RunContext;
  readonly report: RunReport;
}

/** The definition of one step, as `pipelineBuild` taps see it. */
export interface StepDefinition {
  /** The name in its parent (a step name, a branch or case key, `[]` for a map's item unit). */
  readonly name: string;
  /** The definition path: `script`, `media.voice`, `scenes[]`, `publish.shorts`. */
  readonly path: string;
  /** `step` (a function), or the shape: `parallel`, `map`, `branch`, `chain` (a sub-pipeline). */
  readonly kind: "step" | "parallel" | "map" | "branch" | "chain";
  readonly options: Readonly<StepOptions>;
  /** The units inside a shape: branches, the map's item unit, cases, a sub-pipeline's steps. */
  readonly children?: readonly StepDefinition[];
}

/** Fired synchronously when a pipeline is built; a tap throws to reject the definition. */
export interface PipelineBuildEvent {
  readonly pipeline: string;
  readonly steps: readonly StepDefinition[];
}

/** An error thrown by a plugin's tap (or reported by a plugin) that did not fail a run. */
export interface PluginErrorEvent {
  readonly error: PluginError;
  readonly runId?: string;
  /** The top-level step, when the error happened in one. */
  readonly step?: string;
  /** The unit's path (`scenes[3]`), when the error happened in one. */
  readonly path?: string;
}
