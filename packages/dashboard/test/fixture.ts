import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { alerts, presets } from "@tapline/plugin-alerts";
import { metrics } from "@tapline/plugin-metrics";
import { retry } from "@tapline/plugin-retry";

/** What {@link makeDataDir} produced. */
export interface Fixture {
  readonly root: string;
  readonly dir: string;
  readonly runIds: readonly string[];
  /** A run of a `.map()` step whose item 1 fails once, when core has `.map()`. */
  readonly mapRunId?: string;
  /** Why the `.map()` run could not be made (core's `.map()` differs from the shape guessed here). */
  readonly mapError?: string;
}

/** Core's `.map()` (units of work) is there: the map-item tests run. */
export const mapAvailable =
  typeof (createTapline({ plugins: [] }).pipeline("probe") as unknown as { map?: unknown }).map ===
  "function";

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
      alerts({
        rules: [presets.stepFailureRate({ warning: 0.1, critical: 0.5, window: "5m" })],
        handlers: [],
      }),
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
      ctx.metric("tapline_audio_loudness_lufs", -14.2, { kind: "audio" }, { unit: "lufs" });
      return voiced.length;
    });
  const pipeline = builder.build();
  const runIds: string[] = [];
  for (let i = 0; i < runs; i++) {
    const report = await pipeline.run(i === runs - 1 ? "doom" : `fox ${i}`);
    runIds.push(report.runId);
  }
  let mapRunId: string | undefined;
  let mapError: string | undefined;
  if (mapAvailable) {
    try {
      // The shape of core's .map() (issue #14): a name, the items from the input, the function per item.
      const tries = new Map<number, number>();
      const mapped = app
        .pipeline<number[]>("mapped")
        .map(
          "items",
          (list) => list,
          async (item: number) => {
            const n = (tries.get(item) ?? 0) + 1;
            tries.set(item, n);
            if (item === 1 && n === 1) throw new Error("item 1 flaked");
            return item * 2;
          },
          { retry: { maxAttempts: 3, backoff: { kind: "constant", delay: 5 } } },
        )
        .build();
      mapRunId = (await mapped.run([0, 1, 2])).runId;
    } catch (error) {
      // Written before core had .map(): only the map test fails, naming this, not every browser test.
      mapError = `test/fixture.ts guessed core's .map(name, fn, options) wrong: ${(error as Error).message}`;
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  await app.close();
  return { root, dir, runIds, ...(mapRunId && { mapRunId }), ...(mapError && { mapError }) };
}
