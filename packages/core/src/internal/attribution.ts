import { isTaplineError, PluginError } from "../errors.ts";
import { HOOK_FAMILY, type TaplineHooks } from "../hooks.ts";
import type { StatusPart } from "../vocabulary.ts";

type AnyFn = (...args: any[]) => any;

/** @internal Where a registered tap keeps its original function, type and plugin, for `dispatch.ts`. */
export const RAW: unique symbol = Symbol("tapline.rawTap");

/** @internal */
export interface RawTap {
  readonly fn: AnyFn;
  readonly type: string;
  readonly plugin: string;
}
interface TapInfo {
  name: string;
  type: string;
  fn: AnyFn;
}

/** @internal Reports an observe-hook failure; `event` is the hook's first argument (it may carry `ctx`). */
export type ReportPluginError = (error: PluginError, event: unknown) => void;

/**
 * @internal
 * Installs a `register` interceptor on every hook that wraps each tap's function, so that any error thrown
 * inside a tap comes out attributed (`PluginError { plugin, hook, cause }`) and is handled by the hook's
 * family: observe taps are reported and swallowed (the other taps still run), decide taps rethrow.
 * `currentPlugin()` names the plugin whose `setup()` is running; taps made outside setup are attributed to
 * their tap name.
 */
export function installAttribution(
  hooks: TaplineHooks,
  currentPlugin: () => string | undefined,
  report: ReportPluginError,
): void {
  for (const hookName of Object.keys(hooks) as (keyof TaplineHooks)[]) {
    const family = HOOK_FAMILY[hookName];
    const hook = hooks[hookName] as unknown as { intercept(i: { register(tap: TapInfo): TapInfo }): void };
    hook.intercept({
      register(tap: TapInfo) {
        const plugin = currentPlugin() ?? tap.name;
        const fn = tap.fn;
        let wrapped: AnyFn;
        switch (family) {
          case "observe":
            wrapped = observe(tap.type, fn, (e, event) =>
              report(new PluginError({ plugin, hook: hookName, cause: e }), event),
            );
            break;
          case "decide":
            wrapped = decide(tap.type, fn, (e) => toDecideError(e, plugin, hookName));
            break;
          case "around":
            wrapped = around(fn, plugin, hookName);
            break;
          case "status":
            wrapped = status(fn, plugin, (e) =>
              report(new PluginError({ plugin, hook: hookName, cause: e }), undefined),
            );
            break;
          case "sink":
            wrapped = sink(fn);
            break;
        }
        // Promise taps of observe and decide hooks become callback taps (their wrappers call back).
        const type =
          tap.type === "promise" && (family === "observe" || family === "decide") ? "async" : tap.type;
        return { ...tap, type, fn: wrapped, [RAW]: { fn, type: tap.type, plugin } };
      },
    });
  }
}

function toDecideError(error: unknown, plugin: string, hook: string): unknown {
  return isTaplineError(error, "TAPLINE_ERR_STEP_VALIDATION")
    ? error
    : new PluginError({ plugin, hook, cause: error });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return !!value && typeof (value as PromiseLike<unknown>).then === "function";
}

function observe(type: string, fn: AnyFn, onError: (error: unknown, event: unknown) => void): AnyFn {
  if (type === "promise") {
    // Re-registered as a callback tap (see `register` above): tapable then chains taps without allocating
    // a promise per tap, so attribution costs one `.then` per tap, the same as tapable's own promise taps.
    return (event: unknown, callback: (err?: unknown) => void) => {
      let result: unknown;
      try {
        result = fn(event);
      } catch (e) {
        onError(e, event);
        callback();
        return;
      }
      if (isThenable(result)) {
        result.then(
          () => callback(),
          (e) => {
            onError(e, event);
            callback();
          },
        );
      } else callback();
    };
  }
  if (type === "async") {
    return (event: unknown, callback: (err?: unknown, result?: unknown) => void) => {
      try {
        fn(event, (err?: unknown, result?: unknown) => {
          if (err) {
            onError(err, event);
            callback();
          } else callback(null, result);
        });
      } catch (e) {
        onError(e, event);
        callback();
      }
    };
  }
  return (event: unknown) => {
    try {
      return fn(event);
    } catch (e) {
      onError(e, event);
      return undefined;
    }
  };
}

function decide(type: string, fn: AnyFn, convert: (error: unknown) => unknown): AnyFn {
  if (type === "promise") {
    return (event: unknown, callback: (err?: unknown, result?: unknown) => void) => {
      let result: unknown;
      try {
        result = fn(event);
      } catch (e) {
        callback(convert(e));
        return;
      }
      // A bail hook (loadRun, replayUnit) takes the tap's result: pass it on.
      if (isThenable(result)) {
        result.then(
          (value) => callback(null, value),
          (e) => callback(convert(e)),
        );
      } else callback(null, result);
    };
  }
  if (type === "async") {
    return (event: unknown, callback: (err?: unknown, result?: unknown) => void) => {
      try {
        fn(event, (err?: unknown, result?: unknown) =>
          err ? callback(convert(err)) : callback(null, result),
        );
      } catch (e) {
        callback(convert(e));
      }
    };
  }
  return (event: unknown) => {
    try {
      return fn(event);
    } catch (e) {
      throw convert(e);
    }
  };
}

function around(fn: AnyFn, plugin: string, hook: string) {
  return (next: unknown, info: unknown) => wrapWith(fn, plugin, hook, next, info);
}

/**
 * @internal One wrapStep tap applied to `next`: its runner, or `next` when it returns nothing; a tap that
 * throws or returns something else than a function is a `PluginError` naming its plugin.
 */
export function wrapWith(fn: AnyFn, plugin: string, hook: string, next: unknown, info: unknown): unknown {
  let runner: unknown;
  try {
    runner = fn(next, info);
  } catch (e) {
    throw new PluginError({ plugin, hook, cause: e });
  }
  if (runner === undefined) return next;
  if (typeof runner !== "function") {
    throw new PluginError({
      plugin,
      hook,
      cause: new TypeError("a wrapStep tap must return a runner function"),
    });
  }
  return runner;
}

function status(fn: AnyFn, plugin: string, onError: (error: unknown) => void) {
  return (parts: StatusPart[]) => {
    try {
      return fn(parts) ?? parts;
    } catch (e) {
      onError(e);
      return [...parts, { component: plugin, level: "unknown", message: `status failed: ${String(e)}` }];
    }
  };
}

function sink(fn: AnyFn) {
  return (event: unknown) => {
    try {
      fn(event);
    } catch {
      // pluginError taps must not throw; there is nowhere left to report to.
    }
  };
}
