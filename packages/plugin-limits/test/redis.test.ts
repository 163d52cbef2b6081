// The Redis limit store against a real redis-server: two stores stand for two processes (the three-process
// run is in redis-workers.test.ts), and a Redis that goes away and comes back.
import { createServer } from "node:net";
import { createTapline, isTaplineError } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLimiter, limits } from "../src/index.ts";
import { type RedisLimitStore, redisLimitStore } from "../src/redis.ts";

/** The part of @tapline/queue's test helper this test uses (loaded by path: it lives in another project). */
interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}
interface RedisHelper {
  haveRedis(): Promise<boolean>;
  startRedis(): Promise<RedisServer>;
}
const { haveRedis, startRedis } = (await import(
  new URL("../../queue/test/redis-server.ts", import.meta.url).href
)) as RedisHelper;

const present = await haveRedis();
let redis: RedisServer;
const stores: RedisLimitStore[] = [];
let n = 0;
/** A store on its own prefix per test, closed in afterAll. */
const store = (prefix: string) => {
  const s = redisLimitStore({ url: redis.url, prefix });
  stores.push(s);
  return s;
};
const until = async (check: () => boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeAll(async () => {
  if (present) redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.dispose();
});

describe("redisLimitStore() options", () => {
  it("wants url or connection, checks the url and never shows its password", () => {
    expect(() => redisLimitStore({})).toThrow(/url.*give "url"/s);
    let caught: unknown;
    try {
      redisLimitStore({ url: "http://:hunter2@127.0.0.1:6379" });
    } catch (e) {
      caught = e;
    }
    expect(isTaplineError(caught, "TAPLINE_ERR_OPTIONS")).toBe(true);
    expect(String((caught as Error).message)).toMatch(/url: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(String((caught as Error).message)).not.toContain("hunter2");
    expect(() => redisLimitStore({ url: "redis://127.0.0.1:1", prefx: "x" } as never)).toThrow(
      /did you mean "prefix"/,
    );
    expect(() => redisLimitStore({ url: "redis://127.0.0.1:1", leaseTtl: 10 })).toThrow(/leaseTtl/);
  });
});

describe.skipIf(!present)("redisLimitStore(): state shared by processes", () => {
  it("rate windows: at most `limit` in any window across stores, and how long until the next fits", async () => {
    const prefix = `t${++n}:`;
    const windows = [{ limit: 3, perMs: 1000, unit: "requests" }];
    const a = store(prefix).rateWindows("api", windows);
    const b = store(prefix).rateWindows("api", windows);
    expect(await a.take([1], 0)).toBe(0);
    expect(await b.take([1], 0)).toBe(0);
    expect(await a.take([1], 0)).toBe(0);
    const wait = await b.take([1], 0);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1000);
  });

  it("spends every window at once or none, across stores", async () => {
    const prefix = `t${++n}:`;
    const windows = [
      { limit: 10, perMs: 10_000, unit: "requests" },
      { limit: 100, perMs: 10_000, unit: "characters" },
    ];
    const a = store(prefix).rateWindows("tts", windows);
    const b = store(prefix).rateWindows("tts", windows);
    expect(await a.take([1, 80], 0)).toBe(0);
    expect(await b.take([1, 30], 0)).toBeGreaterThan(9000);
    // The refused call took no request: 9 are still free.
    for (let i = 0; i < 9; i++) expect(await b.take([1, 0], 0)).toBe(0);
    expect(await a.take([1, 0], 0)).toBeGreaterThan(0);
    expect(await a.take([0, 20], 0)).toBe(0);
  });

  it("a 429 pause on one process holds the key on every process", async () => {
    const prefix = `t${++n}:`;
    const a = store(prefix).rateWindows("api", []);
    const b = store(prefix).rateWindows("api", []);
    await a.pause(Date.now() + 5000);
    await b.pause(Date.now() + 1000); // shorter: never shortens it
    const wait = await b.take([], 0);
    expect(wait).toBeGreaterThan(4000);
    expect(wait).toBeLessThanOrEqual(5000);
  });

  it("slots: capacity held across stores, and another process's release wakes a waiter (pub/sub, not the lease)", async () => {
    const prefix = `t${++n}:`;
    const one = createLimiter({ keys: { gpu: { concurrency: 1 } }, store: store(prefix) });
    const two = createLimiter({ keys: { gpu: { concurrency: 1 } }, store: store(prefix) });
    let finish!: () => void;
    const holding = one.run("gpu", () => new Promise<void>((r) => (finish = r)));
    await until(() => finish !== undefined, "the first unit to start");
    let started = 0;
    const waiting = two.run("gpu", () => {
      started = Date.now();
    });
    await until(() => two.stats("gpu").queued === 1, "the second unit to queue");
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toBe(0);
    const releasedAt = Date.now();
    finish();
    await holding;
    await waiting;
    // The lease is 10 s: only the release message can have woken it this soon.
    expect(started - releasedAt).toBeLessThan(2000);
  });

  it("a unit that runs longer than leaseTtl keeps its slot: its process renews the lease", async () => {
    const prefix = `t${++n}:`;
    const mk = () =>
      createLimiter({
        keys: { gpu: { concurrency: 1 } },
        store: (() => {
          const s = redisLimitStore({ url: redis.url, prefix, leaseTtl: 300 });
          stores.push(s);
          return s;
        })(),
      });
    const one = mk();
    const two = mk();
    let endedAt = 0;
    let running = false;
    const long = one.run("gpu", async () => {
      running = true;
      await new Promise((r) => setTimeout(r, 1200)); // four leases long
      endedAt = Date.now();
    });
    await until(() => running, "the long unit to start");
    let startedAt = 0;
    await two.run("gpu", () => {
      startedAt = Date.now();
    });
    await long;
    expect(startedAt).toBeGreaterThanOrEqual(endedAt);
  });

  it("runs on an ioredis client you pass, and leaves it open on close()", async () => {
    const client = new Redis(redis.url);
    try {
      const s = redisLimitStore({ connection: client, prefix: `t${++n}:` });
      const limiter = createLimiter({
        keys: { gpu: { concurrency: 1 }, api: { rate: { limit: 2, per: 1000 } } },
        store: s,
      });
      expect(await limiter.run("gpu", () => "slot")).toBe("slot");
      expect(await limiter.run("api", () => "rate")).toBe("rate");
      expect(s.status).toEqual({ available: true });
      await limiter.close();
      expect(await client.ping()).toBe("PONG");
    } finally {
      await client.quit();
    }
  });

  it("weights: units hold their weight of a shared capacity", async () => {
    const prefix = `t${++n}:`;
    const a = store(prefix).semaphore("gpu0");
    const b = store(prefix).semaphore("gpu0");
    expect(await a.tryAcquire(6, 8)).toBe(true);
    expect(await b.tryAcquire(3, 8)).toBe(false);
    expect(await b.tryAcquire(2, 8)).toBe(true);
    await a.release(6);
    expect(await b.tryAcquire(6, 8)).toBe(true);
  });
});

/** A port nothing listens on. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe.skipIf(!present)("redisLimitStore(): Redis going away", () => {
  it("an unreachable Redis fails units with TAPLINE_ERR_LIMITS_STORE naming the key, and the status says why", async () => {
    const port = await closedPort();
    const s = redisLimitStore({ url: `redis://:sekrit@127.0.0.1:${port}`, prefix: "away:" });
    stores.push(s);
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        limits({ keys: { gpu: { concurrency: 1 }, api: { rate: { limit: 5, per: 1000 } } }, store: s }),
      ],
    });
    await app.ready();
    const limiter = createLimiter({ keys: { gpu: { concurrency: 1 } }, store: s });
    const error = await limiter.run("gpu", () => "ran").catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_LIMITS_STORE")).toBe(true);
    const e = error as Error & { key: string; operation: string };
    expect(e).toMatchObject({ key: "gpu", operation: "slot" });
    expect(e.message).toMatch(/limit "gpu": the shared limit store could not take a concurrency slot/);
    expect(e.message).not.toContain("sekrit");
    expect(s.status.available).toBe(false);
    expect(s.status.reason).toContain(`127.0.0.1:${port}`);
    expect(s.status.reason).not.toContain("sekrit");
    const part = app.status().parts.find((p) => p.component === "limits")!;
    expect(part.level).toBe("degraded");
    expect(part.message).toMatch(
      /shared store unavailable .*units of gpu, api fail with TAPLINE_ERR_LIMITS_STORE/,
    );
    const p = app
      .pipeline<string>("p")
      .step("call", (x) => x, { limit: "api" })
      .build();
    const report = await p.run("x");
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_LIMITS_STORE")).toBe(true);
    expect((report.error as Error).message).toMatch(/limit "api".*rate windows/);
    await limiter.close();
    await app.close();
  });

  it("a unit waiting for another process's slot fails at once when Redis goes away (not after the 10 s lease)", async () => {
    const own = await startRedis();
    try {
      const a = redisLimitStore({ url: own.url, prefix: "lost:" });
      const b = redisLimitStore({ url: own.url, prefix: "lost:" });
      const one = createLimiter({ keys: { gpu: { concurrency: 1 } }, store: a });
      const two = createLimiter({ keys: { gpu: { concurrency: 1 } }, store: b });
      let started = false;
      // Holds its slot for good (a unit still running when Redis goes away).
      void one.run("gpu", () => {
        started = true;
        return new Promise(() => {});
      });
      await until(() => started, "the first unit to start");
      const waiting = two.run("gpu", () => "ran").catch((e: unknown) => e);
      await until(() => two.stats("gpu").queued === 1, "the second unit to queue");
      await new Promise((r) => setTimeout(r, 50));
      const stoppedAt = Date.now();
      await own.stop();
      const error = await waiting;
      expect(error).toMatchObject({ code: "TAPLINE_ERR_LIMITS_STORE", key: "gpu", operation: "slot" });
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      await Promise.all([one.close(), two.close()]);
    } finally {
      await own.dispose();
    }
  }, 30_000);

  it("a Redis that stops fails units (no hang, no unhandled rejection), and they pass again once it is back", async () => {
    const own = await startRedis();
    try {
      const s = redisLimitStore({ url: own.url, prefix: "restart:" });
      const limiter = createLimiter({
        keys: { gpu: { concurrency: 2 }, api: { rate: { limit: 100, per: 1000 } } },
        store: s,
      });
      expect(await limiter.run("gpu", () => 1)).toBe(1);
      expect(await limiter.run("api", () => 2)).toBe(2);
      await own.stop();
      await until(() => !s.status.available, "the store to see Redis gone");
      const [slot, rate] = await Promise.all([
        limiter.run("gpu", () => 1).catch((e: unknown) => e),
        limiter.run("api", () => 2).catch((e: unknown) => e),
      ]);
      expect(slot).toMatchObject({ code: "TAPLINE_ERR_LIMITS_STORE", key: "gpu" });
      expect(rate).toMatchObject({ code: "TAPLINE_ERR_LIMITS_STORE", key: "api" });
      await own.start();
      await until(() => s.status.available, "the store to reconnect", 15_000);
      expect(await limiter.run("gpu", () => 3)).toBe(3);
      expect(await limiter.run("api", () => 4)).toBe(4);
      await limiter.close();
    } finally {
      await own.dispose();
    }
  }, 30_000);
});
