// Success-path overhead of retry (+ breaker) per call, side by side with cockatiel, opossum and p-retry; then
// the path the plugin really takes (a step with `retry` and a breaker, run through core, with a signal) against
// a core step wrapping the call in cockatiel's wrap(retry, breaker) with the same signal.
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { circuitBreaker, retry, retryPolicy } from "@tapline/plugin-retry";
import {
  ConsecutiveBreaker,
  circuitBreaker as cbPolicy,
  retry as cRetry,
  ExponentialBackoff,
  handleAll,
  wrap,
} from "cockatiel";
import CircuitBreaker from "opossum";
import pRetry from "p-retry";
import { compare, note } from "./harness.ts";

const BATCH = 100;
const fn = async () => 1;

export default async function bench(): Promise<void> {
  const oursRetry = retryPolicy({ maxAttempts: 4, backoff: { kind: "exponential", base: 128 } });
  const oursBoth = retryPolicy({
    maxAttempts: 4,
    backoff: { kind: "exponential", base: 128 },
    breaker: circuitBreaker({ trip: { kind: "consecutive", threshold: 5 } }),
  });
  const cockatiel = wrap(
    cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    cbPolicy(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const opossum = new CircuitBreaker(fn, {
    timeout: false,
    enableSnapshots: false,
    rollingPercentilesEnabled: false,
  });

  const batch = (call: () => Promise<unknown>) => async () => {
    for (let i = 0; i < BATCH; i++) await call();
  };
  // A live signal, as core and the plugin pass one: the policy must link each attempt's signal to it.
  const signal = new AbortController().signal;
  const rows = await compare(
    "retry: success-path overhead per call (fn = async () => 1)",
    [
      { name: "bare await fn()", fn: batch(fn) },
      { name: "ours retry only", fn: batch(() => oursRetry.execute(fn)) },
      { name: "ours retry+breaker", fn: batch(() => oursBoth.execute(fn)) },
      { name: "cockatiel wrap(retry, breaker)", fn: batch(() => cockatiel.execute(fn)) },
      { name: "ours retry+breaker, signal", fn: batch(() => oursBoth.execute(fn, signal)) },
      { name: "cockatiel wrap(retry, breaker), signal", fn: batch(() => cockatiel.execute(fn, signal)) },
      { name: "opossum fire() timeout off", fn: batch(() => opossum.fire()) },
      { name: "p-retry retries:3", fn: batch(() => pRetry(fn, { retries: 3 })) },
    ],
    { opsPerCall: BATCH, time: 1500 },
  );
  opossum.shutdown();
  const ns = (name: string) => rows.find((r) => r.name === name)!.nsPerOp;
  const ratio = ns("ours retry+breaker") / ns("cockatiel wrap(retry, breaker)");
  note(
    `ours retry+breaker / cockatiel retry+breaker = ${ratio.toFixed(2)} (target ≤ 1.00: ${ratio <= 1 ? "met" : "NOT met"})`,
  );
  const signalRatio = ns("ours retry+breaker, signal") / ns("cockatiel wrap(retry, breaker), signal");
  note(
    `with a signal: ours retry+breaker / cockatiel retry+breaker = ${signalRatio.toFixed(2)} (target ≤ 1.00: ${signalRatio <= 1 ? "met" : "NOT met"})`,
  );
  note(`ours retry only / p-retry = ${(ns("ours retry only") / ns("p-retry retries:3")).toFixed(2)}`);
  note(
    `ours retry+breaker / opossum fire() = ${(ns("ours retry+breaker") / ns("opossum fire() timeout off")).toFixed(2)}`,
  );

  await pipelinePath();
}

/** The plugin's real path: one step, `retry: { breaker: "x" }`, through core's wrapStep chain. */
async function pipelinePath(): Promise<void> {
  const ours = createTapline({
    logger: silentLogger,
    plugins: [
      retry({
        defaults: { maxAttempts: 4, backoff: { kind: "exponential", base: 128 } },
        breakers: { x: { trip: { kind: "consecutive", threshold: 5 } } },
      }),
    ],
  });
  const oursPipeline = ours
    .pipeline("p")
    .step("call", () => fn(), { retry: { breaker: "x" } })
    .build();

  const bare = createTapline({ logger: silentLogger });
  const barePipeline = bare
    .pipeline("p")
    .step("call", () => fn())
    .build();
  const cockatiel = wrap(
    cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    cbPolicy(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const cockatielPipeline = bare
    .pipeline("q")
    .step("call", (_input, ctx) => cockatiel.execute(() => fn(), ctx.signal))
    .build();

  const batch = (call: () => Promise<unknown>) => async () => {
    for (let i = 0; i < BATCH; i++) await call();
  };
  const rows = await compare(
    "retry: the plugin's path, per pipeline.run() of one step (retry + breaker, with core's signal)",
    [
      { name: "core, no plugins, bare step", fn: batch(() => barePipeline.run()) },
      { name: "core + retry plugin, breaker x", fn: batch(() => oursPipeline.run()) },
      { name: "core, step in cockatiel wrap(retry, breaker)", fn: batch(() => cockatielPipeline.run()) },
    ],
    { opsPerCall: BATCH, time: 1500 },
  );
  await Promise.all([ours.close(), bare.close()]);
  const ns = (name: string) => rows.find((r) => r.name === name)!.nsPerOp;
  const base = ns("core, no plugins, bare step");
  const oursCost = ns("core + retry plugin, breaker x") - base;
  const theirCost = ns("core, step in cockatiel wrap(retry, breaker)") - base;
  const ratio = ns("core + retry plugin, breaker x") / ns("core, step in cockatiel wrap(retry, breaker)");
  note(
    `plugin run / cockatiel-in-step run = ${ratio.toFixed(2)} (target ≤ 1.00: ${ratio <= 1 ? "met" : "NOT met"})`,
  );
  note(
    `added to a bare run: plugin ${oursCost.toFixed(0)} ns, cockatiel ${theirCost.toFixed(0)} ns (ratio ${(oursCost / theirCost).toFixed(2)})`,
  );
}
