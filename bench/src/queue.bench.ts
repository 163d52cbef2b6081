// Issue #16, queue: jobs per second through createWorker (one job = one run of a one-step pipeline through
// core, the path users take) against a bare BullMQ Worker running the same function, on a real redis-server
// (127.0.0.1, a free port, stopped by its PID). Target: overhead ≤ 1.3×. Rounds alternate; medians.
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { durable } from "@tapline/plugin-durable";
import { redisStore } from "@tapline/plugin-durable/redis";
import { createRunQueue, createWorker } from "@tapline/queue";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { note, printTable } from "./harness.ts";

const JOBS = 400;
const CONCURRENCY = 8;
const ROUNDS = 7;
const work = async (n: number) => n * 2;

interface RedisServer {
  readonly url: string;
  dispose(): Promise<void>;
}

export default async function bench(): Promise<void> {
  // The queue tests' redis-server helper, loaded at run time (a static import across projects breaks tsc -b).
  const helper = join(import.meta.dirname, "../../packages/queue/test/redis-server.ts");
  const { startRedis } = (await import(helper)) as { startRedis: () => Promise<RedisServer> };
  const redis = await startRedis();
  try {
    const times: Record<string, number[]> = { bare: [], tapline: [], durable: [] };
    for (let round = 0; round < ROUNDS; round++) {
      times.bare!.push(await bare(redis.url, round));
      times.tapline!.push(await ours(redis.url, round, false));
      times.durable!.push(await ours(redis.url, round, true));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = median(times.bare!);
    const rows = [
      { name: "bullmq Worker (bare)", nsPerOp: (base * 1e6) / JOBS, ratio: 1 },
      {
        name: "createWorker (core run)",
        nsPerOp: (median(times.tapline!) * 1e6) / JOBS,
        ratio: median(times.tapline!) / base,
      },
      {
        name: "createWorker + durable(redisStore)",
        nsPerOp: (median(times.durable!) * 1e6) / JOBS,
        ratio: median(times.durable!) / base,
      },
    ];
    printTable(
      `queue: ${JOBS} jobs, concurrency ${CONCURRENCY}, one worker (ns per job, median of ${ROUNDS})`,
      rows,
      "bullmq Worker (bare)",
    );
    note(
      `jobs/s: bare ${(JOBS / (base / 1000)).toFixed(0)}, createWorker ${(JOBS / (median(times.tapline!) / 1000)).toFixed(0)} (target overhead ≤ 1.3×: ${rows[1]!.ratio.toFixed(2)}×)`,
    );
  } finally {
    await redis.dispose();
  }
}

/** ms from the first job's start to the last job's completion, jobs added beforehand. */
async function drain(
  add: () => Promise<void>,
  start: (onDone: () => void) => Promise<() => Promise<void>>,
): Promise<number> {
  await add();
  let done = 0;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const t0 = performance.now();
  const stop = await start(() => {
    if (++done === JOBS) resolve();
  });
  await all;
  const ms = performance.now() - t0;
  await stop();
  return ms;
}

async function bare(url: string, round: number): Promise<number> {
  const name = `bare-${round}`;
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  const ms = await drain(
    async () => {
      await queue.addBulk(
        Array.from({ length: JOBS }, (_, i) => ({
          name: "story",
          data: { input: i },
          opts: { jobId: `b${i}` },
        })),
      );
    },
    async (onDone) => {
      const worker = new Worker(name, async (job) => work(job.data.input as number), {
        connection,
        concurrency: CONCURRENCY,
      });
      worker.on("completed", onDone);
      return () => worker.close();
    },
  );
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return ms;
}

async function ours(url: string, round: number, withDurable: boolean): Promise<number> {
  const name = `tapline-${withDurable ? "d" : "p"}-${round}`;
  const store = withDurable ? await redisStore({ connection: url, prefix: `bench:${name}` }) : undefined;
  const app = createTapline({
    logger: silentLogger,
    plugins: store ? [durable({ store })] : [],
    dir: `/tmp/tapline-bench-${name}`,
  });
  const pipeline = app.pipeline<number>("story").step("work", work).build();
  const queue = await createRunQueue({ connection: url, name });
  const ms = await drain(
    async () => {
      await queue.bull.addBulk(
        Array.from({ length: JOBS }, (_, i) => ({
          name: "story",
          data: { pipeline: "story", input: i, runId: `t${i}` },
          opts: { jobId: `t${i}` },
        })),
      );
    },
    async (onDone) => {
      const worker = await createWorker(app, {
        connection: url,
        name,
        pipelines: [pipeline],
        concurrency: CONCURRENCY,
      });
      // The same event the bare case counts, from the BullMQ worker under createWorker.
      worker.bull.on("completed", onDone);
      return async () => {
        await worker.close();
      };
    },
  );
  await queue.bull.obliterate({ force: true });
  await queue.close();
  await app.close();
  return ms;
}
