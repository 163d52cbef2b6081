import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";

/** `performance.timeOrigin` is a getter; read it once. */
const TIME_ORIGIN = performance.timeOrigin;

import { isTaplineError } from "../create-error.ts";
import { BudgetExceededError, CancelledError, PluginError, StepTimeoutError } from "../errors.ts";
import type { Costs, ReplayedUnit, RunOptions, StepRunner } from "../events.ts";
import type { TaplineHooks } from "../hooks.ts";
import type { AttemptReport, RunReport, StepReport } from "../report.ts";
import { executeComposite } from "./composite.ts";
import {
  type AppInternals,
  NONE,
  type ResumeState,
  RUN_STATE,
  RunCtx,
  type RunState,
  StepCtx,
  type UnitPlace,
} from "./context.ts";
import { callSeries, callSync, composeDirect, decideFailed, directTaps, observeFailed } from "./dispatch.ts";

import type { LeafDef, StepDef, UnitDef } from "./units.ts";

export type { StepDef };

/** @internal What a pipeline gives every run unless the run overrides it. */
export interface PipelineDefaults {
  readonly budget?: Costs;
}

/** @internal What the executor needs from the app. */
export interface ExecutorApp extends AppInternals {
  readonly graceMs: number;
  readonly pending: Promise<void> | undefined;
  /** Tracks runs in flight, so `close()` can cancel them and wait. */
  readonly runs: Set<RunState>;
}

/**
 * @internal
 * Runs one pipeline. Never rejects for a step failure or a cancellation: the report carries the outcome.
 * Hooks nobody tapped are skipped, so a bare app costs little more than the step calls themselves.
 */
export function executeRun(
  app: ExecutorApp,
  pipeline: string,
  steps: readonly StepDef[],
  input: unknown,
  options: RunOptions | undefined,
  defaults?: PipelineDefaults,
  resume?: ResumeState,
): Promise<RunReport> {
  const hooks = app.hooks;
  const budget = options?.budget ?? defaults?.budget;
  const controller = new AbortController();
  const runSignal = controller.signal;
  const t0 = performance.now();
  const report: RunReport = {
    runId: options?.runId ?? randomUUID(),
    pipeline,
    status: "success",
    outputs: {},
    steps: [],
    startedAt: TIME_ORIGIN + t0,
    durationMs: 0,
    cost: {},
    ...(budget && { budget }),
    pluginErrors: [],
    resumed: resume !== undefined,
  };
  // Cancellation: once aborted (by the caller's signal or by `app.close()`), the running step gets
  // `graceMs` to settle before the run stops waiting for it.
  let graceTimer: NodeJS.Timeout | undefined;
  let stepsDone = false;
  // A run without a caller's signal awaits its steps directly (no per-step race, the hot path); when it is
  // cancelled and its step ignores the signal, `detach` settles the run from outside after the grace period.
  let detach: (() => void) | undefined;
  const state: RunState = {
    app,
    report,
    controller,
    graceMs: options?.graceMs ?? app.graceMs,
    abandoners: new Set(),
    givenUp: new WeakSet(),
    onSettled: undefined,
    abandonable: options?.signal !== undefined,
    current: undefined,
    detached: false,
    budget,
    overBudget: undefined,
    resume,
    abort(reason) {
      if (runSignal.aborted) return;
      controller.abort(reason);
      // Past the last step nothing is left to abandon: no timer (it would keep the process alive).
      if (stepsDone) return;
      graceTimer = setTimeout(() => {
        if (state.abandoners.size > 0) for (const abandon of [...state.abandoners]) abandon(runSignal.reason);
        else detach?.();
      }, state.graceMs);
      graceTimer.unref();
    },
  };
  const ctx = new RunCtx(state, report.runId, pipeline, options?.labels ?? {}, options);
  const userSignal = options?.signal;
  const forward = () => state.abort(userSignal?.reason);
  if (userSignal) {
    if (userSignal.aborted) forward();
    else userSignal.addEventListener("abort", forward, { once: true });
  }

  app.runs.add(state);
  const settle = (): void => {
    app.runs.delete(state);
    state.onSettled?.();
  };
  const finished = (async () => {
    try {
      await runSteps();
      if (state.detached) return report;
      if (hooks.runEnd.taps.length > 0) await hooks.runEnd.promise({ ctx, report });
    } finally {
      if (!state.detached) settle();
    }
    return report;
  })();
  if (state.abandonable) return finished;
  return new Promise<RunReport>((resolve, reject) => {
    finished.then(resolve, reject);
    detach = () => {
      const stuck = state.current;
      if (!stuck || state.detached) return;
      state.detached = true;
      abandonUnit(stuck, runSignal.reason);
      state.current = undefined;
      report.failedStep = stuck.name;
      report.status = "cancelled";
      report.cancelReason = runSignal.reason;
      report.error = new CancelledError({ reason: runSignal.reason });
      for (let i = stuck.index + 1; i < steps.length; i++) report.steps.push(skipped(steps[i]!.name, i));
      report.durationMs = performance.now() - t0;
      userSignal?.removeEventListener("abort", forward);
      const end = hooks.runEnd.taps.length > 0 ? hooks.runEnd.promise({ ctx, report }) : Promise.resolve();
      end.then(
        () => {
          settle();
          resolve(report);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    };
  });

  async function runSteps(): Promise<void> {
    try {
      if (app.pending) await app.pending;
      if (hooks.runStart.taps.length > 0)
        await callSeries(
          hooks.runStart,
          "runStart",
          "observe",
          { ctx, input, resumed: resume !== undefined },
          app.reportPluginError,
        );
      let value = input;
      let index = 0;
      for (; index < steps.length; index++) {
        const step = steps[index]!;
        if (runSignal.aborted) break;
        const stepReport = await executeUnit(
          state,
          ctx,
          step,
          {
            step: step.name,
            index,
            path: step.name,
            definitionPath: step.name,
            parent: undefined,
            signal: runSignal,
            sink: report.steps,
          },
          value,
          hooks,
        );
        if (state.detached) return;
        if (stepReport.savedCost) {
          report.savedCost ??= {};
          addCosts(report.savedCost, stepReport.savedCost);
        }
        if (stepReport.status !== "success") {
          report.error = stepReport.error;
          if (
            stepReport.status === "suspended" &&
            isTaplineError(stepReport.error, "TAPLINE_ERR_RUN_SUSPENDED")
          ) {
            const { unit, reason, data } = stepReport.error;
            report.status = "suspended";
            report.suspended = data === undefined ? { unit, reason } : { unit, reason, data };
          } else {
            report.failedStep = failedPath(stepReport);
            report.status = stepReport.status === "cancelled" ? "cancelled" : "failed";
          }
          index++;
          break;
        }
        value = stepReport.output;
        (report.outputs as Record<string, unknown>)[step.name] = value;
      }
      if (runSignal.aborted && report.status !== "failed" && report.status !== "suspended") {
        report.status = "cancelled";
        report.cancelReason = runSignal.reason;
        report.error ??= new CancelledError({ reason: runSignal.reason });
      }
      for (; index < steps.length; index++) report.steps.push(skipped(steps[index]!.name, index));
      if (report.status === "success") report.output = value;
    } finally {
      stepsDone = true;
      clearTimeout(graceTimer);
      if (!state.detached) {
        userSignal?.removeEventListener("abort", forward);
        report.durationMs = performance.now() - t0;
      }
    }
  }
}

/** @internal Runs one unit: a function step here, a shape in composite.ts. */
export function executeUnit(
  state: RunState,
  run: RunCtx,
  def: UnitDef,
  place: UnitPlace,
  input: unknown,
  hooks: TaplineHooks,
): Promise<StepReport> {
  return def.kind === "step"
    ? executeStep(state, run, def, place, input, hooks)
    : executeComposite(state, run, def, place, input, hooks);
}

/** The deepest failed (or cancelled) unit's path. */
function failedPath(report: StepReport): string {
  let current = report;
  for (;;) {
    const child =
      current.children?.find((c) => c.status === "failed") ??
      current.children?.find((c) => c.status === "cancelled");
    if (!child) return current.path;
    current = child;
  }
}

async function executeStep(
  state: RunState,
  run: RunCtx,
  step: LeafDef,
  place: UnitPlace,
  input: unknown,
  hooks: TaplineHooks,
): Promise<StepReport> {
  const t0 = performance.now();
  const report = unitReport(place.name ?? step.name, place.path, place.index, "success", TIME_ORIGIN + t0);
  place.sink.push(report);
  const runSignal = place.signal;
  const ctx = new StepCtx(run, place, step.options, runSignal, report);
  // A resumed run: a store may offer the unit's saved result, which replaces its execution.
  if (state.resume !== undefined && hooks.replayUnit.taps.length > 0) {
    const offer = await replayOffer(state, ctx, input, hooks);
    if (offer) return replay(state, ctx, report, offer, input, hooks, t0);
  }
  const inFlight = place.inFlight;
  if (inFlight) inFlight[place.index] = report;
  else state.current = report;

  let signal = runSignal;
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let stepController: AbortController | undefined;
  let forward: (() => void) | undefined;
  const timeout = step.options.timeout;
  if (timeout !== undefined) {
    const controller = new AbortController();
    forward = () => controller.abort(runSignal.reason);
    stepController = controller;
    signal = controller.signal;
    runSignal.addEventListener("abort", forward, { once: true });
    timer = setTimeout(() => {
      controller.abort(new StepTimeoutError({ step: place.path, timeoutMs: timeout }));
      graceTimer = setTimeout(() => abandonOwn?.(controller.signal.reason), state.graceMs);
    }, timeout);
  }

  let abandonOwn: ((reason: unknown) => void) | undefined;
  ctx.signal = signal;
  if (timeout !== undefined) ctx.deadline = TIME_ORIGIN + t0 + timeout;
  const stop = state.budget ? budgetStop(state, step, place, input) : undefined;
  try {
    if (stop) throw stop;
    if (hooks.stepStart.taps.length > 0) {
      // The per-unit observe hooks are looped here, in this function, when their taps allow it: no async
      // frame of a dispatcher per hook call (callSeries keeps the same policy for the other cases).
      const event = { ctx, input, replayed: false };
      const direct = directTaps(hooks.stepStart);
      if (direct) {
        for (let i = 0; i < direct.fns.length; i++) {
          try {
            const r = direct.fns[i]!(event);
            if (r !== undefined && typeof (r as PromiseLike<unknown>).then === "function") await r;
          } catch (error) {
            observeFailed(direct, i, "stepStart", error, event, state.app.reportPluginError);
          }
        }
      } else await callSeries(hooks.stepStart, "stepStart", "observe", event, state.app.reportPluginError);
    }
    if (hooks.validateStepInput.taps.length > 0) {
      const event = { ctx, input };
      const direct = directTaps(hooks.validateStepInput);
      if (direct) {
        for (let i = 0; i < direct.fns.length; i++) {
          try {
            const r = direct.fns[i]!(event);
            if (r !== undefined && typeof (r as PromiseLike<unknown>).then === "function") await r;
          } catch (error) {
            throw decideFailed(direct, i, "validateStepInput", error);
          }
        }
      } else
        await callSeries(
          hooks.validateStepInput,
          "validateStepInput",
          "decide",
          event,
          state.app.reportPluginError,
        );
    }
    let pending: Promise<unknown>;
    if (hooks.wrapStep.taps.length > 0) {
      const innermost: StepRunner = (value, attemptSignal) => attempt(step, ctx, value, attemptSignal, hooks);
      const info = { ctx, step: place.step, pipeline: run.pipeline, options: step.options };
      const runner = composeDirect(hooks.wrapStep, innermost, info) ?? hooks.wrapStep.call(innermost, info);
      pending = runner(input, signal);
    } else {
      // Called directly: when no stepStart or input-validation tap ran, the attempt starts with the unit.
      const direct = hooks.stepStart.taps.length === 0 && hooks.validateStepInput.taps.length === 0;
      pending = attempt(step, ctx, input, signal, hooks, direct ? t0 : undefined);
    }
    // Only a top-level step of a run with a caller's signal, or a step with a timeout, races its own wait;
    // other top-level steps are covered by `detach`, units inside a shape by the shape's one race.
    let output: unknown;
    if (stepController || (state.abandonable && !inFlight)) {
      const waiting = abandonable(state, report, pending);
      abandonOwn = waiting.abandon;
      output = await waiting.promise;
    } else {
      output = await pending;
    }
    if (!droppedLate(state, report)) report.output = output;
  } catch (error) {
    if (droppedLate(state, report)) {
      // Settled after the run stopped waiting for it: already reported as cancelled and abandoned.
    } else if (ctx.suspended && error === ctx.suspended && !signal.aborted) {
      report.status = "suspended";
      report.error = error;
    } else if (signal.aborted) {
      if (runSignal.aborted) {
        report.status = "cancelled";
        report.error = new CancelledError({ reason: runSignal.reason });
      } else {
        report.status = "failed";
        report.error = signal.reason;
      }
    } else {
      report.status = "failed";
      report.error = error;
    }
  } finally {
    if (abandonOwn) state.abandoners.delete(abandonOwn);
    if (state.current === report) state.current = undefined;
    if (inFlight && inFlight[place.index] === report) inFlight[place.index] = undefined;
    if (stepController) {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      if (forward) runSignal.removeEventListener("abort", forward);
    }
  }
  // The run stopped waiting for this step (cancelled, grace period over): its late result is not reported.
  if (droppedLate(state, report)) return report;
  const last = report.attempts.at(-1);
  if (last) {
    if (last.findings.length > 0) {
      report.findings = report.findings.length > 0 ? [...report.findings, ...last.findings] : last.findings;
    }
    report.artifacts = last.artifacts;
  }
  // A durable store keeps the result; if it cannot (not serialisable, too big), the unit fails with why.
  if (report.status === "success" && hooks.saveUnit.taps.length > 0) {
    try {
      await callSeries(
        hooks.saveUnit,
        "saveUnit",
        "decide",
        { ctx, input, report },
        state.app.reportPluginError,
      );
    } catch (error) {
      report.status = "failed";
      report.error = error;
      delete report.output;
    }
  }
  // Without wrappers or a store, nothing ran after the last attempt ended: its end is the unit's.
  const unwrapped = hooks.wrapStep.taps.length === 0 && hooks.saveUnit.taps.length === 0 && ctx.lastEnd > 0;
  report.durationMs = (unwrapped ? ctx.lastEnd : performance.now()) - t0;
  if (hooks.stepEnd.taps.length > 0) {
    const event = { ctx, report, replayed: false };
    const direct = directTaps(hooks.stepEnd);
    if (direct) {
      for (let i = 0; i < direct.fns.length; i++) {
        try {
          const r = direct.fns[i]!(event);
          if (r !== undefined && typeof (r as PromiseLike<unknown>).then === "function") await r;
        } catch (error) {
          observeFailed(direct, i, "stepEnd", error, event, state.app.reportPluginError);
        }
      }
    } else await callSeries(hooks.stepEnd, "stepEnd", "observe", event, state.app.reportPluginError);
  }
  return report;
}

/** Asks the store taps for the unit's saved result; a failing store is reported and the unit executes. */
async function replayOffer(
  state: RunState,
  ctx: StepCtx,
  input: unknown,
  hooks: TaplineHooks,
): Promise<ReplayedUnit | undefined> {
  try {
    return await hooks.replayUnit.promise({ ctx, input });
  } catch (error) {
    const pluginError = isTaplineError(error, "TAPLINE_ERR_PLUGIN_HOOK")
      ? error
      : new PluginError({ plugin: "replay", hook: "replayUnit", cause: error });
    state.app.reportPluginError(pluginError, { ctx });
    return undefined;
  }
}

/** A unit replayed from its saved result: no wrapper, no attempt; its start and end say so. */
async function replay(
  state: RunState,
  ctx: StepCtx,
  report: StepReport,
  offer: ReplayedUnit,
  input: unknown,
  hooks: TaplineHooks,
  t0: number,
): Promise<StepReport> {
  const report_ = state.app.reportPluginError;
  if (hooks.stepStart.taps.length > 0)
    await callSeries(hooks.stepStart, "stepStart", "observe", { ctx, input, replayed: true }, report_);
  report.replayed = true;
  report.output = offer.output;
  if (offer.artifacts && offer.artifacts.length > 0) report.artifacts = offer.artifacts;
  if (offer.cost && Object.keys(offer.cost).length > 0) report.savedCost = { ...offer.cost };
  report.durationMs = performance.now() - t0;
  if (hooks.stepEnd.taps.length > 0)
    await callSeries(hooks.stepEnd, "stepEnd", "observe", { ctx, report, replayed: true }, report_);
  return report;
}

/** @internal Adds amounts by cost unit into `into`. */
export function addCosts(into: Record<string, number>, costs: Readonly<Record<string, number>>): void {
  for (const unit in costs) into[unit] = (into[unit] ?? 0) + costs[unit]!;
}

/**
 * @internal Waits for a unit, unless the run (or the unit's own timeout) gives up on it: a unit that ignores
 * its aborted signal is marked abandoned and its wait rejects.
 */
export function abandonable(
  state: RunState,
  report: StepReport,
  promise: Promise<unknown>,
): { promise: Promise<unknown>; abandon: (reason: unknown) => void } {
  let abandon!: (reason: unknown) => void;
  const waiting = new Promise((resolve, reject) => {
    abandon = (reason) => {
      state.abandoners.delete(abandon);
      report.abandoned = true;
      reject(reason);
    };
    promise.then(resolve, reject);
  });
  state.abandoners.add(abandon);
  return { promise: waiting, abandon };
}

/** The innermost runner: one real call of the step function, then output validation. */
async function attempt(
  step: LeafDef,
  ctx: StepCtx,
  input: unknown,
  signal: AbortSignal,
  hooks: TaplineHooks,
  startedAt?: number,
): Promise<unknown> {
  // Never call the step once its signal is aborted, or once it suspended the run, whatever the wrappers do.
  if (signal.aborted) throw signal.reason;
  if (ctx.suspended) throw ctx.suspended;
  const n = ++ctx.attempt;
  ctx.signal = signal;
  // A unit's first attempt called directly (nothing ran since the unit started) starts when the unit did:
  // one clock read less per unit (a 1,000-item map reads the clock 2,000 times fewer).
  const t0 = startedAt ?? performance.now();
  const record: AttemptReport = {
    attempt: n,
    status: "running",
    startedAt: TIME_ORIGIN + t0,
    durationMs: 0,
    findings: NONE,
    artifacts: NONE,
  };
  ctx.report.attempts.push(record);
  ctx.current = record;
  const observed = hooks.stepAttempt.taps.length > 0;
  const reportError = ctx[RUN_STATE].app.reportPluginError;
  if (observed) callSync(hooks.stepAttempt, "stepAttempt", { ctx, attempt: n, phase: "start" }, reportError);
  try {
    const output = await step.fn(input, ctx);
    // The run stopped waiting for this attempt (cancelled, grace period over): leave its record as reported.
    if (ctx[RUN_STATE].detached) return output;
    if (hooks.validateStepOutput.taps.length > 0) {
      const event = { ctx, output, artifacts: record.artifacts };
      const direct = directTaps(hooks.validateStepOutput);
      if (direct) {
        for (let i = 0; i < direct.fns.length; i++) {
          try {
            const r = direct.fns[i]!(event);
            if (r !== undefined && typeof (r as PromiseLike<unknown>).then === "function") await r;
          } catch (error) {
            throw decideFailed(direct, i, "validateStepOutput", error);
          }
        }
      } else
        await callSeries(
          hooks.validateStepOutput,
          "validateStepOutput",
          "decide",
          event,
          ctx[RUN_STATE].app.reportPluginError,
        );
    }
    record.status = "success";
    ctx.lastEnd = performance.now();
    record.durationMs = ctx.lastEnd - t0;
    if (observed)
      callSync(
        hooks.stepAttempt,
        "stepAttempt",
        { ctx, attempt: n, phase: "end", status: "success", durationMs: record.durationMs },
        reportError,
      );
    return output;
  } catch (error) {
    if (ctx[RUN_STATE].detached) throw error;
    record.status = "failed";
    record.error = error;
    ctx.lastEnd = performance.now();
    record.durationMs = ctx.lastEnd - t0;
    if (observed) {
      callSync(
        hooks.stepAttempt,
        "stepAttempt",
        { ctx, attempt: n, phase: "end", status: "failed", durationMs: record.durationMs, error },
        reportError,
      );
    }
    throw error;
  }
}

/**
 * @internal Whether the budget stops this unit before it starts: an earlier unit's spend passed it, or the
 * unit's estimate would.
 */
export function budgetStop(state: RunState, def: UnitDef, place: UnitPlace, input: unknown): unknown {
  if (state.overBudget) return state.overBudget;
  const budget = state.budget;
  const estimateOf = def.options.estimate;
  if (!budget || estimateOf === undefined) return undefined;
  let estimate: Costs;
  try {
    estimate = typeof estimateOf === "function" ? estimateOf(input) : estimateOf;
  } catch (error) {
    return error;
  }
  for (const [costUnit, amount] of Object.entries(estimate ?? {})) {
    const limit = budget[costUnit];
    if (limit === undefined || !(amount > 0)) continue;
    const spent = state.report.cost[costUnit] ?? 0;
    if (spent + amount > limit) {
      const error = new BudgetExceededError({
        costUnit,
        spent,
        estimate: amount,
        limit,
        unit: place.path,
        when: "before",
      });
      state.report.budgetExceeded = error;
      return error;
    }
  }
  return undefined;
}

/** @internal A unit that never started. */
export function skipped(name: string, index: number, path = name): StepReport {
  return unitReport(name, path, index, "skipped", 0);
}

/**
 * Whether the run (detached) or the unit's shape (given up) stopped waiting for this unit, so what it does
 * now is dropped. The abandoned flag is read first: the WeakSet is only asked about abandoned units.
 */
function droppedLate(state: RunState, report: StepReport): boolean {
  return state.detached || (report.abandoned && state.givenUp.has(report));
}

/** @internal A unit's report before anything happened to it (one shape for steps, shapes and skipped units). */
export function unitReport(
  name: string,
  path: string,
  index: number,
  status: "success" | "skipped",
  startedAt: number,
): StepReport {
  return {
    name,
    path,
    index,
    status,
    attempts: [],
    startedAt,
    durationMs: 0,
    findings: NONE,
    artifacts: NONE,
    abandoned: false,
    cost: {},
    replayed: false,
    extensions: {},
  };
}

/**
 * @internal The run stopped waiting for a unit that ignores its aborted signal: it is reported cancelled and
 * abandoned, its running attempt failed, whatever it does later.
 */
export function abandonUnit(unit: StepReport, reason: unknown): void {
  const now = performance.now();
  unit.status = "cancelled";
  unit.abandoned = true;
  unit.error = new CancelledError({ reason });
  unit.durationMs = now - (unit.startedAt - TIME_ORIGIN);
  const running = unit.attempts.at(-1);
  if (running?.status === "running") {
    running.status = "failed";
    running.error = unit.error;
    running.durationMs = now - (running.startedAt - TIME_ORIGIN);
  }
}
