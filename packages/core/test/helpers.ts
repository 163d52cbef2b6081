import {
  createTapline,
  definePlugin,
  type PluginApi,
  type TaplineApp,
  type TaplineOptions,
} from "../src/index.ts";

/** A plugin whose setup is the given function. */
export function plugin(
  name: string,
  setup: (api: PluginApi<unknown>) => void | (() => void | Promise<void>),
  extra: { dependencies?: string[]; core?: string; stepOptions?: string[] } = {},
) {
  return definePlugin({
    name,
    version: "1.0.0",
    core: extra.core ?? "^1.0.0",
    setup,
    ...(extra.dependencies && { dependencies: extra.dependencies }),
    ...(extra.stepOptions && { stepOptions: extra.stepOptions }),
  })();
}

/** An app whose logger drops everything (tests assert on hooks, not on stderr). */
export function quietApp(options: TaplineOptions = {}): TaplineApp {
  return createTapline({ logger: silent, ...options });
}

const noop = () => {};
export const silent = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silent,
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
