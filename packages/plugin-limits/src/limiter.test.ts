import { isTaplineError } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bulkhead, createLimiter, rateLimit } from "./limiter.ts";
import { createMemoryStore, type LimitStore } from "./store.ts";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/** The most admissions inside any half-open window [t, t + per) of the sorted times. */
function maxInWindow(times: readonly number[], per: number, weights?: readonly number[]): number {
  const order = times.map((t, i) => [t, weights?.[i] ?? 1] as const).sort((a, b) => a[0] - b[0]);
  let max = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < order.length; hi++) {
    sum += order[hi]![1];
    while (order[lo]![0] <= order[hi]![0] - per) sum -= order[lo++]![1];
    max = Math.max(max, sum);
  }
  return max;
}

describe("bulkhead", () => {
  it("never runs more than `concurrency` at once, and runs every call in arrival order", async () => {
    const gpu = bulkhead({ name: "gpu", concurrency: 3 });
    let inFlight = 0;
    let max = 0;
    const order: number[] = [];
    const calls = Array.from({ length: 20 }, (_, i) =>
      gpu.run(async () => {
        order.push(i);
        max = Math.max(max, ++inFlight);
        await new Promise((r) => setTimeout(r, 10 + (i % 4) * 7));
        inFlight--;
        return i;
      }),
    );
    await vi.runAllTimersAsync();
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(max).toBe(3);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(gpu.stats()).toEqual({ concurrency: 3, inFlight: 0, queued: 0, waitingForRate: 0 });
  });

  it("turns a unit away when the queue is full, naming the key and what is in flight", async () => {
    const gpu = bulkhead({ name: "gpu", concurrency: 1, queue: 1 });
    const gate = deferred();
    const first = gpu.run(() => gate.promise);
    const second = gpu.run(async () => "second");
    const third = gpu.run(async () => "third");
    await expect(third).rejects.toSatisfy(
      (e) =>
        isTaplineError(e, "TAPLINE_ERR_LIMITS_QUEUE_FULL") &&
        e.key === "gpu" &&
        e.queue === 1 &&
        e.inFlight === 1,
    );
    await expect(third).rejects.toThrow('limit "gpu" is full: 1 in flight (concurrency 1) and 1 waiting');
    gate.resolve();
    await first;
    expect(await second).toBe("second");
  });

  it("a queue timeout rejects with how long it waited, and the next waiter still runs", async () => {
    const gpu = bulkhead({ name: "gpu", concurrency: 1, queueTimeout: "1m" });
    const gate = deferred();
    const first = gpu.run(() => gate.promise);
    const late = gpu.run(async () => "late");
    const caught = late.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30_000);
    const later = gpu.run(async () => "later");
    await vi.advanceTimersByTimeAsync(30_000);
    const error = await caught;
    expect(isTaplineError(error, "TAPLINE_ERR_LIMITS_QUEUE_TIMEOUT")).toBe(true);
    expect(error).toMatchObject({ key: "gpu", waitedMs: 60_000, queueTimeout: 60_000, queued: 1 });
    expect((error as Error).message).toContain("no slot after waiting 60000 ms");
    gate.resolve();
    await first;
    expect(await later).toBe("later");
  });

  it("an aborted waiter leaves the queue at once with the signal's reason", async () => {
    const gpu = bulkhead({ concurrency: 1 });
    const gate = deferred();
    const first = gpu.run(() => gate.promise);
    const controller = new AbortController();
    const fn = vi.fn(async () => "never");
    const waiting = gpu.run(fn, { signal: controller.signal });
    expect(gpu.stats().queued).toBe(1);
    const reason = new Error("user cancelled");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(gpu.stats().queued).toBe(0);
    gate.resolve();
    await first;
    expect(fn).not.toHaveBeenCalled();
  });

  it("weights: a heavy head is not overtaken by light units, and a weight over a fixed capacity fails at once", async () => {
    const mem = bulkhead({ name: "vram", concurrency: 8 });
    const started: string[] = [];
    const gate = deferred();
    const a = mem.run(
      () => {
        started.push("a");
        return gate.promise;
      },
      { weight: 5 },
    );
    const heavy = mem.run(async () => started.push("heavy"), { weight: 6 });
    const light = mem.run(async () => started.push("light"), { weight: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual(["a"]);
    gate.resolve();
    await Promise.all([a, heavy, light]);
    expect(started).toEqual(["a", "heavy", "light"]);
    await expect(mem.run(async () => 1, { weight: 9 })).rejects.toSatisfy((e) =>
      isTaplineError(e, "TAPLINE_ERR_LIMITS_COST_TOO_LARGE"),
    );
  });

  it("close() rejects waiters with a clear error and leaves no timer", async () => {
    const gpu = bulkhead({ name: "gpu", concurrency: 1, queueTimeout: 60_000 });
    const gate = deferred();
    const first = gpu.run(() => gate.promise);
    const waiting = gpu.run(async () => 1);
    await gpu.close();
    await expect(waiting).rejects.toThrow('limit "gpu": the limiter is closed');
    expect(vi.getTimerCount()).toBe(0);
    gate.resolve();
    await first;
  });
});

describe("rate limits", () => {
  it("hold exactly under a fake clock: never more than N in any window, and nobody fails within maxWait", async () => {
    const tts = rateLimit({ name: "tts", rate: { limit: 5, per: "1s" }, maxWait: "1m" });
    const times: number[] = [];
    const calls = Array.from({ length: 47 }, () => tts.run(async () => times.push(Date.now())));
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(times).toHaveLength(47);
    expect(maxInWindow(times, 1000)).toBe(5);
    // As fast as the limit allows: 47 calls at 5 per second end at 9 s.
    expect(Math.max(...times)).toBe(9000);
  });

  it("counts cost units and requests together", async () => {
    const tts = rateLimit({
      name: "tts",
      rate: [
        { limit: 10, per: "1m" },
        { limit: 1000, per: "1m", unit: "characters" },
      ],
      maxWait: "1h",
    });
    const times: number[] = [];
    const sizes: number[] = [];
    const calls = Array.from({ length: 40 }, (_, i) => {
      const chars = 50 + ((i * 37) % 300);
      return tts.run(
        async () => {
          times.push(Date.now());
          sizes.push(chars);
        },
        { cost: { characters: chars } },
      );
    });
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(times).toHaveLength(40);
    expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(10);
    expect(maxInWindow(times, 60_000, sizes)).toBeLessThanOrEqual(1000);
    expect(maxInWindow(times, 60_000, sizes)).toBeGreaterThan(900);
  });

  it("a unit that would wait past maxWait fails at once with a typed error naming the key; the rest wait", async () => {
    const llm = rateLimit({ name: "llm", rate: { limit: 2, per: "1m" }, maxWait: "30s" });
    const ok = [llm.run(async () => 1), llm.run(async () => 2)];
    const third = llm.run(async () => 3);
    await expect(third).rejects.toSatisfy(
      (e) =>
        isTaplineError(e, "TAPLINE_ERR_LIMITS_WAIT_EXCEEDED") &&
        e.key === "llm" &&
        e.maxWait === 30_000 &&
        e.neededMs === 60_000,
    );
    expect(await Promise.all(ok)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(40_000);
    // 20 s from room: within maxWait, so it waits and runs.
    const fourth = llm.run(async () => Date.now());
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await fourth).toBe(60_000);
  });

  it("a cost larger than a whole window fails at once", async () => {
    const tts = rateLimit({ name: "tts", rate: { limit: 100, per: "1m", unit: "characters" } });
    await expect(tts.run(async () => 1, { cost: { characters: 101 } })).rejects.toThrow(
      'limit "tts": one unit costs 101 characters, more than the 100 characters its window allows',
    );
  });

  it("a 429 with Retry-After pauses the key for that long", async () => {
    const api = rateLimit({ name: "api", rate: { limit: 100, per: "1s" }, maxWait: "1m" });
    const err = Object.assign(new Error("Too Many Requests"), {
      status: 429,
      headers: { "Retry-After": "5" },
    });
    await expect(api.run(async () => Promise.reject(err))).rejects.toBe(err);
    const after = api.run(async () => Date.now());
    await vi.advanceTimersByTimeAsync(5000);
    expect(await after).toBe(5000);
    // A pause longer than maxWait fails waiters at once, saying it is a pause.
    api.pause(120_000);
    await expect(api.run(async () => 1)).rejects.toThrow(/pause after a 429/);
  });

  it("an aborted rate waiter leaves at once, and the one behind it moves up", async () => {
    const api = rateLimit({ name: "api", rate: { limit: 1, per: "1s" } });
    await api.run(async () => 0);
    const controller = new AbortController();
    const a = api.run(async () => "a", { signal: controller.signal });
    const b = api.run(async () => Date.now());
    controller.abort(new Error("stop"));
    await expect(a).rejects.toThrow("stop");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await b).toBe(1000);
  });
});

describe("createLimiter", () => {
  it("concurrency follows a gauge: waiting units start when capacity grows", async () => {
    const limiter = createLimiter({
      keys: {
        render: { concurrency: { gauge: { name: "free_bytes", labels: { gpu: "0" } }, per: 8, max: 3 } },
      },
    });
    let inFlight = 0;
    let max = 0;
    const gates = Array.from({ length: 6 }, deferred);
    const runs = gates.map((g) =>
      limiter.run("render", async () => {
        max = Math.max(max, ++inFlight);
        await g.promise;
        inFlight--;
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(limiter.stats("render")).toMatchObject({ concurrency: 1, inFlight: 1, queued: 5 });
    expect(limiter.observe({ name: "free_bytes", value: 100, labels: { gpu: "1" } })).toBe(false);
    expect(limiter.observe({ name: "free_bytes", value: 17, labels: { gpu: "0", host: "a" } })).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(limiter.stats("render")).toMatchObject({ concurrency: 2, inFlight: 2, queued: 4 });
    limiter.observe({ name: "free_bytes", value: 1e9, labels: { gpu: "0" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(limiter.stats("render")).toMatchObject({ concurrency: 3, inFlight: 3 });
    limiter.observe({ name: "free_bytes", value: 0, labels: { gpu: "0" } });
    for (const g of gates.slice(0, 3)) g.resolve();
    await vi.advanceTimersByTimeAsync(0);
    // At 0 free memory nothing new starts.
    expect(limiter.stats("render")).toMatchObject({ concurrency: 0, inFlight: 0, queued: 3 });
    limiter.observe({ name: "free_bytes", value: 8, labels: { gpu: "0" } });
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(max).toBe(3);
  });

  it("names undeclared keys and checks options once, with did-you-mean", async () => {
    const limiter = createLimiter({ keys: { gpu: { concurrency: 1 } } });
    await expect(limiter.run("gpuu", async () => 1)).rejects.toThrow(
      'unknown limit key "gpuu"; declared keys: gpu',
    );
    expect(() => createLimiter({ keys: { gpu: { concurency: 1 } as never } })).toThrow(
      /did you mean "concurrency"/,
    );
    expect(() => createLimiter({ keys: { tts: { rate: { limit: 10, per: "1y" as never } } } })).toThrow(
      /must be a duration/,
    );
    expect(() => createLimiter({ keys: { x: {} } })).toThrow(/a key needs a concurrency, a rate, or both/);
  });

  it("works over an asynchronous (shared) store", async () => {
    const mem = createMemoryStore();
    const store: LimitStore = {
      semaphore(key) {
        const s = mem.semaphore(key);
        return {
          tryAcquire: async (w, c) => s.tryAcquire(w, c),
          release: async (w) => s.release(w),
        };
      },
      rateWindows(key, windows) {
        const r = mem.rateWindows(key, windows);
        return { take: async (a, now) => r.take(a, now), pause: async (u) => r.pause(u) };
      },
    };
    const limiter = createLimiter({
      store,
      keys: { k: { concurrency: 2, rate: { limit: 4, per: "1s" }, maxWait: "1m" } },
    });
    let inFlight = 0;
    let max = 0;
    const times: number[] = [];
    const runs = Array.from({ length: 12 }, () =>
      limiter.run("k", async () => {
        times.push(Date.now());
        max = Math.max(max, ++inFlight);
        await new Promise((r) => setTimeout(r, 50));
        inFlight--;
      }),
    );
    await vi.runAllTimersAsync();
    await Promise.all(runs);
    expect(times).toHaveLength(12);
    expect(max).toBe(2);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(4);
  });
});
