// Flow shapes (issue #14): the overhead per map item against p-map over the same function at the same
// concurrency, and `.parallel` against `Promise.all`. Each figure is an overhead over a bare call of the same
// async function: (case − bare) per unit, so the ratio compares what each tool adds, not the work.
import { createTapline } from "@tapline/core";
import pMap from "p-map";
import { compare, note } from "./harness.ts";

const ITEMS = 1000;
const CONCURRENCY = 8;
const BRANCHES = 4;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };
const work = async (n: number) => n + 1;
const items = Array.from({ length: ITEMS }, (_, i) => i);

export default async function flows(): Promise<void> {
  const app = createTapline({ logger: silent });
  const mapped = app
    .pipeline("map")
    .map("items", () => items, work, { concurrency: CONCURRENCY })
    .build();
  const parallel = app
    .pipeline<number>("parallel")
    .parallel("media", { a: work, b: work, c: work, d: work })
    .build();
  const single = app.pipeline<number>("single").step("a", work).build();

  // Bare: the same calls with no tool at all (a plain worker pool at the same concurrency).
  const barePool = async () => {
    let next = 0;
    const out = new Array<number>(ITEMS);
    const worker = async () => {
      while (next < ITEMS) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return out;
  };

  const rows = await compare(
    `flows: map over ${ITEMS} items at concurrency ${CONCURRENCY}, ns per item`,
    [
      { name: "bare worker pool", fn: barePool },
      { name: "p-map", fn: () => pMap(items, work, { concurrency: CONCURRENCY }) },
      { name: "tapline .map (pipeline.run)", fn: () => mapped.run(undefined) },
    ],
    { opsPerCall: ITEMS, time: 1500 },
  );
  const [bare, peer, ours] = rows.map((r) => r.nsPerOp) as [number, number, number];
  note(
    `overhead per item over bare: tapline ${(ours - bare).toFixed(0)} ns, p-map ${(peer - bare).toFixed(0)} ns, ratio ${((ours - bare) / (peer - bare)).toFixed(2)} (target <= 1.5)`,
  );

  const prow = await compare(
    `flows: parallel of ${BRANCHES} branches, ns per run`,
    [
      { name: "bare Promise.all", fn: () => Promise.all([work(1), work(1), work(1), work(1)]) },
      { name: "tapline one-step run", fn: () => single.run(1) },
      { name: "tapline .parallel (pipeline.run)", fn: () => parallel.run(1) },
    ],
    { time: 1500 },
  );
  const [pAll, oneStep, pOurs] = prow.map((r) => r.nsPerOp) as [number, number, number];
  note(
    `overhead per branch over Promise.all: tapline ${((pOurs - pAll) / BRANCHES).toFixed(0)} ns; a one-step run costs ${oneStep.toFixed(0)} ns, so a branch costs ${((pOurs - oneStep) / BRANCHES).toFixed(0)} ns beyond the run's own`,
  );
  await app.close();
}
