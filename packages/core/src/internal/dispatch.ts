import type { AsyncSeriesHook } from "tapable";
import { isTaplineError, PluginError } from "../errors.ts";
import { RAW, type RawTap, type ReportPluginError, wrapWith } from "./attribution.ts";

/** What tapable keeps on a hook and does not declare in its types, plus our cached verdict. */
interface HookInternals {
  readonly taps: readonly { readonly [RAW]?: RawTap }[];
  readonly interceptors: readonly unknown[];
  [DIRECT]?: Verdict;
}

const DIRECT: unique symbol = Symbol("tapline.direct");

/** Whether a hook can be called in a plain loop, and (then) its taps' functions and plugins, in order. */
export interface Verdict {
  readonly taps: number;
  readonly interceptors: number;
  readonly direct: boolean;
  readonly fns: readonly ((event: unknown) => unknown)[];
  readonly plugins: readonly string[];
}

/**
 * @internal
 * Calls an async series hook on the hot path (per step). When nobody added interceptors of their own and
 * no tap is callback-style, the taps are awaited in a plain loop with the family's error policy, which
 * costs what a hand-written loop costs; otherwise tapable's compiled `promise()` runs (same semantics,
 * through the attribution wrappers). Observe: errors reported, remaining taps still run. Decide: the first
 * error stops the series and is rethrown attributed.
 */
/**
 * @internal The hook's taps as a plain array of functions when they can be called in a loop (no interceptor
 * of anyone's, no callback-style tap), else `undefined` (call `hook.promise`). Cached until taps change.
 */
export function directTaps(hook: object): Verdict | undefined {
  const internals = hook as unknown as HookInternals;
  const { taps, interceptors } = internals;
  let verdict = internals[DIRECT];
  if (verdict === undefined || verdict.taps !== taps.length || verdict.interceptors !== interceptors.length) {
    const direct = interceptors.length === 1 && taps.every(isDirect);
    verdict = {
      taps: taps.length,
      interceptors: interceptors.length,
      direct,
      // The raw functions in a plain array: callers read no symbol-keyed property per tap.
      fns: direct ? taps.map((t) => t[RAW]!.fn as (event: unknown) => unknown) : [],
      plugins: direct ? taps.map((t) => t[RAW]!.plugin) : [],
    };
    internals[DIRECT] = verdict;
  }
  return verdict.direct ? verdict : undefined;
}

/** @internal An observe tap called in a direct loop threw: reported, attributed to its plugin. */
export function observeFailed(
  verdict: Verdict,
  index: number,
  hookName: string,
  error: unknown,
  event: unknown,
  report: ReportPluginError,
): void {
  report(new PluginError({ plugin: verdict.plugins[index]!, hook: hookName, cause: error }), event);
}

/**
 * @internal Composes the `wrapStep` taps around `innermost` in a plain loop (what tapable's waterfall does,
 * without its compiled call and the attribution wrapper per tap), or `undefined` when the hook is not direct.
 */
export function composeDirect<R>(hook: object, innermost: R, info: unknown): R | undefined {
  const verdict = directTaps(hook);
  if (!verdict) return undefined;
  let next: unknown = innermost;
  for (let i = 0; i < verdict.fns.length; i++) {
    next = wrapWith(
      verdict.fns[i] as (...a: unknown[]) => unknown,
      verdict.plugins[i]!,
      "wrapStep",
      next,
      info,
    );
  }
  return next as R;
}

/**
 * @internal Calls a synchronous observe hook (`stepAttempt`): its taps in a loop when direct, each failure
 * reported for its plugin; otherwise through tapable.
 */
export function callSync<E>(
  hook: { call(event: E): void },
  hookName: string,
  event: E,
  report: ReportPluginError,
): void {
  const verdict = directTaps(hook);
  if (!verdict) {
    hook.call(event);
    return;
  }
  for (let i = 0; i < verdict.fns.length; i++) {
    try {
      verdict.fns[i]!(event);
    } catch (error) {
      observeFailed(verdict, i, hookName, error, event, report);
    }
  }
}

/** @internal A decide tap called in a direct loop threw: what to throw (a StepValidationError as it is). */
export function decideFailed(verdict: Verdict, index: number, hookName: string, error: unknown): unknown {
  return isTaplineError(error, "TAPLINE_ERR_STEP_VALIDATION")
    ? error
    : new PluginError({ plugin: verdict.plugins[index]!, hook: hookName, cause: error });
}

export async function callSeries<E>(
  hook: AsyncSeriesHook<[E]>,
  hookName: string,
  family: "observe" | "decide",
  event: E,
  report: ReportPluginError,
): Promise<void> {
  // Taps are only ever added (tapable has no untap), so the verdict holds while the counts stay the same.
  const verdict = directTaps(hook);
  if (!verdict) {
    await hook.promise(event);
    return;
  }
  const { fns } = verdict;
  for (let i = 0; i < fns.length; i++) {
    try {
      const result = fns[i]!(event);
      if (result !== undefined && typeof (result as PromiseLike<unknown>).then === "function") await result;
    } catch (error) {
      const plugin = verdict.plugins[i]!;
      if (family === "observe") report(new PluginError({ plugin, hook: hookName, cause: error }), event);
      else
        throw isTaplineError(error, "TAPLINE_ERR_STEP_VALIDATION")
          ? error
          : new PluginError({ plugin, hook: hookName, cause: error });
    }
  }
}

function isDirect(tap: { readonly [RAW]?: RawTap }): boolean {
  const raw = tap[RAW];
  return raw !== undefined && raw.type !== "async";
}
