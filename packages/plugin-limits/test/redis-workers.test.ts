// Limits shared by worker processes over a real redis-server: three child processes (test/fixtures/
// limits-worker.ts) spend one key's slots and one key's rate window together.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLimiter } from "../src/index.ts";
import { redisLimitStore } from "../src/redis.ts";
import { maxInWindow } from "./helpers.ts";

/** The part of @tapline/queue's test helper this test uses (loaded by path: it lives in another project). */
interface RedisHelper {
  haveRedis(): Promise<boolean>;
  startRedis(): Promise<{ readonly url: string; dispose(): Promise<void> }>;
}
const { haveRedis, startRedis } = (await import(
  new URL("../../queue/test/redis-server.ts", import.meta.url).href
)) as RedisHelper;

const present = await haveRedis();
const fixture = join(import.meta.dirname, "fixtures", "limits-worker.ts");
const root = mkdtempSync(join(tmpdir(), "tapline-limits-workers-"));
const children = new Set<ChildProcess>();
let redis: Awaited<ReturnType<RedisHelper["startRedis"]>>;

beforeAll(async () => {
  if (present) redis = await startRedis();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, "SIGKILL");
  await redis?.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** Starts a worker and resolves once it printed `line`. */
function start(prefix: string, mode: string, out: string, line: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--conditions=@tapline/source", fixture, redis.url, prefix, mode, out],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  children.add(child);
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  return printed(child, line, () => err);
}

function printed(child: ChildProcess, line: string, err: () => string = () => ""): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(`${line}\n`)) {
        child.stdout!.off("data", onData);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before ${line}: ${err()}`)));
  });
}

/** The most intervals open at once (an end at the same instant as a start closes first). */
function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  const events = intervals.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]);
  events.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
  let now = 0;
  let max = 0;
  for (const [, d] of events) {
    now += d!;
    max = Math.max(max, now);
  }
  return max;
}

describe.skipIf(!present)("limits shared by three worker processes over Redis", () => {
  it("never more than 2 in flight on gpu, nor 4 api calls in any second, across all three", async () => {
    const prefix = "share:";
    const outs = [0, 1, 2].map((i) => join(root, `share-${i}.json`));
    const workers = await Promise.all(outs.map((out) => start(prefix, "share", out, "READY")));
    const done = workers.map((w) => printed(w, "DONE"));
    for (const w of workers) w.stdin!.write("go\n");
    await Promise.all(done);
    const results = outs.map(
      (out) =>
        JSON.parse(readFileSync(out, "utf8")) as {
          status: string;
          error?: string;
          slots: [number, number][];
          calls: number[];
        },
    );
    for (const r of results) expect(r, r.error).toMatchObject({ status: "success" });
    const slots = results.flatMap((r) => r.slots);
    const calls = results.flatMap((r) => r.calls);
    expect(slots).toHaveLength(18);
    expect(calls).toHaveLength(18);
    // A unit's measured interval lies inside the time it held its lease, so this bound is exact.
    const inFlight = maxOverlap(slots);
    expect(inFlight).toBeLessThanOrEqual(2);
    // Each worker alone would run 2 at once: all three together still do.
    expect(inFlight).toBe(2);
    // A call is stamped when its process hears Redis's yes, some ms after Redis logged it (more on a loaded
    // machine): allow that delivery jitter (250 ms) off the window. Calls come in batches a second apart, so
    // this still catches any sharing bug: unshared, three workers make 12 calls in a second.
    expect(maxInWindow(calls, 1000 - 250)).toBeLessThanOrEqual(4);
    // 18 calls at 4 per second: the last batch cannot start before 4 full windows have passed.
    const span = Math.max(...calls) - Math.min(...calls);
    expect(span).toBeGreaterThanOrEqual(4 * 1000 - 250);
    await Promise.all(
      workers.map((w) => {
        const exited = new Promise((r) => w.once("exit", r));
        process.kill(w.pid!, "SIGTERM");
        return exited;
      }),
    );
  }, 60_000);

  it("frees the slot of a process that died, once its lease (1 s) has run out", async () => {
    const prefix = "dead:";
    const holder = await start(prefix, "hold", join(root, "hold.json"), "HELD");
    const limiter = createLimiter({
      keys: { solo: { concurrency: 1 } },
      store: redisLimitStore({ url: redis.url, prefix, leaseTtl: "1s" }),
    });
    try {
      let started = false;
      const run = limiter.run("solo", () => {
        started = true;
      });
      // Wait on state: our unit is queued behind the other process's slot.
      const deadline = Date.now() + 10_000;
      while (limiter.stats("solo").queued === 0 && !started && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(started).toBe(false);
      const exited = new Promise((r) => holder.once("exit", r));
      process.kill(holder.pid!, "SIGKILL");
      await exited;
      const killedAt = Date.now();
      await run;
      const freedAfter = Date.now() - killedAt;
      expect(started).toBe(true);
      // The lease was renewed up to the kill and runs out at most 1 s after (plus room for a loaded machine;
      // without the expiry it would never come back).
      expect(freedAfter).toBeLessThan(1000 + 4000);
    } finally {
      await limiter.close();
    }
  }, 30_000);
});
