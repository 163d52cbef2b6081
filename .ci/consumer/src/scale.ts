// Durable runs and the queue as a new user writes them, type-checked against the published declarations (not
// run: it needs a Redis). Typos must be type errors; the types must flow.
import { createTapline, isTaplineError, type RunReport } from "@tapline/core";
import { durable, sqliteStore } from "@tapline/plugin-durable";
import { redisStore } from "@tapline/plugin-durable/redis";
import { redisBreakerStore } from "@tapline/plugin-retry/redis";
import { createRunQueue, createWorker, type QueuedRun } from "@tapline/queue";

export async function scale(redis: string): Promise<QueuedRun> {
  const app = createTapline({
    plugins: [durable({ store: await redisStore({ connection: redis }), keep: "14d" })],
  });
  const story = app
    .pipeline<{ idea: string }>("story")
    .step("script", ({ idea }) => `about ${idea}`)
    .step("review", (script: string, ctx) => {
      const ok = ctx.resumeData as { approved: boolean } | undefined;
      if (ok === undefined) return ctx.suspend({ reason: "approve", data: { script } });
      return script;
    })
    .build();
  const report: RunReport = await app.resume("run-1", { resumeData: { approved: true } });
  if (isTaplineError(report.error, "TAPLINE_ERR_RUN_SUSPENDED")) console.log(report.suspended?.reason);
  const worker = await createWorker(app, { connection: redis, pipelines: [story], concurrency: 2 });
  const queue = await createRunQueue({ connection: redis });
  const { runId } = await queue.enqueue("story", { idea: "a fox" });
  // @ts-expect-error concurency is not an option
  await createWorker(app, { connection: redis, pipelines: [story], concurency: 2 });
  // @ts-expect-error kepp is not an option
  durable({ kepp: "1d" });
  void sqliteStore({ path: "/tmp/x.sqlite" }).listRuns({ status: "suspended" });
  void redisBreakerStore({ url: redis });
  await worker.close();
  return queue.get(runId);
}
