import { performance } from "node:perf_hooks";
import { createError, isTaplineError } from "../create-error.ts";
import { CancelledError, describeError } from "../errors.ts";
import type { TaplineHooks } from "../hooks.ts";
import type { StepReport } from "../report.ts";
import { type RunCtx, type RunState, StepCtx, type UnitPlace } from "./context.ts";
import { callSeries } from "./dispatch.ts";
import {
  abandonable,
  abandonUnit,
  addCosts,
  budgetStop,
  executeUnit,
  skipped,
  unitReport,
} from "./executor.ts";
import type { BranchDef, ChainDef, MapDef, ParallelDef, UnitDef } from "./units.ts";

const TIME_ORIGIN = performance.timeOrigin;

/**
 * A unit failed, so its running siblings were cancelled with this reason (a parallel branch, or a map item
 * with `onItemError: "fail"`). `path` names the unit that failed.
 */
export const SiblingFailedError = createError(
  "TAPLINE_ERR_SIBLING_FAILED",
  "SiblingFailedError",
  (p: { path: string; cause: unknown }) => `cancelled because ${p.path} failed: ${describeError(p.cause)}`,
  'see the failed unit\'s error; use onItemError: "collect" to let every map item run',
);

/** A branch step's `select` named a case that does not exist. */
export const NoSuchCaseError = createError(
  "TAPLINE_ERR_BRANCH_NO_CASE",
  "NoSuchCaseError",
  (p: { path: string; key: string; cases: readonly string[] }) =>
    `branch "${p.path}" has no case ${JSON.stringify(p.key)}; its cases are ${p.cases.map((c) => JSON.stringify(c)).join(", ")}`,
  "return one of the cases from select(), or add a case for that key",
);

/** A map step's `items` did not return an iterable. */
export const MapItemsError = createError(
  "TAPLINE_ERR_MAP_ITEMS",
  "MapItemsError",
  (p: { path: string; got: string }) =>
    `map "${p.path}": items(input, ctx) must return an array or another iterable, got ${p.got}`,
  "return an array (or any iterable) of items from the map's items function",
);

type Composite = ParallelDef | MapDef | BranchDef | ChainDef;

/**
 * @internal
 * Runs a shape: its own `stepStart`/`stepEnd` (no attempts, no wrapStep: retry and validation apply to its
 * units), then its children, each a unit with its own context and hooks, on a signal of its own that the
 * parent's abort (and, for parallel and failing maps, a failed sibling) aborts.
 */
export async function executeComposite(
  state: RunState,
  run: RunCtx,
  def: Composite,
  place: UnitPlace,
  input: unknown,
  hooks: TaplineHooks,
): Promise<StepReport> {
  const t0 = performance.now();
  const children: StepReport[] = [];
  const report = unitReport(place.name ?? def.name, place.path, place.index, "success", TIME_ORIGIN + t0);
  report.children = children;
  place.sink.push(report);
  const controller = new AbortController();
  const parentSignal = place.signal;
  const forward = () => controller.abort(parentSignal.reason);
  if (parentSignal.aborted) forward();
  else parentSignal.addEventListener("abort", forward, { once: true });
  const ctx = new StepCtx(run, place, def.options, controller.signal, report);
  // One race for all the shape's units: when the run gives up (grace period over), every unit still in
  // flight is reported cancelled and abandoned, and the shape stops waiting for them.
  // Indexed by the unit's index in the shape (a slot store and clear per unit, cheaper than a Set's add and
  // delete: this is per map item).
  const inFlight: (StepReport | undefined)[] = [];
  let giveUp!: (reason: unknown) => void;
  const gaveUp = new Promise<never>((_resolve, reject) => {
    giveUp = (reason) => {
      state.abandoners.delete(giveUp);
      for (const unit of inFlight) {
        if (!unit) continue;
        state.givenUp.add(unit);
        abandonUnit(unit, reason);
      }
      inFlight.length = 0;
      reject(new CancelledError({ reason }));
    };
  });
  gaveUp.catch(() => {});
  state.abandoners.add(giveUp);
  const unitsOf = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, gaveUp]);
  const childPlace = (index: number, path: string, definitionPath: string): UnitPlace => ({
    step: place.step,
    index,
    path,
    definitionPath,
    parent: ctx,
    signal: controller.signal,
    sink: children,
    inFlight,
  });
  // User code of the shape itself (items, select) is awaited through a race too: it may ignore its signal.
  const userCall = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    const waiting = abandonable(state, report, Promise.resolve().then(fn));
    try {
      return (await waiting.promise) as T;
    } finally {
      state.abandoners.delete(waiting.abandon);
    }
  };
  try {
    const stop = state.budget ? budgetStop(state, def, place, input) : undefined;
    if (stop) throw stop;
    if (hooks.stepStart.taps.length > 0)
      await callSeries(
        hooks.stepStart,
        "stepStart",
        "observe",
        { ctx, input, replayed: false },
        state.app.reportPluginError,
      );
    const run1 = (
      child: UnitDef,
      _name: string,
      index: number,
      path: string,
      definitionPath: string,
      value: unknown,
    ) => executeUnit(state, run, child, childPlace(index, path, definitionPath), value, hooks);
    let output: unknown;
    switch (def.kind) {
      case "parallel": {
        const results = await unitsOf(
          settleAll(
            def.branches.length,
            (i) => {
              const b = def.branches[i]!;
              return run1(
                b,
                b.name,
                i,
                `${place.path}.${b.name}`,
                `${place.definitionPath}.${b.name}`,
                input,
              );
            },
            def.branches.length,
            controller,
            true,
          ),
        );
        const out: Record<string, unknown> = {};
        def.branches.forEach((b, i) => {
          out[b.name] = results[i]?.output;
        });
        output = out;
        break;
      }
      case "map": {
        const items = await userCall(() => def.items(input, ctx));
        if (
          items === null ||
          typeof items !== "object" ||
          typeof (items as Iterable<unknown>)[Symbol.iterator] !== "function"
        ) {
          throw new MapItemsError({ path: place.path, got: items === null ? "null" : typeof items });
        }
        const list = Array.from(items as Iterable<unknown>);
        let results: (StepReport | undefined)[];
        try {
          // One definition path for every item, one unit definition: an item's name and path go in its place.
          const itemDefinitionPath = `${place.definitionPath}[]`;
          const prefix = place.path;
          results = await unitsOf(
            settleAll(
              list.length,
              (i) => {
                const name = `[${i}]`;
                return executeUnit(
                  state,
                  run,
                  def.unit,
                  {
                    step: place.step,
                    index: i,
                    path: prefix + name,
                    definitionPath: itemDefinitionPath,
                    parent: ctx,
                    signal: controller.signal,
                    sink: children,
                    inFlight,
                    name,
                  },
                  list[i],
                  hooks,
                );
              },
              def.concurrency,
              controller,
              def.onItemError === "fail",
            ),
          );
        } finally {
          // Items start in index order, so their reports are in order; those that never started (after a
          // failure, or a cancellation) are listed as skipped, in their places.
          if (children.length < list.length) {
            const reported = new Set(children.map((c) => c.index));
            for (let i = 0; i < list.length; i++) {
              if (!reported.has(i)) children.push(skipped(`[${i}]`, i, `${place.path}[${i}]`));
            }
            children.sort((a, b) => a.index - b.index);
          }
        }
        output =
          def.onItemError === "collect"
            ? results.map((r) =>
                r?.status === "success"
                  ? { status: "fulfilled", value: r.output }
                  : {
                      status: "rejected",
                      reason: r?.error ?? new CancelledError({ reason: controller.signal.reason }),
                    },
              )
            : results.map((r) => r?.output);
        break;
      }
      case "branch": {
        const key = await userCall(() => def.select(input, ctx));
        const chosen = typeof key === "string" ? def.cases.get(key) : undefined;
        if (!chosen) {
          throw new NoSuchCaseError({ path: place.path, key: String(key), cases: [...def.cases.keys()] });
        }
        const index = [...def.cases.keys()].indexOf(key as string);
        const result = await unitsOf(
          run1(
            chosen,
            chosen.name,
            index,
            `${place.path}.${chosen.name}`,
            `${place.definitionPath}.${chosen.name}`,
            input,
          ),
        );
        if (result.status !== "success") throw childError(result);
        output = result.output;
        break;
      }
      case "chain": {
        let value = input;
        let i = 0;
        for (; i < def.steps.length; i++) {
          if (controller.signal.aborted) break;
          const step = def.steps[i]!;
          const result = await unitsOf(
            run1(
              step,
              step.name,
              i,
              `${place.path}.${step.name}`,
              `${place.definitionPath}.${step.name}`,
              value,
            ),
          );
          if (result.status !== "success") {
            for (let j = i + 1; j < def.steps.length; j++) {
              const later = def.steps[j]!;
              children.push(skipped(later.name, j, `${place.path}.${later.name}`));
            }
            throw childError(result);
          }
          value = result.output;
        }
        if (controller.signal.aborted) throw new CancelledError({ reason: controller.signal.reason });
        output = value;
        break;
      }
    }
    report.output = output;
  } catch (error) {
    if (parentSignal.aborted) {
      report.status = "cancelled";
      report.error = new CancelledError({ reason: parentSignal.reason });
    } else {
      report.status = isCancelledChild(error)
        ? "cancelled"
        : isTaplineError(error, "TAPLINE_ERR_RUN_SUSPENDED")
          ? "suspended"
          : "failed";
      report.error = error;
    }
  } finally {
    parentSignal.removeEventListener("abort", forward);
    state.abandoners.delete(giveUp);
  }
  // A shape costs what its units cost, and saved what its replayed units saved.
  for (const child of children) {
    addCosts(report.cost, child.cost);
    if (child.savedCost) {
      report.savedCost ??= {};
      addCosts(report.savedCost, child.savedCost);
    }
  }
  report.durationMs = performance.now() - t0;
  if (hooks.stepEnd.taps.length > 0)
    await callSeries(
      hooks.stepEnd,
      "stepEnd",
      "observe",
      { ctx, report, replayed: false },
      state.app.reportPluginError,
    );
  return report;
}

/** Marks the error of a child unit so the parent can tell a cancelled child from a failed one. */
const CANCELLED_CHILD = new WeakSet<object>();

function childError(result: StepReport): unknown {
  const error = result.error ?? new Error(`${result.path} ${result.status}`);
  if (result.status === "cancelled" && error && typeof error === "object") CANCELLED_CHILD.add(error);
  return error;
}

function isCancelledChild(error: unknown): boolean {
  return !!error && typeof error === "object" && CANCELLED_CHILD.has(error);
}

/**
 * Runs thunks with at most `limit` in flight, keeping results by index. With `failFast`, the first failed
 * unit aborts the others (reason: a SiblingFailedError naming it), no more start, and it rethrows that
 * unit's error; otherwise every unit runs and the results carry their statuses.
 */
async function settleAll(
  count: number,
  start: (index: number) => Promise<StepReport>,
  limit: number,
  controller: AbortController,
  failFast: boolean,
): Promise<(StepReport | undefined)[]> {
  const results: (StepReport | undefined)[] = new Array(count);
  let next = 0;
  let failure: StepReport | undefined;
  const signal = controller.signal;
  const worker = async (): Promise<void> => {
    while (next < count && !signal.aborted) {
      const i = next++;
      const result = await start(i);
      results[i] = result;
      if (failFast && result.status !== "success" && !failure) {
        failure = result;
        if (!signal.aborted) {
          controller.abort(new SiblingFailedError({ path: result.path, cause: result.error }));
        }
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(limit, count); w++) workers.push(worker());
  await Promise.all(workers);
  if (failure) throw childError(failure);
  if (signal.aborted) throw new CancelledError({ reason: signal.reason });
  return results;
}
