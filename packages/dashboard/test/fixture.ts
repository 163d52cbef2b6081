import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { alerts, stepFailureRate } from "@tapline/plugin-alerts";
import { metrics } from "@tapline/plugin-metrics";
import { retry } from "@tapline/plugin-retry";

/** What {@link makeDataDir} produced. */
export interface Fixture {
  readonly root: string;
  readonly dir: string;
  readonly runIds: readonly string[];
}

/**
 * A real data folder: a small pipeline run a few times with metrics(), retry() and alerts() on, one step that
 * fails its first attempt (a retry), one run that fails for good, and a step name and an error with `<script>`.
 */
export async function makeDataDir(runs = 4): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), "tapline dashboard "));
  const dir = join(root, ".tapline");
  const app = createTapline({
    dir,
    plugins: [
      metrics({ snapshotIntervalMs: 200, system: { intervalMs: 100 }, persist: { flushIntervalMs: 20 } }),
      retry(),
      alerts({ rules: [stepFailureRate({ warning: 0.1, critical: 0.5, window: "5m" })], handlers: [] }),
    ],
  });
  const calls = new Map<string, number>();
  const builder = app
    .pipeline<string>("story")
    .step("script", async (idea) => `a story about ${idea}`)
    .step(
      "voice",
      async (script, ctx) => {
        const n = (calls.get(ctx.runId) ?? 0) + 1;
        calls.set(ctx.runId, n);
        if (n === 1) throw new Error("tts provider busy (apiKey=sk-live-1234567890abcdef)");
        return `${script} (voiced)`;
      },
      { retry: { maxAttempts: 3, backoff: { kind: "constant", delay: 5 } } },
    )
    .step("<script>alert(1)</script>", async (voiced, ctx) => {
      if (voiced.includes("doom")) throw new Error("render failed: <img src=x onerror=alert(1)>");
      ctx.metric("tapline_test_loudness_lufs", -14.2, {});
      return voiced.length;
    });
  const pipeline = builder.build();
  const runIds: string[] = [];
  for (let i = 0; i < runs; i++) {
    const report = await pipeline.run(i === runs - 1 ? "doom" : `fox ${i}`);
    runIds.push(report.runId);
  }
  await new Promise((r) => setTimeout(r, 300));
  await app.close();
  return { root, dir, runIds };
}
