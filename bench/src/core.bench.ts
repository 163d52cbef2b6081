// Per-step overhead of @tapline/core (issue 2): (a) a bare `await fn()`, (b) core with no plugins,
// (c) core with 5 no-op plugins tapping every hook, (d) a hand-written loop calling those same 30 step taps.
import { createTapline, definePlugin, type StepRunner } from "@tapline/core";
import { compare, note } from "./harness.ts";

const STEPS = 10;
const PLUGINS = 5;
const step = (n: number) => n + 1;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };

function build(plugins: number) {
  const noop = Array.from({ length: plugins }, (_, i) =>
    definePlugin({
      name: `noop-${i}`,
      version: "1.0.0",
      core: "^1.0.0",
      setup({ hooks, name }) {
        hooks.runStart.tapPromise(name, async () => {});
        hooks.stepStart.tapPromise(name, async () => {});
        hooks.validateStepInput.tapPromise(name, async () => {});
        hooks.wrapStep.tap(name, (next) => (input, signal) => next(input, signal));
        hooks.stepAttempt.tap(name, () => {});
        hooks.validateStepOutput.tapPromise(name, async () => {});
        hooks.stepEnd.tapPromise(name, async () => {});
        hooks.runEnd.tapPromise(name, async () => {});
      },
    })(),
  );
  const app = createTapline({ plugins: noop, logger: silent });
  let builder = app.pipeline<number>("bench") as any;
  for (let i = 0; i < STEPS; i++) builder = builder.step(`s${i}`, step);
  return builder.build() as { run(n: number): Promise<{ status: string }> };
}

// (d): the same taps, called by hand in the same order, without tapable or core.
const asyncTaps = Array.from({ length: PLUGINS }, () => async (_e: unknown) => {});
const syncTaps = Array.from({ length: PLUGINS }, () => (_e: unknown) => {});
const wrapTaps = Array.from(
  { length: PLUGINS },
  () => (next: StepRunner) => (input: unknown, signal: AbortSignal) => next(input, signal),
);
async function handLoop(input: number): Promise<number> {
  const signal = new AbortController().signal;
  const event = { input };
  for (const t of asyncTaps) await t(event); // runStart
  let value = input;
  for (let s = 0; s < STEPS; s++) {
    for (const t of asyncTaps) await t(event); // stepStart
    for (const t of asyncTaps) await t(event); // validateStepInput
    let runner: StepRunner = async (v) => {
      for (const t of syncTaps) t(event); // stepAttempt start
      const out = step(v as number);
      for (const t of asyncTaps) await t(event); // validateStepOutput
      for (const t of syncTaps) t(event); // stepAttempt end
      return out;
    };
    for (const w of wrapTaps) runner = w(runner);
    value = (await runner(value, signal)) as number;
    for (const t of asyncTaps) await t(event); // stepEnd
  }
  for (const t of asyncTaps) await t(event); // runEnd
  return value;
}

export default async function coreBench(): Promise<void> {
  const bare = build(0);
  const full = build(PLUGINS);
  if ((await full.run(0)).status !== "success") throw new Error("bench pipeline failed");
  const rows = await compare(
    `core: per-step overhead, ns per step (${STEPS}-step pipeline, ${PLUGINS} plugins x 6 step hooks = 30 taps)`,
    [
      {
        name: "(a) bare await fn()",
        fn: async () => {
          let v = 0;
          for (let i = 0; i < STEPS; i++) v = await step(v);
          return v;
        },
      },
      { name: "(b) core, no plugins", fn: () => bare.run(0) },
      { name: "(c) core, 5 no-op plugins", fn: () => full.run(0) },
      { name: "(d) hand-written loop, same taps", fn: () => handLoop(0) },
    ],
    { opsPerCall: STEPS },
  );
  const [a, b, c, d] = rows.map((r) => r.nsPerOp) as [number, number, number, number];
  note(`(b - a) = ${(b - a).toFixed(0)} ns per step (target <= 500 ns)`);
  note(`(c) = ${(c / 1000).toFixed(2)} us per step (target <= 3 us)`);
  note(`c / d = ${(c / d).toFixed(2)} (target <= 1.5)`);
}
