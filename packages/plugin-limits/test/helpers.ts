import { createTapline, definePlugin, type PluginApi, type TaplineApp, WrapStage } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { type LimitsPluginOptions, limits } from "../src/index.ts";

/** The most admissions (or weight) inside any half-open window [t, t + per) of the times. */
export function maxInWindow(times: readonly number[], per: number, weights?: readonly number[]): number {
  const order = times.map((t, i) => [t, weights?.[i] ?? 1] as const).sort((a, b) => a[0] - b[0]);
  let max = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < order.length; hi++) {
    sum += order[hi]![1];
    while (order[lo]![0] <= order[hi]![0] - per) sum -= order[lo++]![1];
    max = Math.max(max, sum);
  }
  return max;
}

/** Counts calls in flight and keeps the highest count seen. */
export function inFlightCounter() {
  const c = {
    now: 0,
    max: 0,
    async around<T>(fn: () => Promise<T>): Promise<T> {
      c.max = Math.max(c.max, ++c.now);
      try {
        return await fn();
      } finally {
        c.now--;
      }
    },
  };
  return c;
}

/** A plugin that retries every unit up to `times` attempts (what plugin-retry does at its stage, minus policy). */
export const retrying = (times: number) =>
  definePlugin({
    name: "retry-like",
    version: "1.0.0",
    core: "^1.0.0",
    setup({ hooks }) {
      hooks.wrapStep.tap({ name: "retry-like", stage: WrapStage.retry }, (next) => async (input, signal) => {
        let last: unknown;
        for (let i = 0; i < times; i++) {
          try {
            return await next(input, signal);
          } catch (error) {
            last = error;
            if (signal.aborted) break;
          }
        }
        throw last;
      });
    },
  })();

/** A plugin that hands its api out, to publish gauges as plugin-gpu would. */
export function gaugeSource(): { plugin: ReturnType<ReturnType<typeof definePlugin>>; api: () => PluginApi } {
  let api: PluginApi | undefined;
  return {
    plugin: definePlugin({
      name: "gauge-source",
      version: "1.0.0",
      core: "^1.0.0",
      setup(a) {
        api = a as PluginApi;
      },
    })(),
    api: () => api!,
  };
}

export function appWith(options: LimitsPluginOptions, ...plugins: ReturnType<typeof retrying>[]): TaplineApp {
  return createTapline({ logger: silentLogger, plugins: [...plugins, limits(options)] });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
