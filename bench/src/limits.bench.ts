// Issue #19, limits: the cost of acquiring a concurrency slot against p-limit, and a rate token against
// bottleneck configured the same (same concurrency; same limit per interval, never reached here), on the
// standalone path (`bulkhead().run`, `rateLimit().run`) and through core (a step with `limit`). Ratios from one
// run; target ≤ 1.0× each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { bulkhead, limits, rateLimit } from "@tapline/plugin-limits";
import Bottleneck from "bottleneck";
import pLimit from "p-limit";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { compare, note } from "./harness.ts";

const BATCH = 100;
const CONCURRENCY = 8;
const fn = async () => 1;

export default async function bench(): Promise<void> {
  // ---- Concurrency slots -------------------------------------------------------------------------------
  const ours = bulkhead({ name: "gpu", concurrency: CONCURRENCY, queue: 10_000 });
  const theirs = pLimit(CONCURRENCY);

  // One call at a time: the uncontended acquire + release.
  const serial = (call: () => Promise<unknown>) => async () => {
    for (let i = 0; i < BATCH; i++) await call();
  };
  const slot = await compare(
    `limits: concurrency slot, one call at a time (ns per call, batches of ${BATCH})`,
    [
      { name: "p-limit", fn: serial(() => theirs(fn)) },
      { name: "tapline bulkhead().run", fn: serial(() => ours.run(fn)) },
    ],
    { opsPerCall: BATCH },
  );
  // 100 calls at once through 8 slots: 92 of them queue.
  const burst = (call: () => Promise<unknown>) => () => Promise.all(Array.from({ length: BATCH }, call));
  const slotBurst = await compare(
    `limits: concurrency slot, ${BATCH} calls at once through ${CONCURRENCY} slots (ns per call)`,
    [
      { name: "p-limit", fn: burst(() => theirs(fn)) },
      { name: "tapline bulkhead().run", fn: burst(() => ours.run(fn)) },
    ],
    { opsPerCall: BATCH },
  );

  // ---- Rate tokens -------------------------------------------------------------------------------------
  // A limit never reached, so both measure the admit path: bottleneck's reservoir refreshes it every second,
  // ours is a sliding log over the last second (exact: never more than the limit in any window).
  const LIMIT = 1e9;
  const bottleneck = new Bottleneck({
    reservoir: LIMIT,
    reservoirRefreshAmount: LIMIT,
    reservoirRefreshInterval: 1000,
  });
  const rate = rateLimit({ name: "llm", rate: { limit: LIMIT, per: "1s" } });
  // rate-limiter-flexible, evaluated for the job: no timers, but a fixed window (up to twice the limit across a
  // boundary) and no waiting; shown for the admit path's cost only.
  const flexible = new RateLimiterMemory({ points: LIMIT, duration: 1 });
  const rateRows = await compare(
    `limits: rate token, one call at a time (ns per call, batches of ${BATCH})`,
    [
      { name: "bottleneck schedule", fn: serial(() => bottleneck.schedule(fn)) },
      { name: "rate-limiter-flexible consume", fn: serial(() => flexible.consume("llm", 1).then(fn)) },
      { name: "tapline rateLimit().run", fn: serial(() => rate.run(fn)) },
    ],
    { opsPerCall: BATCH, time: 1000, iterations: 20 },
  );

  // ---- Through core: a step with `limit` ---------------------------------------------------------------
  const bare = createTapline({ logger: silentLogger });
  const app = createTapline({
    logger: silentLogger,
    plugins: [
      limits({
        keys: {
          gpu: { concurrency: CONCURRENCY },
          llm: {
            rate: [
              { limit: LIMIT, per: "1s" },
              { limit: LIMIT, per: "1s", unit: "tokens" },
            ],
          },
        },
      }),
    ],
  });
  // The app's window budget: every unit is checked (and one with an estimate reserves it), nothing is spent.
  const spendDir = mkdtempSync(join(tmpdir(), "tapline-bench-spend-"));
  const budgeted = createTapline({
    dir: spendDir,
    logger: silentLogger,
    plugins: [limits({ budget: { daily: { usd: 1e9 } } })],
  });
  const withBudget = budgeted
    .pipeline("budget")
    .step("call", fn, { estimate: { usd: 0.01 } })
    .build();
  const plain = bare.pipeline("p").step("call", fn).build();
  const withSlot = app.pipeline("slot").step("call", fn, { limit: "gpu" }).build();
  const withRate = app
    .pipeline("rate")
    .step("call", fn, { limit: { key: "llm", cost: { tokens: 1200 } } })
    .build();
  const withP = bare
    .pipeline("plimit")
    .step("call", () => theirs(fn))
    .build();
  const withB = bare
    .pipeline("bottleneck")
    .step("call", () => bottleneck.schedule(fn))
    .build();
  const runs = await compare(
    "limits: through core, one-step run (ns per run)",
    [
      { name: "core step, no limit", fn: () => plain.run(undefined) },
      { name: "core step calling p-limit", fn: () => withP.run(undefined) },
      { name: "core step, limit: gpu (slot)", fn: () => withSlot.run(undefined) },
      { name: "core step calling bottleneck", fn: () => withB.run(undefined) },
      { name: "core step, limit: llm (rate + tokens)", fn: () => withRate.run(undefined) },
      { name: "core step, app budget: daily usd (estimate)", fn: () => withBudget.run(undefined) },
    ],
    { time: 1000, iterations: 20 },
  );
  const [base, pRun, slotRun, bRun, rateRun, budgetRun] = runs.map((r) => r.nsPerOp) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];

  const ratio = (rows: { nsPerOp: number }[]) => (rows[1]!.nsPerOp / rows[0]!.nsPerOp).toFixed(2);
  note(`slot vs p-limit, one at a time: ${ratio(slot)}× (target ≤ 1.0)`);
  note(`slot vs p-limit, burst through ${CONCURRENCY}: ${ratio(slotBurst)}× (target ≤ 1.0)`);
  note(
    `rate token vs bottleneck: ${(rateRows[2]!.nsPerOp / rateRows[0]!.nsPerOp).toFixed(4)}× (target ≤ 1.0; bottleneck dispatches each job on a timer); vs rate-limiter-flexible: ${(rateRows[2]!.nsPerOp / rateRows[1]!.nsPerOp).toFixed(2)}×`,
  );
  note(
    `through core, added per unit: slot ${(slotRun - base).toFixed(0)} ns vs p-limit in the step ${(pRun - base).toFixed(0)} ns (${((slotRun - base) / (pRun - base)).toFixed(2)}×); rate ${(rateRun - base).toFixed(0)} ns vs bottleneck in the step ${(bRun - base).toFixed(0)} ns (${((rateRun - base) / (bRun - base)).toFixed(2)}×); app window budget ${(budgetRun - base).toFixed(0)} ns`,
  );
  await bottleneck.stop({ dropWaitingJobs: true });
  await ours.close();
  await rate.close();
  await app.close();
  await bare.close();
  await budgeted.close();
  rmSync(spendDir, { recursive: true, force: true });
}
