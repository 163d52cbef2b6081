import { randomUUID } from "node:crypto";
import { CancelledError, StepTimeoutError } from "../errors.ts";
import type { RunOptions, StepContext, StepOptions, StepRunner } from "../events.ts";
import type { TaplineHooks } from "../hooks.ts";
import type { AttemptReport, RunReport, StepReport } from "../report.ts";
import { type AppInternals, RunCtx, type RunState, StepCtx } from "./context.ts";

/** @internal A step as the executor needs it. */
export interface StepDef {
  readonly name: string;
  readonly fn: (input: any, ctx: StepContext<any>) => unknown;
  readonly options: Readonly<StepOptions>;
}

/** @internal What the executor needs from the app. */
export interface ExecutorApp extends AppInternals {
  readonly graceMs: number;
  readonly pending: Promise<void> | undefined;
  trackRun(controller: AbortController, done: Promise<unknown>): void;
}

/**
 * @internal
 * Runs one pipeline. Never rejects for a step failure or a cancellation: the report carries the outcome.
 * Hooks nobody tapped are skipped, so a bare app costs little more than the step calls themselves.
 */
export async function executeRun(
  app: ExecutorApp,
  pipeline: string,
  steps: readonly StepDef[],
  input: unknown,
  options: RunOptions | undefined,
): Promise<RunReport> {
  const hooks = app.hooks;
  const controller = new AbortController();
  const runSignal = controller.signal;
  const t0 = performance.now();
  const report: RunReport = {
    runId: options?.runId ?? randomUUID(),
    pipeline,
    status: "success",
    outputs: {},
    steps: [],
    startedAt: performance.timeOrigin + t0,
    durationMs: 0,
    pluginErrors: [],
  };
  const state: RunState = {
    app,
    report,
    controller,
    graceMs: options?.graceMs ?? app.graceMs,
    abandon: undefined,
  };
  const ctx = new RunCtx(state, report.runId, pipeline, options?.labels ?? {});

  // Cancellation: forward the caller's signal, and once aborted give the running step `graceMs` to settle
  // before the run stops waiting for it.
  const userSignal = options?.signal;
  const forward = () => controller.abort(userSignal?.reason);
  let graceTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    graceTimer = setTimeout(() => state.abandon?.(runSignal.reason), state.graceMs);
  };
  runSignal.addEventListener("abort", onAbort, { once: true });
  if (userSignal) {
    if (userSignal.aborted) forward();
    else userSignal.addEventListener("abort", forward, { once: true });
  }

  let settle!: () => void;
  app.trackRun(controller, new Promise<void>((resolve) => (settle = resolve)));
  try {
    await runSteps();
    if (hooks.runEnd.taps.length > 0) await hooks.runEnd.promise({ ctx, report });
  } finally {
    settle();
  }
  return report;

  async function runSteps(): Promise<void> {
    try {
      if (app.pending) await app.pending;
      if (hooks.runStart.taps.length > 0) await hooks.runStart.promise({ ctx, input });
      let value = input;
      let index = 0;
      for (; index < steps.length; index++) {
        const step = steps[index]!;
        if (runSignal.aborted) break;
        const stepReport = await executeStep(state, ctx, step, index, value, hooks);
        if (stepReport.status !== "success") {
          report.failedStep = step.name;
          report.error = stepReport.error;
          report.status = stepReport.status === "cancelled" ? "cancelled" : "failed";
          index++;
          break;
        }
        value = stepReport.output;
        (report.outputs as Record<string, unknown>)[step.name] = value;
      }
      if (runSignal.aborted && report.status !== "failed") {
        report.status = "cancelled";
        report.cancelReason = runSignal.reason;
        report.error ??= new CancelledError(runSignal.reason);
      }
      for (; index < steps.length; index++) report.steps.push(skipped(steps[index]!.name, index));
      if (report.status === "success") report.output = value;
    } finally {
      clearTimeout(graceTimer);
      runSignal.removeEventListener("abort", onAbort);
      userSignal?.removeEventListener("abort", forward);
      report.durationMs = performance.now() - t0;
    }
  }
}

async function executeStep(
  state: RunState,
  run: RunCtx,
  step: StepDef,
  index: number,
  input: unknown,
  hooks: TaplineHooks,
): Promise<StepReport> {
  const t0 = performance.now();
  const report: StepReport = {
    name: step.name,
    index,
    status: "success",
    attempts: [],
    startedAt: performance.timeOrigin + t0,
    durationMs: 0,
    findings: [],
    artifacts: [],
    abandoned: false,
    extensions: {},
  };
  state.report.steps.push(report);

  const runSignal = state.controller.signal;
  let signal = runSignal;
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let stepController: AbortController | undefined;
  const forward = () => stepController?.abort(runSignal.reason);
  const timeout = step.options.timeout;
  if (timeout !== undefined) {
    const controller = new AbortController();
    stepController = controller;
    signal = controller.signal;
    runSignal.addEventListener("abort", forward, { once: true });
    timer = setTimeout(() => {
      controller.abort(new StepTimeoutError(step.name, timeout));
      graceTimer = setTimeout(() => state.abandon?.(controller.signal.reason), state.graceMs);
    }, timeout);
  }

  const ctx = new StepCtx(run, step.name, index, step.options, signal, report);
  try {
    if (hooks.stepStart.taps.length > 0) await hooks.stepStart.promise({ ctx, input });
    if (hooks.validateStepInput.taps.length > 0) await hooks.validateStepInput.promise({ ctx, input });
    const innermost: StepRunner = (value, attemptSignal) => attempt(step, ctx, value, attemptSignal, hooks);
    const runner =
      hooks.wrapStep.taps.length > 0
        ? hooks.wrapStep.call(innermost, {
            ctx,
            step: step.name,
            pipeline: run.pipeline,
            options: step.options,
          })
        : innermost;
    report.output = await abandonable(state, report, runner(input, signal));
  } catch (error) {
    if (signal.aborted) {
      if (runSignal.aborted) {
        report.status = "cancelled";
        report.error = new CancelledError(runSignal.reason);
      } else {
        report.status = "failed";
        report.error = signal.reason;
      }
    } else {
      report.status = "failed";
      report.error = error;
    }
  } finally {
    state.abandon = undefined;
    if (stepController) {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      runSignal.removeEventListener("abort", forward);
    }
  }
  const last = report.attempts.at(-1);
  if (last) {
    report.findings.push(...last.findings);
    report.artifacts = last.artifacts;
  }
  report.durationMs = performance.now() - t0;
  if (hooks.stepEnd.taps.length > 0) await hooks.stepEnd.promise({ ctx, report });
  return report;
}

/** Waits for the step, unless the run gives up on it (a step that ignores its aborted signal). */
function abandonable(state: RunState, report: StepReport, promise: Promise<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    state.abandon = (reason) => {
      report.abandoned = true;
      reject(reason);
    };
    promise.then(resolve, reject);
  });
}

/** The innermost runner: one real call of the step function, then output validation. */
async function attempt(
  step: StepDef,
  ctx: StepCtx,
  input: unknown,
  signal: AbortSignal,
  hooks: TaplineHooks,
): Promise<unknown> {
  // Never call the step once its signal is aborted, whatever the wrappers do.
  if (signal.aborted) throw signal.reason;
  const n = ++ctx.attempt;
  ctx.signal = signal;
  const t0 = performance.now();
  const record: AttemptReport = {
    attempt: n,
    status: "running",
    startedAt: performance.timeOrigin + t0,
    durationMs: 0,
    findings: [],
    artifacts: [],
  };
  ctx.report.attempts.push(record);
  ctx.current = record;
  const observed = hooks.stepAttempt.taps.length > 0;
  if (observed) hooks.stepAttempt.call({ ctx, attempt: n, phase: "start" });
  try {
    const output = await step.fn(input, ctx);
    if (hooks.validateStepOutput.taps.length > 0) {
      await hooks.validateStepOutput.promise({ ctx, output, artifacts: record.artifacts });
    }
    record.status = "success";
    record.durationMs = performance.now() - t0;
    if (observed)
      hooks.stepAttempt.call({
        ctx,
        attempt: n,
        phase: "end",
        status: "success",
        durationMs: record.durationMs,
      });
    return output;
  } catch (error) {
    record.status = "failed";
    record.error = error;
    record.durationMs = performance.now() - t0;
    if (observed) {
      hooks.stepAttempt.call({
        ctx,
        attempt: n,
        phase: "end",
        status: "failed",
        durationMs: record.durationMs,
        error,
      });
    }
    throw error;
  }
}

function skipped(name: string, index: number): StepReport {
  return {
    name,
    index,
    status: "skipped",
    attempts: [],
    startedAt: 0,
    durationMs: 0,
    findings: [],
    artifacts: [],
    abandoned: false,
    extensions: {},
  };
}
