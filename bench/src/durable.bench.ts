// Issue #15, durable runs: the cost per unit of saving its result in the SQLite store (through core's
// saveUnit hook, the path users take) against the same pipeline without durability, and against a plain
// appendFile journal of the same bytes (the floor). Targets: ≤ 0.3 ms per unit and ≤ 2× the journal.
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { durable } from "@tapline/plugin-durable";
import { stringify } from "devalue";
import { compare, note } from "./harness.ts";

const ITEMS = 200;

/** One unit's output: a scene line and a little metadata, as a map item of the demo returns. */
const scene = (i: number) => ({
  index: i,
  text: `Scene ${i}: the fox looks up at the lighthouse while the tide comes in.`,
  file: `/tmp/scenes/scene-${i}.png`,
  at: new Date(1_700_000_000_000 + i),
});

export default async function bench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tapline-bench-durable-"));
  const journal = join(dir, "journal.log");
  const plain = createTapline({ dir: join(dir, "plain"), logger: silentLogger });
  const normal = createTapline({ dir: join(dir, "normal"), logger: silentLogger, plugins: [durable()] });
  const full = createTapline({
    dir: join(dir, "full"),
    logger: silentLogger,
    plugins: [durable({ sync: "full" })],
  });
  const build = (app: typeof plain, name: string, each?: (i: number, out: unknown) => Promise<void>) =>
    app
      .pipeline<number>(name)
      .map(
        "scenes",
        (n: number) => Array.from({ length: n }, (_, i) => i),
        async (i: number) => {
          const out = scene(i);
          if (each) await each(i, out);
          return out;
        },
        { concurrency: 1 },
      )
      .build();
  // The floor: the same bytes the store keeps per unit (the serialised output plus a hash-sized key), appended.
  const journaled = build(plain, "journal", (i, out) =>
    appendFile(journal, `${i}\t${"h".repeat(43)}\t${stringify(out)}\n`),
  );
  const bare = build(plain, "bare");
  const saved = build(normal, "durable");
  const savedFull = build(full, "durable-full");
  let n = 0;
  const rows = await compare(
    `durable: a run of a ${ITEMS}-item map (ns per unit)`,
    [
      { name: "no durability", fn: () => bare.run(ITEMS) },
      { name: "appendFile journal (floor)", fn: () => journaled.run(ITEMS) },
      { name: "durable() sqlite, sync normal", fn: () => saved.run(ITEMS, { runId: `n${n++}` }) },
      { name: "durable() sqlite, sync full", fn: () => savedFull.run(ITEMS, { runId: `f${n++}` }) },
    ],
    { opsPerCall: ITEMS, time: 1500 },
  );
  const [none, floor, sqlite, fsync] = rows.map((r) => r.nsPerOp) as [number, number, number, number];
  const perUnit = (sqlite - none) / 1e6;
  note(`saving one unit (sync normal): ${perUnit.toFixed(4)} ms over no durability (target ≤ 0.3 ms)`);
  note(
    `against the appendFile journal of the same bytes: ${((sqlite - none) / (floor - none)).toFixed(2)}× the journal's added cost (target ≤ 2×)`,
  );
  note(`sync full (an fsync per save): ${((fsync - none) / 1e6).toFixed(4)} ms per unit`);
  await Promise.all([plain.close(), normal.close(), full.close()]);
  await rm(dir, { recursive: true, force: true });
}
