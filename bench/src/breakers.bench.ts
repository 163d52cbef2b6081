// Shared breakers (issue #16): the closed-path check of a breaker on the Redis store against one without a
// store (in-memory state, today's path) and one on memoryBreakerStore(), and the time an opening takes to reach another process (median, max).
// Starts Debian's redis-server on 127.0.0.1 and a free port (no persistence, a temp dir), stops it by PID.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { circuitBreaker, keyedBreakers, memoryBreakerStore } from "@tapline/plugin-retry";
import { redisBreakerStore } from "@tapline/plugin-retry/redis";
import { compare, note } from "./harness.ts";

const BATCH = 100;
const OPENINGS = 60;

export default async function bench(): Promise<void> {
  // The repo's one redis-server helper (packages/queue/test), loaded at run time.
  const helper = join(import.meta.dirname, "../../packages/queue/test/redis-server.ts");
  const { startRedis } = (await import(helper)) as {
    startRedis(): Promise<{ url: string; dispose(): Promise<void> }>;
  };
  const redis = await startRedis();
  try {
    await closedPath(redis.url);
    await propagation(redis.url);
  } finally {
    await redis.dispose();
  }
}

async function closedPath(url: string): Promise<void> {
  const store = redisBreakerStore({ url, prefix: "bench:closed:" });
  const memory = circuitBreaker({ name: "tts" });
  const shared = circuitBreaker({ name: "tts", store });
  const inProcess = circuitBreaker({ name: "tts", store: memoryBreakerStore() });
  await until(() => store.status.available);
  const fn = () => 1;
  const batch = (b: typeof memory) => async () => {
    for (let i = 0; i < BATCH; i++) await b.execute(fn);
  };
  const rows = await compare(
    "breakers: closed-path check, execute(() => 1)",
    [
      { name: "memory (no store)", fn: batch(memory) },
      { name: "redis store", fn: batch(shared) },
      { name: "memoryBreakerStore()", fn: batch(inProcess) },
    ],
    { opsPerCall: BATCH, time: 1500 },
  );
  const ratio = rows[1]!.nsPerOp / rows[0]!.nsPerOp;
  note(
    `redis store / memory on the closed path = ${ratio.toFixed(2)} (target ≤ 1.20: ${ratio <= 1.2 ? "met" : "NOT met"})`,
  );
  await store.close();
}

async function propagation(url: string): Promise<void> {
  const peer = spawn(process.execPath, [fileURLToPath(new URL("breakers-peer.ts", import.meta.url)), url], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const seen = new Map<string, number>();
  let ready = false;
  createInterface({ input: peer.stdout! }).on("line", (line) => {
    if (line === "ready") ready = true;
    const [key, time] = line.split(" ");
    if (time) seen.set(key!, Number(time));
  });
  const store = redisBreakerStore({ url, prefix: "tapline:breaker:" });
  const group = keyedBreakers({ name: "prop", store, trip: { kind: "consecutive", threshold: 1 } });
  await until(() => ready && store.status.available);
  await new Promise((r) => setTimeout(r, 100)); // both re-syncs done
  const lags: number[] = [];
  for (let i = 0; i < OPENINGS; i++) {
    const key = `k${i}`;
    const t0 = performance.timeOrigin + performance.now();
    await group
      .get(key)
      .execute(() => Promise.reject(new Error("down")))
      .catch(() => {});
    await until(() => seen.has(key));
    lags.push(seen.get(key)! - t0);
  }
  lags.sort((a, b) => a - b);
  const median = lags[Math.floor(lags.length / 2)]!;
  const max = lags.at(-1)!;
  console.log(`\n## breakers: an opening reaching another process (${OPENINGS} openings)\n`);
  note(
    `median ${median.toFixed(2)} ms, max ${max.toFixed(2)} ms (target ≤ 100 ms: ${max <= 100 ? "met" : "NOT met"})`,
  );
  peer.stdin!.end();
  await new Promise((r) => peer.once("exit", r));
  await store.close();
}

async function until(predicate: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("breakers bench: timed out waiting");
    await new Promise((r) => setTimeout(r, 2));
  }
}
