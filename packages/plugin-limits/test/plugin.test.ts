import { isTaplineError, type TaplineApp } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { appWith, gaugeSource, inFlightCounter, maxInWindow, retrying, sleep } from "./helpers.ts";

let apps: TaplineApp[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: 0 });
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});
const track = (app: TaplineApp) => {
  apps.push(app);
  return app;
};

describe("rate limits through pipelines", () => {
  it("hold exactly under a fake clock across map items, parallel branches and two runs at once", async () => {
    const app = track(appWith({ keys: { tts: { rate: { limit: 4, per: "1s" }, maxWait: "1m" } } }));
    const times: number[] = [];
    const speak = async (x: unknown) => {
      times.push(Date.now());
      await sleep(30);
      return x;
    };
    const p = app
      .pipeline<number>("voice")
      .map("lines", (n) => Array.from({ length: n }, (_, i) => i), speak, { concurrency: 10, limit: "tts" })
      .parallel("mix", { a: [speak, { limit: "tts" }], b: [speak, { limit: "tts" }], c: (x: unknown) => x })
      .build();
    const runs = [p.run(15), p.run(9)];
    await vi.runAllTimersAsync();
    const reports = await Promise.all(runs);
    expect(reports.map((r) => r.status)).toEqual(["success", "success"]);
    // 15 + 9 items and 2 × 2 limited branches: 28 calls, 4 per second at most, and no slower than that.
    expect(times).toHaveLength(28);
    expect(maxInWindow(times, 1000)).toBe(4);
    expect(Math.max(...times)).toBe(Math.floor(27 / 4) * 1000);
  });

  it("every attempt is a request: retries wait for the rate too, and cost comes from the unit's input", async () => {
    const app = track(
      appWith(
        {
          keys: {
            tts: {
              rate: [
                { limit: 3, per: "1m" },
                { limit: 100, per: "1m", unit: "characters" },
              ],
              maxWait: "10m",
            },
          },
        },
        retrying(3),
      ),
    );
    const calls: { at: number; text: string }[] = [];
    let failures = 1;
    const p = app
      .pipeline("tts")
      .map(
        "lines",
        () => ["a".repeat(40), "b".repeat(40), "c".repeat(40)],
        async (text: string) => {
          calls.push({ at: Date.now(), text });
          if (text.startsWith("a") && failures-- > 0) throw new Error("flaky");
          return text.length;
        },
        { concurrency: 3, limit: { key: "tts", cost: (text: string) => ({ characters: text.length }) } },
      )
      .build();
    const run = p.run(undefined);
    await vi.runAllTimersAsync();
    const report = await run;
    expect(report.status).toBe("success");
    expect(calls).toHaveLength(4);
    // 40 characters each: two fit in 100 per minute, so the minute boundary splits them 2 + 2.
    expect(
      maxInWindow(
        calls.map((c) => c.at),
        60_000,
        calls.map((c) => c.text.length),
      ),
    ).toBeLessThanOrEqual(100);
    expect(calls.filter((c) => c.at < 60_000)).toHaveLength(2);
    const waited = report.steps[0]!.children!.map((c) => c.extensions.limits?.rateWaitMs ?? 0);
    expect(Math.max(...waited)).toBeGreaterThanOrEqual(60_000);
  });

  it("a unit that would wait past maxWait fails with a typed error, the budget stop, naming the key", async () => {
    const app = track(appWith({ keys: { llm: { rate: { limit: 1, per: "1m" }, maxWait: "5s" } } }));
    const p = app
      .pipeline("p")
      .map(
        "calls",
        () => [1, 2],
        async (n: number) => n,
        { concurrency: 2, limit: "llm", onItemError: "collect" },
      )
      .build();
    const report = await p.run(undefined);
    const out = report.outputs.calls as PromiseSettledResult<number>[];
    expect(out[0]).toEqual({ status: "fulfilled", value: 1 });
    expect(out[1]!.status).toBe("rejected");
    const reason = (out[1] as PromiseRejectedResult).reason;
    expect(isTaplineError(reason, "TAPLINE_ERR_LIMITS_WAIT_EXCEEDED") && reason.key).toBe("llm");
  });

  it("a 429 with Retry-After pauses the key: the retry and other runs' units of the key wait it out", async () => {
    const app = track(
      appWith({ keys: { api: { rate: { limit: 100, per: "1s" }, maxWait: "1m" } } }, retrying(2)),
    );
    const starts: { run: string; at: number }[] = [];
    let first = true;
    const p = app
      .pipeline<string>("p")
      .step(
        "call",
        async (run: string) => {
          starts.push({ run, at: Date.now() });
          if (first) {
            first = false;
            await sleep(10);
            throw Object.assign(new Error("429"), {
              status: 429,
              headers: new Headers({ "retry-after": "3" }),
            });
          }
          return run;
        },
        { limit: "api" },
      )
      .build();
    const a = p.run("a");
    await vi.advanceTimersByTimeAsync(100);
    const b = p.run("b");
    await vi.runAllTimersAsync();
    expect((await a).status).toBe("success");
    expect((await b).status).toBe("success");
    expect(starts).toEqual([
      { run: "a", at: 0 },
      { run: "a", at: 3010 },
      { run: "b", at: 3010 },
    ]);
  });
});

describe("concurrency through pipelines", () => {
  it("is never exceeded across map items, parallel branches and runs; a unit keeps its slot across retries", async () => {
    const app = track(appWith({ keys: { gpu: { concurrency: 2 } } }, retrying(3)));
    const gpu = inFlightCounter();
    const all = inFlightCounter();
    let attempts = 0;
    const render = (x: number) =>
      all.around(() =>
        gpu.around(async () => {
          await sleep(5 + (x % 3) * 4);
          if (++attempts % 5 === 0) throw new Error("flaky render");
          return x;
        }),
      );
    const p = app
      .pipeline<number>("render")
      .map("scenes", (n) => Array.from({ length: n }, (_, i) => i), render, { concurrency: 6, limit: "gpu" })
      .parallel("extras", {
        thumb: [(xs: number[]) => render(xs.length), { limit: "gpu" }],
        cover: [(xs: number[]) => render(xs.length + 1), { limit: "gpu" }],
      })
      .build();
    const runs = [p.run(12), p.run(7), p.run(5)];
    await vi.runAllTimersAsync();
    expect((await Promise.all(runs)).map((r) => r.status)).toEqual(["success", "success", "success"]);
    expect(gpu.max).toBe(2);
  });

  it("a unit holds its slot across its retries: a waiting unit does not slip in between attempts", async () => {
    const app = track(appWith({ keys: { gpu: { concurrency: 1 } } }, retrying(2)));
    const attempts: string[] = [];
    let failA = true;
    const p = app
      .pipeline<string>("p")
      .step(
        "render",
        async (id: string) => {
          attempts.push(id);
          await sleep(10);
          if (id === "a" && failA) {
            failA = false;
            throw new Error("flaky");
          }
          return id;
        },
        { limit: "gpu" },
      )
      .build();
    const runs = [p.run("a"), p.run("b")];
    await vi.runAllTimersAsync();
    expect((await Promise.all(runs)).map((r) => r.status)).toEqual(["success", "success"]);
    expect(attempts).toEqual(["a", "a", "b"]);
  });

  it("a queue timeout fails the item with the key, the wait and the queue", async () => {
    const app = track(appWith({ keys: { gpu: { concurrency: 1, queueTimeout: "10s" } } }));
    const p = app
      .pipeline("p")
      .map(
        "scenes",
        () => [0, 1],
        () => sleep(15_000),
        { concurrency: 2, limit: "gpu" },
      )
      .build();
    const run = p.run(undefined);
    await vi.runAllTimersAsync();
    const report = await run;
    expect(report.status).toBe("failed");
    expect(report.failedStep).toBe("scenes[1]");
    const error = report.steps[0]!.children![1]!.error;
    expect(isTaplineError(error, "TAPLINE_ERR_LIMITS_QUEUE_TIMEOUT")).toBe(true);
    expect(error).toMatchObject({ key: "gpu", waitedMs: 10_000, queueTimeout: 10_000 });
  });

  it("adaptive: a render starts only when the GPU it targets has the memory it declared", async () => {
    const gauges = gaugeSource();
    const app = track(
      appWith(
        {
          keys: {
            gpu0: {
              concurrency: {
                gauge: { name: "tapline_gpu_memory_free_bytes", labels: { gpu: "0" } },
                initial: 0,
              },
            },
            gpu1: {
              concurrency: {
                gauge: { name: "tapline_gpu_memory_free_bytes", labels: { gpu: "1" } },
                initial: 0,
              },
            },
          },
        },
        gauges.plugin,
      ),
    );
    const started: { job: string; at: number }[] = [];
    const jobs = [
      { id: "a", gpu: 0, bytes: 6e9 },
      { id: "b", gpu: 0, bytes: 6e9 },
      { id: "c", gpu: 1, bytes: 4e9 },
      { id: "d", gpu: 0, bytes: 2e9 },
    ];
    type Job = (typeof jobs)[number];
    const p = app
      .pipeline("render")
      .map(
        "jobs",
        () => jobs,
        async (job: Job) => {
          started.push({ job: job.id, at: Date.now() });
          await sleep(1000);
          return job.id;
        },
        { concurrency: 4, limit: { key: (job: Job) => `gpu${job.gpu}`, weight: (job: Job) => job.bytes } },
      )
      .build();
    const run = p.run(undefined);
    await vi.advanceTimersByTimeAsync(500);
    expect(started).toEqual([]);
    const publish = (gpu: string, bytes: number) =>
      gauges.api().metric("tapline_gpu_memory_free_bytes", bytes, { gpu }, { type: "gauge" });
    publish("0", 8e9);
    publish("1", 3e9);
    await vi.advanceTimersByTimeAsync(0);
    // GPU 0 has room for a (6 GB); b waits behind it (FIFO, d does not overtake); c needs 4 GB of GPU 1's 3.
    expect(started.map((s) => s.job)).toEqual(["a"]);
    publish("1", 5e9);
    publish("0", 14e9);
    await vi.advanceTimersByTimeAsync(0);
    expect(started.map((s) => s.job)).toEqual(["a", "c", "b", "d"]);
    await vi.runAllTimersAsync();
    expect((await run).status).toBe("success");
  });
});

describe("definitions and lifecycle", () => {
  it("rejects an unknown key or cost unit when the pipeline is built, and a misspelt option at .step()", () => {
    const app = track(
      appWith({
        keys: { gpu: { concurrency: 1 }, tts: { rate: { limit: 5, per: "1s", unit: "characters" } } },
      }),
    );
    expect(() =>
      app
        .pipeline("p")
        .step("s", () => 1, { limit: "gpo" })
        .build(),
    ).toThrow(/limit\.key: unknown limit key "gpo"; declared keys: gpu, tts/);
    expect(() =>
      app
        .pipeline("p")
        .map(
          "m",
          () => [1],
          (x) => x,
          { limit: { key: "tts", cost: { charcters: 3 } } },
        )
        .build(),
    ).toThrow(/limit\.cost\.charcters: limit "tts" has no window counting "charcters"/);
    expect(() => app.pipeline("p").step("s", () => 1, { limit: { kye: "gpu" } as never })).toThrow(
      /did you mean "key"/,
    );
  });

  it("a list of keys takes every slot (in key order) and every rate; an unknown key from a function fails the unit", async () => {
    const app = track(
      appWith({ keys: { gpu: { concurrency: 1 }, llm: { rate: { limit: 2, per: "1s" }, maxWait: "1m" } } }),
    );
    const gpu = inFlightCounter();
    const times: number[] = [];
    const p = app
      .pipeline("p")
      .map(
        "m",
        () => [0, 1, 2, 3],
        (i: number) =>
          gpu.around(async () => {
            times.push(Date.now());
            await sleep(5);
            return i;
          }),
        { concurrency: 4, limit: [{ key: "llm" }, "gpu"] },
      )
      .step("bad", () => 1, { limit: { key: () => "nope" } })
      .build();
    const run = p.run(undefined);
    await vi.runAllTimersAsync();
    const report = await run;
    expect(gpu.max).toBe(1);
    expect(maxInWindow(times, 1000)).toBe(2);
    expect(report.failedStep).toBe("bad");
    expect(isTaplineError(report.steps[1]!.error, "TAPLINE_ERR_LIMITS_KEY")).toBe(true);
    expect(String(report.steps[1]!.error)).toContain('unknown limit key "nope"; declared keys: gpu, llm');
    const part = app.status().parts.find((x) => x.component === "limits");
    expect(part).toMatchObject({ level: "ok", details: { keys: { gpu: { concurrency: 1, inFlight: 0 } } } });
  });

  it("app.close() takes waiting units out of the queue, and leaves no timer behind", async () => {
    const app = appWith({ keys: { gpu: { concurrency: 1, queueTimeout: "1h" } } });
    let release!: () => void;
    const ran: number[] = [];
    const p = app
      .pipeline("p")
      .map(
        "m",
        () => [0, 1],
        (i: number) => {
          ran.push(i);
          return i === 0 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
        },
        { concurrency: 2, limit: "gpu", onItemError: "collect" },
      )
      .build();
    const run = p.run(undefined);
    await vi.advanceTimersByTimeAsync(10);
    const closing = app.close();
    release();
    const report = await run;
    await closing;
    // Core cancels the run first: the waiting item leaves the queue at once with the cancel reason, never runs.
    expect(report.steps[0]!.children!.map((c) => c.status)).toEqual(["success", "cancelled"]);
    expect(ran).toEqual([0]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
