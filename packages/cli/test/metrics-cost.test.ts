import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetricsStore } from "@tapline/plugin-metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

/** `tapline metrics` shows what runs and steps cost, from the run records plugin-metrics persisted. */
describe("tapline metrics: cost", () => {
  let dir: string;
  const now = Date.now();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline cost "));
    const store = createMetricsStore({ dir, persistSamples: false });
    const run = (
      runId: string,
      pipeline: string,
      time: number,
      steps: [string, Record<string, number>][],
    ) => {
      for (const [step, cost] of steps)
        store.recordStep({
          runId,
          pipeline,
          step,
          status: "success",
          durationMs: 5,
          attempts: [{ durationMs: 5 }],
          cost,
          time,
        });
      const total: Record<string, number> = {};
      for (const [, cost] of steps) for (const [u, n] of Object.entries(cost)) total[u] = (total[u] ?? 0) + n;
      store.recordRun({ runId, pipeline, status: "success", durationMs: 10, cost: total, time });
    };
    run("r1", "video", now - 60_000, [
      ["script", { usd: 0.002, tokens: 400 }],
      ["scenes[]", { usd: 0.003, images: 1 }],
      ["scenes[]", { usd: 0.003, images: 1 }],
    ]);
    run("r2", "video", now - 30_000, [["script", { usd: 0.0025, tokens: 500 }]]);
    run("r3", "podcast", now - 3 * 3_600_000, [["speak", { usd: 0.01, characters: 700 }]]);
    // A run that cost nothing has no cost field and no cost row.
    store.recordRun({ runId: "r4", pipeline: "free", status: "success", durationMs: 1, time: now });
    await store.close();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("--json: totals in all, per pipeline (runs) and per step (units)", async () => {
    const r = await tapline(["metrics", "--dir", dir, "--json"]);
    expect(r.code).toBe(0);
    const { cost } = JSON.parse(r.stdout);
    expect(cost.runs).toBe(3);
    expect(cost.total.usd).toBeCloseTo(0.0205, 9);
    expect(cost.total).toMatchObject({ tokens: 900, images: 2, characters: 700 });
    const row = (name: string) => cost.rows.find((x: { name: string }) => x.name === name);
    expect(row("video")).toMatchObject({ kind: "run", count: 2, cost: { tokens: 900, images: 2 } });
    expect(row("video").cost.usd).toBeCloseTo(0.0105, 9);
    expect(row("video/scenes[]")).toMatchObject({ kind: "step", count: 2, cost: { usd: 0.006, images: 2 } });
    expect(row("podcast/speak")).toMatchObject({ count: 1, cost: { usd: 0.01, characters: 700 } });
    expect(row("free")).toBeUndefined();
  });

  it("a table of cost per pipeline and step, usd first; --pipeline and --since select as for the rest", async () => {
    const r = await tapline(["metrics", "--dir", dir]);
    expect(r.stdout).toContain("Cost: 0.0205 usd, 700 characters, 2 images, 900 tokens over 3 run(s)");
    expect(r.stdout).toMatch(/operation\s+kind\s+count\s+usd\s+characters\s+images\s+tokens/);
    expect(r.stdout).toMatch(/video\/scenes\[\]\s+step\s+2\s+0\.006\s+2\n/);
    const video = JSON.parse(
      (await tapline(["metrics", "--dir", dir, "--pipeline", "video", "--json"])).stdout,
    );
    expect(video.cost.runs).toBe(2);
    expect(video.cost.rows.map((x: { name: string }) => x.name)).toEqual([
      "video",
      "video/scenes[]",
      "video/script",
    ]);
    const recent = JSON.parse((await tapline(["metrics", "--dir", dir, "--since", "1h", "--json"])).stdout);
    expect(recent.cost.total).toEqual({ usd: 0.0105, tokens: 900, images: 2 });
  });
});
