import {
  BudgetExceededError,
  type Finding,
  NoDurableStoreError,
  type PluginError,
  RunSuspendedError,
} from "../errors.ts";
import type {
  CostOptions,
  Costs,
  MetricOptions,
  RunContext,
  StepContext,
  StepOptions,
  SuspendOptions,
} from "../events.ts";
import type { TaplineHooks } from "../hooks.ts";
import type { AttemptReport, RunReport, StepReport } from "../report.ts";
import type { Labels, Logger } from "../vocabulary.ts";

/** @internal What contexts need from their app. */
export interface AppInternals {
  readonly hooks: TaplineHooks;
  readonly log: Logger;
  reportPluginError(error: PluginError, event: unknown): void;
}

/** @internal Mutable state of one run, reachable from its contexts. */
export interface RunState {
  readonly app: AppInternals;
  readonly report: RunReport;
  readonly controller: AbortController;
  readonly graceMs: number;
  /** Units awaited through a race: each function makes its wait reject (abandoning the unit). */
  readonly abandoners: Set<(reason: unknown) => void>;
  /** Units a shape stopped waiting for: their late results are dropped. */
  readonly givenUp: WeakSet<StepReport>;
  /** Cancels the run (first call wins) and starts the grace period. */
  abort(reason: unknown): void;
  /** Whether the run can stop waiting for a step that ignores its aborted signal (it has a caller's signal). */
  readonly abandonable: boolean;
  /** Called once when the run has settled (set by `app.close()` to wait for it). */
  onSettled: (() => void) | undefined;
  /** The step in flight, for a run that must stop waiting for it (no caller's signal). */
  current: StepReport | undefined;
  /** True once the run stopped waiting for a stubborn step: later results of that step are dropped. */
  detached: boolean;
  /** The run's budget, by cost unit. */
  readonly budget: Costs | undefined;
  /** Set once a unit's spend passed the budget: no later unit starts. */
  overBudget: BudgetExceededError | undefined;
  /** Set for a run continued by `app.resume()`: units may replay; `unit` gets `data` as `ctx.resumeData`. */
  readonly resume: ResumeState | undefined;
}

/** @internal What `app.resume()` gives a resumed run. */
export interface ResumeState {
  /** The path of the unit that suspended the run, if it was suspended. */
  readonly unit: string | undefined;
  readonly data: unknown;
}

/** @internal The symbol under which a context keeps its run's state. */
export const RUN_STATE: unique symbol = Symbol("tapline.run");

/** @internal */
export class RunCtx implements RunContext {
  readonly runId: string;
  readonly pipeline: string;
  readonly signal: AbortSignal;
  readonly labels: Labels;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly [RUN_STATE]: RunState;
  #log: Logger | undefined;

  constructor(
    state: RunState,
    runId: string,
    pipeline: string,
    labels: Labels,
    trace?: { traceparent?: string | undefined; tracestate?: string | undefined },
  ) {
    this[RUN_STATE] = state;
    this.runId = runId;
    this.pipeline = pipeline;
    this.signal = state.controller.signal;
    this.labels = labels;
    this.traceparent = trace?.traceparent;
    this.tracestate = trace?.tracestate;
  }

  get log(): Logger {
    this.#log ??= this[RUN_STATE].app.log.child({ runId: this.runId, pipeline: this.pipeline });
    return this.#log;
  }

  metric(name: string, value: number, labels?: Record<string, string>, options?: MetricOptions): void {
    emitMetric(
      this[RUN_STATE].app.hooks,
      this.runId,
      { pipeline: this.pipeline, ...this.labels, ...labels },
      name,
      value,
      options,
    );
  }
}

/** @internal */
/** @internal Where a unit sits in its run. */
export interface UnitPlace {
  /** The top-level step. */
  readonly step: string;
  readonly index: number;
  readonly path: string;
  readonly definitionPath: string;
  readonly parent: StepCtx | undefined;
  /** The parent's signal (the run's for a top-level step): aborting it cancels the unit. */
  readonly signal: AbortSignal;
  /** Where the unit's report goes: the run's steps, or the parent's children. */
  readonly sink: StepReport[];
  /**
   * The parent shape's units in flight. A shape stops waiting for all of them at once when the run gives up
   * (one race per shape, not one per unit), marking them cancelled and abandoned.
   */
  readonly inFlight?: (StepReport | undefined)[];
  /** The unit's name in its parent when it differs from its definition's (`[3]` for a map item). */
  readonly name?: string;
}

/** @internal */
export class StepCtx implements StepContext {
  readonly runId: string;
  readonly pipeline: string;
  readonly step: string;
  readonly path: string;
  readonly definitionPath: string;
  readonly parent: StepCtx | undefined;
  readonly index: number;
  readonly labels: Labels;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly options: Readonly<StepOptions>;
  readonly [RUN_STATE]: RunState;
  deadline: number | undefined = undefined;
  /** The signal of the current attempt (set by core before each call). */
  signal: AbortSignal;
  attempt = 0;
  /** @internal */
  readonly report: StepReport;
  /** @internal */
  current: AttemptReport | undefined;
  /** @internal `performance.now()` when the last attempt ended (0 before any). */
  lastEnd = 0;
  /** @internal Set once the unit called `suspend()`: no later attempt calls the step again. */
  suspended: RunSuspendedError | undefined = undefined;
  #log: Logger | undefined;
  #run: RunCtx;

  constructor(
    run: RunCtx,
    place: UnitPlace,
    options: Readonly<StepOptions>,
    signal: AbortSignal,
    report: StepReport,
  ) {
    this[RUN_STATE] = run[RUN_STATE];
    this.#run = run;
    this.runId = run.runId;
    this.pipeline = run.pipeline;
    this.step = place.step;
    this.path = place.path;
    this.definitionPath = place.definitionPath;
    this.parent = place.parent;
    this.index = place.index;
    const inherited = place.parent ? place.parent.labels : run.labels;
    this.labels = options.labels ? { ...inherited, ...options.labels } : inherited;
    this.outputs = run[RUN_STATE].report.outputs as Record<string, unknown>;
    this.options = options;
    this.signal = signal;
    this.report = report;
  }

  get log(): Logger {
    this.#log ??= this.#run.log.child({ step: this.path });
    return this.#log;
  }

  get traceparent(): string | undefined {
    return this.#run.traceparent;
  }

  get tracestate(): string | undefined {
    return this.#run.tracestate;
  }

  metric(name: string, value: number, labels?: Record<string, string>, options?: MetricOptions): void {
    emitMetric(
      this[RUN_STATE].app.hooks,
      this.runId,
      // The definition path (`scenes[]`), never an item's index: 10,000 items must not make 10,000 series.
      { pipeline: this.pipeline, step: this.definitionPath, ...this.labels, ...labels },
      name,
      value,
      options,
    );
  }

  artifact(path: string, info?: { kind?: string; meta?: Record<string, unknown> }): void {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `ctx.artifact() in step "${this.step}" needs a non-empty file path, got ${String(path)}`,
      );
    }
    const artifact = {
      path,
      step: this.path,
      ...(info?.kind && { kind: info.kind }),
      ...(info?.meta && { meta: info.meta }),
    };
    const target = this.current ?? this.report;
    target.artifacts = append(target.artifacts, artifact);
  }

  finding(finding: Finding): void {
    const target = this.current ?? this.report;
    target.findings = append(target.findings, finding);
  }

  annotate(key: string, value: unknown): void {
    this.report.extensions[key] = value;
  }

  get resumeData(): unknown {
    const resume = this[RUN_STATE].resume;
    return resume !== undefined && resume.unit === this.path ? resume.data : undefined;
  }

  suspend(options: SuspendOptions): never {
    const reason = options?.reason;
    if (typeof reason !== "string" || reason === "")
      throw new TypeError(
        `ctx.suspend() in "${this.path}" needs a reason: ctx.suspend({ reason: "approve the script" })`,
      );
    const hooks = this[RUN_STATE].app.hooks;
    if (hooks.saveUnit.taps.length === 0 && hooks.loadRun.taps.length === 0)
      throw new NoDurableStoreError({ what: `ctx.suspend() in "${this.path}"` });
    this.suspended = new RunSuspendedError({
      unit: this.path,
      reason,
      ...(options.data !== undefined && { data: options.data }),
    });
    throw this.suspended;
  }

  cost(amount: number, options: CostOptions): void {
    const unit = options?.unit;
    if (typeof unit !== "string" || unit === "")
      throw new TypeError(`ctx.cost() in "${this.path}" needs a cost unit: ctx.cost(0.004, { unit: "usd" })`);
    if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0)
      throw new TypeError(`ctx.cost() in "${this.path}" needs a finite amount >= 0, got ${String(amount)}`);
    const state = this[RUN_STATE];
    if (this.current) {
      const attempt = this.current.cost ?? {};
      attempt[unit] = (attempt[unit] ?? 0) + amount;
      this.current.cost = attempt;
    }
    this.report.cost[unit] = (this.report.cost[unit] ?? 0) + amount;
    const spent = state.report.cost;
    spent[unit] = (spent[unit] ?? 0) + amount;
    emitMetric(
      state.app.hooks,
      this.runId,
      { pipeline: this.pipeline, step: this.definitionPath, unit, ...this.labels, ...options.labels },
      "tapline_cost_total",
      amount,
      { type: "counter", unit },
    );
    const limit = state.budget?.[unit];
    if (limit !== undefined && spent[unit]! > limit && !state.overBudget) {
      state.overBudget = new BudgetExceededError({
        costUnit: unit,
        spent: spent[unit]!,
        estimate: 0,
        limit,
        unit: this.path,
        when: "during",
      });
      state.report.budgetExceeded = state.overBudget;
      this.log.warn({ spent: spent[unit], limit, unit }, state.overBudget.message);
    }
  }
}

/** @internal Shared empty list: reports allocate their lists on the first item only. */
export const NONE: readonly never[] = Object.freeze([]);

function append<T>(list: readonly T[], item: T): readonly T[] {
  if (list === NONE) return [item];
  (list as T[]).push(item);
  return list;
}

function emitMetric(
  hooks: TaplineHooks,
  runId: string,
  labels: Labels,
  name: string,
  value: number,
  options: MetricOptions | undefined,
): void {
  if (hooks.metric.taps.length === 0) return;
  hooks.metric.call({
    name,
    value,
    labels,
    time: options?.time ?? Date.now(),
    unit: options?.unit,
    type: options?.type,
    runId,
  });
}
