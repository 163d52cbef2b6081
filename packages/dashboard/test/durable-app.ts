// A real pipeline on @tapline/plugin-durable and plugin-metrics (no hand-written record): a story whose
// render fails once, resumed (its script and scenes replay), and a story that suspends for approval. The
// dashboard tests read the data dir (runs/*.jsonl and durable.sqlite) it leaves.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTapline, type RunReport } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { durable, sqliteStore } from "@tapline/plugin-durable";
import { metrics } from "@tapline/plugin-metrics";

/** What {@link makeDurableRuns} made. */
export interface DurableRuns {
  /** Failed at its render, then resumed to success: script and scenes replayed. */
  readonly failed: RunReport;
  readonly resumed: RunReport;
  /** Suspended at its review, waiting for `tapline approve`. */
  readonly suspended: RunReport;
  /** Paid calls the pipeline made (the resume must not repeat them). */
  readonly paidCalls: number;
}

/** Runs the stories on `dir` (with these run ids) and closes the app. */
export async function makeDurableRuns(
  dir: string,
  ids: { readonly resumed: string; readonly suspended: string } = {
    resumed: "fox-run-1",
    suspended: "owl-run-1",
  },
): Promise<DurableRuns> {
  const app = createTapline({
    dir,
    logger: silentLogger,
    plugins: [metrics({ persist: true, system: false }), durable()],
  });
  let paidCalls = 0;
  let renders = 0;
  const story = app
    .pipeline<{ id: string; approval: boolean }>("story")
    .step("script", async (input, ctx) => {
      paidCalls++;
      ctx.cost(0.004, { unit: "usd" });
      await new Promise((r) => setTimeout(r, 15));
      return { ...input, script: `A short story about ${input.id}.` };
    })
    .map(
      "scenes",
      (s) => [1, 2, 3].map((n) => `${s.script} Scene ${n}.`),
      async (scene: string, ctx) => {
        paidCalls++;
        ctx.cost(0.002, { unit: "usd" });
        await new Promise((r) => setTimeout(r, 10));
        return `image of ${scene}`;
      },
    )
    .step("review", (images: string[], ctx) => {
      const { approval } = ctx.outputs.script as { approval: boolean };
      if (approval && ctx.resumeData === undefined)
        return ctx.suspend({
          reason: "approve the script before the voice is paid for",
          data: { images: images.length },
        });
      return images;
    })
    .step("render", async (images: string[]) => {
      await new Promise((r) => setTimeout(r, 5));
      if (++renders === 1) throw new Error("ffmpeg exited with code 1");
      return `video of ${images.length} scenes`;
    })
    .build();
  try {
    const failed = await story.run({ id: "fox", approval: false }, { runId: ids.resumed });
    const resumed = await app.resume(ids.resumed);
    const suspended = await story.run({ id: "owl", approval: true }, { runId: ids.suspended });
    return { failed, resumed, suspended, paidCalls };
  } finally {
    await app.close();
  }
}

/** Polls `check` every 25 ms until it holds (or throws after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A run whose process died: a child process runs it on `dir` (durable, lease 1 s) and is killed with SIGKILL
 * inside its render; resolves once the run's lease ran out (what `tapline runs` shows as interrupted).
 */
export async function makeInterruptedRun(dir: string, runId: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL("./fixtures/durable-hang.mjs", import.meta.url)), dir, runId],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    await until(() => out.includes("rendering") || child.exitCode !== null, "the child's render");
    if (child.exitCode !== null) throw new Error(`the child exited (${child.exitCode}) before its render`);
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  const store = sqliteStore({ path: join(dir, "durable.sqlite") });
  try {
    await until(async () => {
      const row = await store.getRun(runId);
      return row?.status === "running" && (row.leaseUntil ?? 0) < Date.now();
    }, "the killed run's lease to run out");
  } finally {
    await store.close();
  }
}
