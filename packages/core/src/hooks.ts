import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  SyncHook,
  SyncWaterfallHook,
} from "tapable";
import type {
  LoadRunEvent,
  PipelineBuildEvent,
  PluginErrorEvent,
  ReplayedUnit,
  ReplayUnitEvent,
  RunEndEvent,
  RunStartEvent,
  SavedRun,
  SaveUnitEvent,
  StepAttemptEvent,
  StepEndEvent,
  StepInputEvent,
  StepOutputEvent,
  StepRunner,
  StepStartEvent,
  WrapStepInfo,
} from "./events.ts";
import type { AlertEvent, MetricSample, StatusPart } from "./vocabulary.ts";

/**
 * The lifecycle hooks of a Tapline app. Plugins tap them in `setup()` (never during a run: tapable
 * recompiles a hook after each tap); only core calls them.
 *
 * Families: **observe** hooks (`runStart`, `stepStart`, `stepAttempt`, `stepEnd`, `runEnd`, `metric`,
 * `alert`, `status`) report a tap's error through `pluginError` and carry on; **decide** hooks
 * (`pipelineBuild`, `validateStepInput`, `validateStepOutput`) let a tap's error fail the build or the step,
 * wrapped as a `PluginError` (a `StepValidationError` passes through as is); **around** (`wrapStep`) taps
 * return a runner that wraps the next one.
 */
export interface TaplineHooks {
  /** Observe. Before the first step of every run; awaited, taps in series. */
  readonly runStart: AsyncSeriesHook<[RunStartEvent]>;
  /** Observe. Before each step; awaited, taps in series. */
  readonly stepStart: AsyncSeriesHook<[StepStartEvent]>;
  /**
   * Decide. Once per step, before its first attempt; awaited. Throw a `StepValidationError` (or anything) to
   * fail the step without calling it.
   */
  readonly validateStepInput: AsyncSeriesHook<[StepInputEvent]>;
  /**
   * Around. Called once per step execution with the innermost runner; each tap returns a runner wrapping
   * `next`, and may call `next` any number of times (retry). Lower `stage` = closer to the real call: see
   * `WrapStage`. The tap function itself runs synchronously; errors thrown by it fail the step.
   *
   * @example
   * hooks.wrapStep.tap({ name: "my-plugin", stage: WrapStage.retry }, (next, info) =>
   *   async (input, signal) => { try { return await next(input, signal) } catch { return next(input, signal) } });
   */
  readonly wrapStep: SyncWaterfallHook<[StepRunner, WrapStepInfo]>;
  /** Observe, synchronous. Around each real call of the step function: `phase` start and end. */
  readonly stepAttempt: SyncHook<[StepAttemptEvent]>;
  /**
   * Decide. After each successful call, inside the attempt (so a retry policy sees a rejection as a failed
   * attempt). Add findings with `ctx.finding()`; throw a `StepValidationError` to reject the output.
   */
  readonly validateStepOutput: AsyncSeriesHook<[StepOutputEvent]>;
  /** Observe. After each step, whatever its status; awaited, taps in series. */
  readonly stepEnd: AsyncSeriesHook<[StepEndEvent]>;
  /** Observe. After the run; taps run in parallel and the run's promise waits for them. */
  readonly runEnd: AsyncParallelHook<[RunEndEvent]>;
  /** Decide, synchronous. When a pipeline is built; throw to reject its definition. */
  readonly pipelineBuild: SyncHook<[PipelineBuildEvent]>;
  /** Observe, synchronous. Every sample from every producer; keep taps cheap (buffer, don't do I/O). */
  readonly metric: SyncHook<[MetricSample]>;
  /** Observe. Every alert transition; taps run in parallel and nothing waits for them. */
  readonly alert: AsyncParallelHook<[AlertEvent]>;
  /** Observe, synchronous. `app.status()`: each tap pushes its `StatusPart` onto the array (or returns a new one). */
  readonly status: SyncWaterfallHook<[StatusPart[]]>;
  /** Must not throw. An observe tap failed, or a plugin reported an error; the run carries on. */
  readonly pluginError: SyncHook<[PluginErrorEvent]>;
  /**
   * Decide (durable stores). `app.resume(runId)`: the first tap that returns a `SavedRun` wins; `undefined`
   * from every tap is an unknown run. A tap throws to refuse (the run is locked by another resumer).
   */
  readonly loadRun: AsyncSeriesBailHook<[LoadRunEvent], SavedRun | undefined>;
  /**
   * Decide (durable stores). Before a function unit runs (before `stepStart`): a tap returns the unit's saved
   * result to replay it (no wrapper, no attempt), or `undefined` to let it execute. A tap's error is reported
   * through `pluginError` and the unit executes.
   */
  readonly replayUnit: AsyncSeriesBailHook<[ReplayUnitEvent], ReplayedUnit | undefined>;
  /**
   * Decide (durable stores). After a function unit succeeded, before `stepEnd`: taps save its result. A tap's
   * error fails the unit (its output could not be kept: too big, not serialisable).
   */
  readonly saveUnit: AsyncSeriesHook<[SaveUnitEvent]>;
}

/** Which family each hook belongs to; decides how a tap's error is handled. */
export const HOOK_FAMILY = {
  runStart: "observe",
  stepStart: "observe",
  validateStepInput: "decide",
  wrapStep: "around",
  stepAttempt: "observe",
  validateStepOutput: "decide",
  stepEnd: "observe",
  runEnd: "observe",
  pipelineBuild: "decide",
  metric: "observe",
  alert: "observe",
  status: "status",
  pluginError: "sink",
  loadRun: "decide",
  replayUnit: "decide",
  saveUnit: "decide",
} as const satisfies Record<keyof TaplineHooks, string>;

/** @internal Creates a fresh hook table; one per app, so two apps never share taps. */
export function createHookTable(): TaplineHooks {
  return {
    runStart: new AsyncSeriesHook(["event"]),
    stepStart: new AsyncSeriesHook(["event"]),
    validateStepInput: new AsyncSeriesHook(["event"]),
    wrapStep: new SyncWaterfallHook(["next", "info"]),
    stepAttempt: new SyncHook(["event"]),
    validateStepOutput: new AsyncSeriesHook(["event"]),
    stepEnd: new AsyncSeriesHook(["event"]),
    runEnd: new AsyncParallelHook(["event"]),
    pipelineBuild: new SyncHook(["event"]),
    metric: new SyncHook(["sample"]),
    alert: new AsyncParallelHook(["event"]),
    status: new SyncWaterfallHook(["parts"]),
    pluginError: new SyncHook(["event"]),
    loadRun: new AsyncSeriesBailHook(["event"]),
    replayUnit: new AsyncSeriesBailHook(["event"]),
    saveUnit: new AsyncSeriesHook(["event"]),
  };
}

/**
 * Stages of the `wrapStep` hook. Lower = closer to the real call, so the nesting is
 * timing ⊃ retry ⊃ breaker ⊃ timeout ⊃ the step (Polly's and cockatiel's usual order).
 */
export const WrapStage = {
  /** Per-attempt timeout: bounds each call. */
  timeout: 100,
  /** Circuit breaker: counts every attempt. */
  breaker: 200,
  /** Retry: calls `next` again after a failure. */
  retry: 300,
  /** Timing: sees the whole step, retries and backoff included. */
  timing: 900,
} as const;
