import { createTapline, definePlugin } from "@tapline/core";

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };
const noop = Array.from({ length: 5 }, (_, i) =>
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
const app = createTapline({ plugins: noop, logger: silent as never });
let b = app.pipeline<number>("bench") as any;
for (let i = 0; i < 10; i++) b = b.step(`s${i}`, (n: number) => n + 1);
const p = b.build();
for (let i = 0; i < 3000; i++) await p.run(0);
const t = performance.now();
for (let i = 0; i < 20000; i++) await p.run(0);
console.log(((performance.now() - t) * 1e6) / 20000 / 10, "ns per step");
