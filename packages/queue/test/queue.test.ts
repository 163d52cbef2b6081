import { createTapline, isTaplineError, type TaplineApp } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { durable } from "@tapline/plugin-durable";
import { redisStore } from "@tapline/plugin-durable/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunQueue, createWorker, type RunWorker } from "../src/index.ts";
import { haveRedis, type RedisServer, startRedis } from "./redis-server.ts";

const present = await haveRedis();
if (!present && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error("redis-server is required (TAPLINE_REQUIRE_INTEGRATION=1): apt-get install redis-server");

let redis: RedisServer;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  if (present) redis = await startRedis();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await redis?.dispose();
});

let n = 0;
/** A queue and an app of its own (a fresh queue name per test: tests never see each other's jobs). */
async function setup(options: { durable?: boolean; graceMs?: number } = {}) {
  const name = `q${++n}-${Date.now()}`;
  const queue = await createRunQueue({ connection: redis.url, name, backoffMs: 50 });
  closers.push(() => queue.close());
  const plugins = options.durable
    ? [durable({ store: await redisStore({ connection: redis.url, prefix: `d:${name}` }), leaseTtl: "1s" })]
    : [];
  const apps: TaplineApp[] = [];
  const app = () => {
    const a = createTapline({ logger: silentLogger, plugins, dir: `/tmp/tapline-queue-${name}` });
    apps.push(a);
    closers.push(() => a.close());
    return a;
  };
  return { name, queue, app };
}

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe.skipIf(!present)("@tapline/queue on a real redis-server", () => {
  it("a bad URL or a Redis that does not answer is a clear error at start, without the password", async () => {
    for (const [connection, why] of [
      ["not a url", /not a URL/],
      ["http://127.0.0.1:6379", /scheme "http:"/],
      ["redis://user:s3cret-pass@127.0.0.1:1", /no answer/],
    ] as const) {
      const error = await createRunQueue({ connection }).catch((e: unknown) => e);
      expect(isTaplineError(error, "TAPLINE_ERR_QUEUE_CONNECTION")).toBe(true);
      expect((error as Error).message).toMatch(why);
      expect((error as Error).message).not.toContain("s3cret-pass");
    }
    await expect(createRunQueue({ connection: redis.url, nmae: "x" } as never)).rejects.toThrow(
      /did you mean "name"/,
    );
  });

  it("enqueue → a worker runs it with the app's pipeline → get() returns the report", async () => {
    const { name, queue, app } = await setup();
    const a = app();
    const story = a
      .pipeline<{ idea: string }>("story")
      .step("script", ({ idea }) => `script about ${idea}`)
      .step("render", (s: string) => s.length)
      .build();
    const worker = await createWorker(a, { connection: redis.url, name, pipelines: [story] });
    closers.push(() => worker.close());
    const { runId } = await queue.enqueue("story", { idea: "a fox" }, { runId: "fox-1" });
    expect(runId).toBe("fox-1");
    await until("completion", async () => (await queue.get(runId)).state === "completed");
    const got = await queue.get(runId);
    expect(got.report).toMatchObject({ runId: "fox-1", status: "success", output: 18, worker: worker.name });
    expect(got.report!.units.map((u) => u.path)).toEqual(["script", "render"]);
    expect(await queue.get("nope")).toMatchObject({ state: "unknown" });
    expect(a.status().parts.find((p) => p.component === "queue")?.level).toBe("ok");
    await expect(queue.enqueue("story", {}, { runId: "12345" })).rejects.toThrow(/must not be only digits/);
  });

  it("cancel: an active run's unit gets the reason on its signal, and the job fails without retry", async () => {
    const { name, queue, app } = await setup();
    const a = app();
    let seen: unknown;
    let started = false;
    const slow = a
      .pipeline("slow")
      .step("render", (_: unknown, ctx) => {
        started = true;
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            seen = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        });
      })
      .build();
    const worker = await createWorker(a, { connection: redis.url, name, pipelines: [slow] });
    closers.push(() => worker.close());
    const { runId } = await queue.enqueue("slow", null);
    await until("start", () => started);
    expect(await queue.cancel(runId, "the customer withdrew the order")).toBe("signalled");
    await until("failure", async () => (await queue.get(runId)).state === "failed");
    expect(isTaplineError(seen, "TAPLINE_ERR_QUEUE_CANCELLED")).toBe(true);
    expect((seen as Error).message).toContain("the customer withdrew the order");
    const got = await queue.get(runId);
    expect(got.attempts).toBe(1);
    expect(got.report?.status).toBe("cancelled");
    // A waiting run is removed.
    const { runId: later } = await queue.enqueue("slow", null, { delay: 60_000 });
    expect(await queue.cancel(later)).toBe("removed");
    expect(await queue.cancel(later)).toBe("unknown");
  });

  it("a failed run that BullMQ retries resumes through the durable store: paid units are not executed again", async () => {
    const { name, queue, app } = await setup({ durable: true });
    const a = app();
    const calls: string[] = [];
    let renders = 0;
    const story = a
      .pipeline<string>("story")
      .step("script", (idea: string) => {
        calls.push("script");
        return `about ${idea}`;
      })
      .step("voice", (s: string) => {
        calls.push("voice");
        return s.toUpperCase();
      })
      .step("render", (s: string) => {
        calls.push("render");
        if (++renders < 3) throw new Error("ffmpeg crashed");
        return `video: ${s}`;
      })
      .build();
    const worker = await createWorker(a, { connection: redis.url, name, pipelines: [story] });
    closers.push(() => worker.close());
    const { runId } = await queue.enqueue("story", "owls");
    await until("completion", async () => (await queue.get(runId)).state === "completed");
    expect(calls).toEqual(["script", "voice", "render", "render", "render"]);
    const got = await queue.get(runId);
    expect(got.attempts).toBe(3);
    expect(got.report).toMatchObject({ status: "success", resumed: true, output: "video: ABOUT OWLS" });
    expect(got.report!.units.map((u) => u.replayed)).toEqual([true, true, false]);
  });

  it("close(): running runs past the grace period are handed back; another worker resumes them", async () => {
    const { name, queue, app } = await setup({ durable: true });
    const calls: string[] = [];
    const define = (a: TaplineApp, holdRender: boolean) =>
      a
        .pipeline<string>("story")
        .step("script", (idea: string) => {
          calls.push("script");
          return idea;
        })
        .step("render", (s: string, ctx) => {
          calls.push(`render:${holdRender ? "A" : "B"}`);
          if (!holdRender) return `video: ${s}`;
          return new Promise((_r, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          );
        })
        .build();
    const a = app();
    const workerA: RunWorker = await createWorker(a, {
      connection: redis.url,
      name,
      pipelines: [define(a, true)],
      graceMs: 200,
      workerName: "A",
    });
    const { runId } = await queue.enqueue("story", "a heron");
    await until("render on A", () => calls.includes("render:A"));
    const t = Date.now();
    await workerA.close();
    expect(Date.now() - t).toBeLessThan(5000);
    expect(await queue.get(runId)).toMatchObject({ state: "waiting" });
    const b = app();
    const workerB = await createWorker(b, {
      connection: redis.url,
      name,
      pipelines: [define(b, false)],
      workerName: "B",
    });
    closers.push(() => workerB.close());
    await until("completion on B", async () => (await queue.get(runId)).state === "completed", 20_000);
    const got = await queue.get(runId);
    expect(got.report).toMatchObject({ status: "success", worker: "B", resumed: true });
    expect(calls).toEqual(["script", "render:A", "render:B"]);
    expect(got.attempts).toBeLessThanOrEqual(2);
  });

  it("a job of a pipeline the worker does not have fails at once, naming it", async () => {
    const { name, queue, app } = await setup();
    const a = app();
    const known = a
      .pipeline("known")
      .step("x", () => 1)
      .build();
    const worker = await createWorker(a, { connection: redis.url, name, pipelines: [known] });
    closers.push(() => worker.close());
    const { runId } = await queue.enqueue("unknown", null);
    await until("failure", async () => (await queue.get(runId)).state === "failed");
    const got = await queue.get(runId);
    expect(got.attempts).toBe(1);
    expect(got.failedReason).toMatch(/no pipeline "unknown" \(it runs: known\)/);
  });

  it("Redis stopped mid-run, then restarted: the worker reports degraded with the reason, nothing is lost, processing resumes", async () => {
    const own = await startRedis({ persist: true });
    closers.push(() => own.dispose());
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on("unhandledRejection", onRejection);
    try {
      const name = `restart-${Date.now()}`;
      const queue = await createRunQueue({ connection: own.url, name, backoffMs: 100 });
      closers.push(() => queue.close());
      const a = createTapline({ logger: silentLogger, dir: `/tmp/tapline-queue-${name}` });
      closers.push(() => a.close());
      const done: string[] = [];
      const p = a
        .pipeline<number>("tick")
        .step("work", async (n: number, ctx) => {
          await new Promise((r) => setTimeout(r, 40));
          done.push(ctx.runId);
          return n * 2;
        })
        .build();
      const worker = await createWorker(a, {
        connection: own.url,
        name,
        pipelines: [p],
        concurrency: 2,
        lockDuration: 2000,
        stalledInterval: 500,
      });
      closers.push(() => worker.close());
      for (let i = 0; i < 20; i++) await queue.enqueue("tick", i, { runId: `t-${i}` });
      await until("a few runs", () => done.length >= 4);
      await own.stop();
      await until("degraded", () => worker.status().level === "degraded");
      expect(worker.status().message).toMatch(
        /Redis unreachable: .*(ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|connect)/,
      );
      expect(a.status().level).toBe("degraded");
      await own.start();
      await until(
        "every run completed",
        async () => (await queue.counts().catch(() => ({ completed: 0 }))).completed === 20,
        60_000,
      );
      await until("healthy again", () => worker.status().level === "ok");
      for (let i = 0; i < 20; i++) expect((await queue.get(`t-${i}`)).report?.output).toBe(i * 2);
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  }, 90_000);
});
