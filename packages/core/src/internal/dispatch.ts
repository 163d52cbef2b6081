import type { AsyncSeriesHook } from "tapable";
import { isTaplineError, PluginError } from "../errors.ts";
import { RAW, type RawTap, type ReportPluginError } from "./attribution.ts";

/** What tapable keeps on a hook and does not declare in its types, plus our cached verdict. */
interface HookInternals {
  readonly taps: readonly { readonly [RAW]?: RawTap }[];
  readonly interceptors: readonly unknown[];
  [DIRECT]?: Verdict;
}

const DIRECT: unique symbol = Symbol("tapline.direct");

/** Whether a hook can be called in a plain loop, and (then) its taps' functions and plugins, in order. */
interface Verdict {
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
export async function callSeries<E>(
  hook: AsyncSeriesHook<[E]>,
  hookName: string,
  family: "observe" | "decide",
  event: E,
  report: ReportPluginError,
): Promise<void> {
  const internals = hook as unknown as HookInternals;
  const { taps, interceptors } = internals;
  // Taps are only ever added (tapable has no untap), so the verdict holds while the counts stay the same.
  let verdict = internals[DIRECT];
  if (verdict === undefined || verdict.taps !== taps.length || verdict.interceptors !== interceptors.length) {
    const direct = interceptors.length === 1 && taps.every(isDirect);
    verdict = {
      taps: taps.length,
      interceptors: interceptors.length,
      direct,
      // The raw functions in a plain array: the loop below reads no symbol-keyed property per tap.
      fns: direct ? taps.map((t) => t[RAW]!.fn as (event: unknown) => unknown) : [],
      plugins: direct ? taps.map((t) => t[RAW]!.plugin) : [],
    };
    internals[DIRECT] = verdict;
  }
  if (!verdict.direct) {
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
