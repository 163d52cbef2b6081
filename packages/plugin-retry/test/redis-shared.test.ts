import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createTapline, isTaplineError, type Logger } from "@tapline/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { circuitBreaker } from "../src/breaker.ts";
import { type KeyedBreakers, keyedBreakers } from "../src/keyed.ts";
import { retry } from "../src/plugin.ts";
import { redisBreakerStore } from "../src/redis.ts";

// The repo's one redis-server helper (packages/queue/test), loaded at run time: a static import across
// projects breaks tsc -b.
interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}
const { freePort, haveRedis, startRedis } = (await import(
  join(import.meta.dirname, "../../queue/test/redis-server.ts")
)) as {
  freePort(): Promise<number>;
  haveRedis(): Promise<boolean>;
  startRedis(): Promise<RedisServer>;
};
const present = await haveRedis();
if (!present && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error("redis-server is required (TAPLINE_REQUIRE_INTEGRATION=1): apt-get install redis-server");
if (!present)
  console.warn("skipping the Redis breaker tests: no redis-server here (apt-get install redis-server)");

// Three worker processes (test/fixtures/breaker-worker.ts, on this Node) share the "tts" breakers through a
// real redis-server. Each test uses its own breaker key.

const fixture = join(import.meta.dirname, "fixtures", "breaker-worker.ts");
const nodeArgs = [
  "--conditions=@tapline/source",
  ...(Number(process.versions.node.split(".")[0]) < 23
    ? ["--experimental-strip-types", "--no-warnings"]
    : []),
];
const OPEN_MS = 600;
const PROBES = 2;

interface Msg {
  id?: number;
  event?: string;
  [k: string]: unknown;
}

class Worker {
  readonly name: string;
  readonly child: ChildProcess;
  readonly messages: Msg[] = [];
  #id = 0;
  #waiters = new Map<number, (m: Msg) => void>();
  constructor(name: string, url: string) {
    this.name = name;
    this.child = spawn(process.execPath, [...nodeArgs, fixture, url, String(OPEN_MS), String(PROBES)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let buffer = "";
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const m = JSON.parse(line) as Msg;
        this.messages.push(m);
        if (m.id !== undefined) this.#waiters.get(m.id)?.(m);
      }
    });
  }
  send(op: string, key = "", extra: object = {}): Promise<Msg> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      this.#waiters.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ id, op, key, ...extra })}\n`);
    });
  }
  events(event: string, filter: (m: Msg) => boolean = () => true): Msg[] {
    return this.messages.filter((m) => m.event === event && filter(m));
  }
  get available(): boolean | undefined {
    return this.events("status").at(-1)?.available as boolean | undefined;
  }
}

async function waitFor(what: string, predicate: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let redis: RedisServer;
let workers: Worker[];

beforeAll(async () => {
  if (!present) return;
  redis = await startRedis();
  workers = ["A", "B", "C"].map((n) => new Worker(n, redis.url));
  await waitFor("the three workers to reach Redis", () => workers.every((w) => w.available === true));
});

afterAll(async () => {
  for (const w of workers ?? []) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      const exited = new Promise((r) => w.child.once("exit", r));
      process.kill(w.child.pid!, "SIGKILL");
      await exited;
    }
  }
  await redis?.dispose();
});

const opened = (w: Worker, key: string) => w.events("transition", (m) => m.key === key && m.to === "open");

describe.skipIf(!present)("breakers shared through Redis by three worker processes", () => {
  it("failures on A open the breaker; B and C reject calls within 100 ms of the opening", async () => {
    const [a, b, c] = workers as [Worker, Worker, Worker];
    const key = "open";
    const failed = await a.send("fail", key, { n: 3 });
    expect(failed.results).toEqual(["failed", "failed", "failed"]);
    await waitFor(
      "B and C to hear the opening",
      () => opened(b, key).length > 0 && opened(c, key).length > 0,
    );
    // From just before A's tripping call (its publish goes out once the call failed) to B's and C's transitions.
    const tA = failed.lastCallAt as number;
    const lag = [b, c].map((w) => (opened(w, key)[0]!.time as number) - tA);
    console.log(`open on A reached B in ${lag[0]} ms, C in ${lag[1]} ms`);
    for (const ms of lag) expect(ms).toBeLessThanOrEqual(100);
    expect(opened(b, key)[0]!.reason).toBe("shared");
    for (const w of [b, c]) {
      const r = await w.send("call", key);
      expect(r.result).toBe("rejected");
    }
  });

  it(`half-open lets exactly ${PROBES} probe calls through across the three, and their successes close all`, async () => {
    const [a, b, c] = workers as [Worker, Worker, Worker];
    const key = "probes";
    await a.send("fail", key, { n: 3 });
    const { openUntil } = await a.send("state", key);
    await waitFor(
      "B and C to hear the opening",
      () => opened(b, key).length > 0 && opened(c, key).length > 0,
    );
    await waitFor("the open time to end", () => Date.now() >= (openUntil as number) + 5);
    const answers = await Promise.all([a, b, c].map((w) => w.send("hold", key, { n: 3 })));
    const entered = answers.reduce((s, m) => s + (m.entered as number), 0);
    const rejected = answers.reduce((s, m) => s + (m.rejected as number), 0);
    expect(entered).toBe(PROBES);
    expect(rejected).toBe(9 - PROBES);
    await Promise.all([a, b, c].map((w) => w.send("release")));
    await waitFor("every worker to close", () =>
      [a, b, c].every((w) => w.events("transition", (m) => m.key === key && m.to === "closed").length > 0),
    );
    for (const w of [a, b, c]) expect((await w.send("call", key)).result).toBe("ok");
  });

  it("a closed breaker's check sends no Redis command", async () => {
    const probe = new Redis(redis.url, { lazyConnect: true });
    await probe.connect();
    // Calls per command, from INFO commandstats (the other workers are idle meanwhile).
    const calls = async () => {
      const out: Record<string, number> = {};
      for (const m of (await probe.info("commandstats")).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g))
        out[m[1]!] = Number(m[2]);
      return out;
    };
    const store = redisBreakerStore({ url: redis.url, prefix: "test:closed:" });
    const breaker = circuitBreaker({ name: "closed-path", store });
    await waitFor("the store", () => store.status.available);
    const before = await calls();
    for (let i = 0; i < 1000; i++) await breaker.execute(() => 1);
    const after = await calls();
    const sent = Object.entries(after)
      .map(([cmd, n]) => [cmd, n - (before[cmd] ?? 0)] as const)
      .filter(([, n]) => n > 0);
    // Only the INFO that took `before`, and at most the one re-sync read made on connection (HGETALL).
    expect(sent.filter(([cmd]) => cmd !== "info" && cmd !== "hgetall")).toEqual([]);
    expect(Object.fromEntries(sent).info).toBe(1);
    expect(Object.fromEntries(sent).hgetall ?? 0).toBeLessThanOrEqual(1);
    await store.close();
    await probe.quit();
  });

  it("a 429 with Retry-After on one store's breaker pauses that key on another store's (another connection)", async () => {
    const stores = [0, 1].map(() => redisBreakerStore({ url: redis.url, prefix: "test:429:" }));
    const [x, y] = stores.map((store) =>
      keyedBreakers({ name: "api", store, trip: { kind: "consecutive", threshold: 5 } }),
    ) as [KeyedBreakers, KeyedBreakers];
    await waitFor("both stores", () => stores.every((s) => s.status.available));
    const limited = Object.assign(new Error("HTTP 429"), { status: 429, headers: { "retry-after": "30" } });
    const t0 = Date.now();
    await x
      .get("tenant-1")
      .execute(() => Promise.reject(limited))
      .catch(() => {});
    await waitFor("y to pause tenant-1", () => y.get("tenant-1").state === "open");
    expect(y.get("tenant-1").openUntil).toBeGreaterThanOrEqual(t0 + 30_000);
    expect(y.get("tenant-1").openUntil).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(y.get("tenant-2").state).toBe("closed");
    await Promise.all(stores.map((s) => s.close()));
  });

  it("Redis stopped mid-way: workers report degraded with the reason and keep working locally; restarted: they recover and re-sync", async () => {
    const [a, b, c] = workers as [Worker, Worker, Worker];
    const key = "outage";
    await redis.stop();
    await waitFor("every worker to report Redis away", () => workers.every((w) => w.available === false));
    for (const w of workers) {
      const reason = w.events("status").at(-1)!.reason as string;
      expect(reason).toMatch(/cannot reach the Redis at option "url" \(redis:\/\/127\.0\.0\.1:\d+\)/);
    }
    // Local state meanwhile: A trips on its own; B still calls (no shared state to consult).
    expect((await a.send("fail", key, { n: 3 })).results).toEqual(["failed", "failed", "failed"]);
    expect((await a.send("state", key)).state).toBe("open");
    expect((await b.send("call", key)).result).toBe("ok");
    await redis.start();
    await waitFor("every worker to report Redis back", () => workers.every((w) => w.available === true));
    // Re-sync: A's opening, made while Redis was away, reaches B and C.
    await waitFor(
      "B and C to learn A's opening",
      () => opened(b, key).length > 0 && opened(c, key).length > 0,
    );
    for (const w of [b, c]) expect((await w.send("call", key)).result).toBe("rejected");
    for (const w of workers) {
      expect(w.events("unhandled")).toEqual([]);
      expect(w.child.exitCode).toBeNull();
    }
  });
});

describe("redisBreakerStore() options", () => {
  it("a malformed URL is a RetryConfigError naming `url`, without the password", () => {
    for (const url of [
      "http://:hunter2@127.0.0.1:6379",
      "redis//:hunter2@nowhere",
      "redis://:hunter2@127.0.0.1:6379/x",
    ]) {
      let error: unknown;
      try {
        redisBreakerStore({ url });
      } catch (e) {
        error = e;
      }
      expect(isTaplineError(error, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/redisBreakerStore\(\): invalid options:\n {2}- url: must/);
      expect(message).not.toContain("hunter2");
      expect(JSON.stringify(error)).not.toContain("hunter2");
    }
    expect(() => redisBreakerStore({})).toThrow(/url: give "url" \(redis:\/\/host:port\) or "connection"/);
    expect(() => redisBreakerStore({ url: "redis://127.0.0.1", prefx: "x" } as never)).toThrow(
      /did you mean "prefix"/,
    );
  });

  it("an unreachable URL: the status says why (no password), breakers work locally, nothing rejects unhandled", async () => {
    const port = await freePort();
    const statuses: string[] = [];
    const store = redisBreakerStore({
      url: `redis://:hunter2@127.0.0.1:${port}`,
      onStatusChange: (s) => statuses.push(String(s.reason)),
    });
    const breaker = circuitBreaker({ name: "nowhere", store, trip: { kind: "consecutive", threshold: 1 } });
    await waitFor("a connection failure", () => /ECONNREFUSED|closed/.test(store.status.reason ?? ""));
    expect(store.status.available).toBe(false);
    expect(store.status.reason).toMatch(/cannot reach the Redis at option "url"/);
    expect(store.status.reason).not.toContain("hunter2");
    await expect(breaker.execute(() => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(breaker.state).toBe("open");
    await expect(breaker.execute(() => 1)).rejects.toThrow(/rejected the call/);
    await store.close();
    expect(statuses.join("\n")).not.toContain("hunter2");
  });
});

describe.skipIf(!present)("the plugin with a Redis store", () => {
  /** A logger that keeps every line (message and fields), JSON-encoded. */
  function capturingLogger(lines: string[]): Logger {
    const at =
      (level: string) =>
      (obj: unknown, msg?: string): void => {
        lines.push(`${level} ${msg ?? ""} ${JSON.stringify(obj)}`);
      };
    const logger: Logger = {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      fatal: at("fatal"),
      child: () => logger,
    };
    return logger;
  }

  it("Redis unreachable: the status part is degraded saying why, the log warns, no password anywhere", async () => {
    const lines: string[] = [];
    const port = await freePort();
    const store = redisBreakerStore({ url: `redis://:hunter2@127.0.0.1:${port}` });
    const app = createTapline({
      logger: capturingLogger(lines),
      plugins: [retry({ breakers: { tts: { store } } })],
    });
    await waitFor("the store to fail", () => /ECONNREFUSED|closed/.test(store.status.reason ?? ""));
    await waitFor("the warning", () => lines.some((l) => l.startsWith("warn breaker store unreachable")));
    const status = app.status();
    expect(status.level).toBe("degraded");
    expect(status.message).toMatch(
      /shared state unavailable, deciding locally: tts \(redis: cannot reach the Redis at option "url"/,
    );
    expect(`${JSON.stringify(status)}\n${lines.join("\n")}`).not.toContain("hunter2");
    await app.close();
  });

  it("shared and reachable: status ok; app.close() detaches the breakers and the store disconnects", async () => {
    const store = redisBreakerStore({ url: redis.url, prefix: "test:plugin:" });
    const app = createTapline({
      logger: capturingLogger([]),
      plugins: [retry({ breakers: { tts: { store } } })],
    });
    await waitFor("the store", () => store.status.available);
    await waitFor("the group's subscription", () => app.status().level === "healthy");
    expect(app.status().parts.find((p) => p.component === "retry")?.details).toMatchObject({
      stores: { tts: { store: "redis", available: true } },
    });
    await app.close();
    expect(store.status).toEqual({ available: false, reason: "the store was closed" });
  });
});

describe.skipIf(!present)("redisBreakerStore({ connection })", () => {
  it("uses your ioredis client for commands, subscribes on a duplicate, and leaves your client open on close()", async () => {
    const client = new Redis(redis.url);
    const store = redisBreakerStore({ connection: client, prefix: "test:connection:" });
    const make = () => circuitBreaker({ name: "conn", store, trip: { kind: "consecutive", threshold: 1 } });
    const [a, b] = [make(), make()];
    // Available means subscribed: the store reports it once the subscription is in place.
    await waitFor("the store", () => store.status.available);
    await a.execute(() => Promise.reject(new Error("down"))).catch(() => {});
    await waitFor("b to hear a's opening", () => b.state === "open");
    const listeners = client.listenerCount("error");
    await store.close();
    expect(client.status).toBe("ready");
    expect(client.listenerCount("error")).toBe(listeners - 1);
    expect(await client.ping()).toBe("PONG");
    await client.quit();
  });
});
