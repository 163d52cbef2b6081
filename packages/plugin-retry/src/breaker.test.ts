import { isTaplineError } from "@tapline/core";
import * as Schedule from "effect/Schedule";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../test/fake-clock.ts";
import { type BreakerTransition, type CircuitBreaker, circuitBreaker } from "./breaker.ts";
import { keyedBreakers } from "./keyed.ts";

const boom = () => Promise.reject(new Error("down"));
const ok = () => Promise.resolve("ok");
const call = (b: CircuitBreaker, fn: () => Promise<unknown>) =>
  b.execute(fn).then(
    () => "ok",
    (e: unknown) => e,
  );
const transitions = (b: CircuitBreaker) => {
  const seen: string[] = [];
  b.onTransition((t: BreakerTransition) => seen.push(`${t.from}>${t.to}:${t.reason}`));
  return seen;
};

describe("consecutive breaker", () => {
  it("closed → open → halfOpen → closed, and halfOpen → open on a failed probe", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({
      name: "tts",
      clock,
      trip: { kind: "consecutive", threshold: 3 },
      openDuration: 1000,
    });
    const seen = transitions(b);
    await call(b, boom);
    await call(b, boom);
    await call(b, ok); // resets the count
    for (let i = 0; i < 3; i++) await call(b, boom);
    expect(b.state).toBe("open");
    const rejected = await call(b, ok);
    expect(isTaplineError(rejected, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
    expect((rejected as { retryAt: number }).retryAt).toBe(clock.now() + 1000);
    expect((rejected as Error).message).toMatch(/"tts" rejected the call: it is open until/);
    clock.time += 1000;
    await call(b, boom); // the probe fails
    expect(b.state).toBe("open");
    clock.time += 1000;
    expect(await call(b, ok)).toBe("ok");
    expect(b.state).toBe("closed");
    expect(seen).toEqual([
      "closed>open:failures",
      "open>halfOpen:openElapsed",
      "halfOpen>open:probeFailed",
      "open>halfOpen:openElapsed",
      "halfOpen>closed:probesSucceeded",
    ]);
  });

  it("does not count ignored outcomes (client errors)", async () => {
    const b = circuitBreaker({ clock: new FakeClock(), trip: { kind: "consecutive", threshold: 2 } });
    for (let i = 0; i < 5; i++)
      await call(b, () => Promise.reject(Object.assign(new Error("400"), { status: 400 })));
    expect(b.state).toBe("closed");
  });

  it("ignores stale outcomes of calls admitted before the state changed", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({ clock, trip: { kind: "consecutive", threshold: 1 }, openDuration: 100 });
    const stale = b.acquire();
    await call(b, boom);
    expect(b.state).toBe("open");
    clock.time += 100;
    const probe = b.acquire();
    expect(b.state).toBe("halfOpen");
    b.failure(stale, new Error("late failure"));
    expect(b.state).toBe("halfOpen");
    b.success(probe);
    expect(b.state).toBe("closed");
  });
});

describe("count-window breaker", () => {
  it("trips on the failure ratio once minimumCalls were made", async () => {
    const b = circuitBreaker({
      clock: new FakeClock(),
      trip: { kind: "count", threshold: 0.5, size: 4, minimumCalls: 4 },
    });
    const seen = transitions(b);
    await call(b, boom);
    await call(b, boom);
    await call(b, boom);
    expect(b.state).toBe("closed"); // 3 < minimumCalls
    await call(b, ok);
    expect(b.state).toBe("open"); // 3/4 ≥ 0.5
    expect(seen).toEqual(["closed>open:failures"]);
  });

  it("forgets outcomes that slid out of the window", async () => {
    const b = circuitBreaker({
      clock: new FakeClock(),
      trip: { kind: "count", threshold: 0.75, size: 4, minimumCalls: 4 },
    });
    for (const f of [boom, boom, ok, ok, ok, boom, boom]) await call(b, f);
    expect(b.state).toBe("closed"); // window [ok, ok, boom, boom]: 0.5
    await call(b, boom);
    expect(b.state).toBe("open"); // [ok, boom, boom, boom]: 0.75
  });

  it("trips on the slow-call rate", async () => {
    const b = circuitBreaker({
      clock: new FakeClock(),
      trip: {
        kind: "count",
        threshold: 1,
        size: 4,
        minimumCalls: 2,
        slowCall: { durationMs: 20, rateThreshold: 0.5 },
      },
    });
    const seen = transitions(b);
    await call(b, ok);
    await call(b, () => new Promise((r) => setTimeout(r, 30)));
    expect(b.state).toBe("open");
    expect(seen).toEqual(["closed>open:slowCalls"]);
  });
});

describe("time-window breaker", () => {
  it("counts only failures inside the window", async () => {
    const clock = new FakeClock(0);
    const b = circuitBreaker({
      clock,
      trip: { kind: "time", threshold: 0.5, windowMs: 1000, minimumCalls: 3, buckets: 10 },
    });
    await call(b, boom);
    await call(b, boom);
    clock.time += 1500; // both failures age out
    await call(b, boom);
    await call(b, ok);
    expect(b.state).toBe("closed"); // 2 calls < minimumCalls 3
    await call(b, ok);
    expect(b.state).toBe("closed"); // 1/3
    await call(b, boom);
    expect(b.state).toBe("open"); // 2/4
  });
});

describe("half-open", () => {
  it("admits exactly `probes` calls at once under concurrency (no stampede) and closes after successThreshold", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({
      clock,
      trip: { kind: "consecutive", threshold: 1 },
      openDuration: 100,
      halfOpen: { probes: 2, successThreshold: 3 },
    });
    await call(b, boom);
    clock.time += 100;
    let running = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async () => {
      running++;
      await gate;
      return "ok";
    };
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => {
        const p = call(b, slow);
        return p;
      }),
      (async () => {
        await new Promise((r) => setImmediate(r));
        expect(running).toBe(2);
        release();
      })(),
    ]);
    const outcomes = results.slice(0, 10);
    expect(outcomes.filter((r) => r === "ok")).toHaveLength(2);
    expect(
      outcomes.filter((r) => isTaplineError(r, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT") && r.state === "halfOpen"),
    ).toHaveLength(8);
    expect(b.state).toBe("halfOpen"); // 2 of 3 successes
    expect(await call(b, ok)).toBe("ok");
    expect(b.state).toBe("closed");
  });

  it("takes back the slot of a hung probe after probeTimeout and ignores its late outcome", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({
      clock,
      trip: { kind: "consecutive", threshold: 1 },
      openDuration: 10,
      halfOpen: { probeTimeout: 500 },
    });
    await call(b, boom);
    clock.time += 10;
    const hung = b.acquire();
    expect(isTaplineError(await call(b, ok), "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
    clock.time += 500;
    const fresh = b.acquire();
    b.failure(hung, new Error("late"));
    expect(b.state).toBe("halfOpen");
    b.success(fresh);
    expect(b.state).toBe("closed");
  });

  it("releases a probe slot when its outcome is ignored", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({ clock, trip: { kind: "consecutive", threshold: 1 }, openDuration: 10 });
    await call(b, boom);
    clock.time += 10;
    await call(b, () => Promise.reject(Object.assign(new Error("404"), { status: 404 })));
    expect(b.state).toBe("halfOpen");
    expect(await call(b, ok)).toBe("ok");
    expect(b.state).toBe("closed");
  });
});

describe("open duration", () => {
  it("grows by an Effect Schedule per opening in a row, and resets when closed", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({
      clock,
      trip: { kind: "consecutive", threshold: 1 },
      openDuration: Schedule.exponential("100 millis", 3),
    });
    const durations: number[] = [];
    b.onTransition((t) => t.to === "open" && durations.push(t.openUntil! - t.time));
    await call(b, boom);
    for (let i = 0; i < 2; i++) {
      clock.time = b.openUntil;
      await call(b, boom);
    }
    clock.time = b.openUntil;
    await call(b, ok);
    await call(b, boom);
    expect(durations).toEqual([100, 300, 900, 100]);
  });

  it("is lengthened by a Retry-After hint, capped by maxOpenDuration", async () => {
    const clock = new FakeClock();
    const b = circuitBreaker({
      clock,
      trip: { kind: "consecutive", threshold: 1 },
      openDuration: 1000,
      maxOpenDuration: 60_000,
    });
    await call(b, () =>
      Promise.reject(Object.assign(new Error("429"), { status: 429, headers: { "retry-after": "30" } })),
    );
    expect(b.openUntil - clock.now()).toBe(30_000);
    b.reset();
    await call(b, () =>
      Promise.reject(Object.assign(new Error("429"), { status: 429, headers: { "retry-after": "600" } })),
    );
    expect(b.openUntil - clock.now()).toBe(60_000);
  });
});

describe("manual control and persistence", () => {
  it("isolate() rejects every call until reset()", async () => {
    const b = circuitBreaker({ clock: new FakeClock() });
    const seen = transitions(b);
    b.isolate();
    const e = await call(b, ok);
    expect(
      isTaplineError(e, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT") &&
        e.state === "isolated" &&
        e.retryAt === undefined,
    ).toBe(true);
    b.reset();
    expect(await call(b, ok)).toBe("ok");
    expect(seen).toEqual(["closed>isolated:manual", "isolated>closed:manual"]);
  });

  it("snapshot() survives JSON and restores in another instance", async () => {
    const clock = new FakeClock();
    const options = {
      clock,
      trip: { kind: "count", threshold: 0.5, size: 10, minimumCalls: 4 } as const,
      openDuration: 5000,
    };
    const a = circuitBreaker(options);
    await call(a, boom);
    await call(a, boom);
    await call(a, ok);
    const b = circuitBreaker({ ...options, initialState: JSON.parse(JSON.stringify(a.snapshot())) });
    await call(b, boom); // 3/4 with the restored window
    expect(b.state).toBe("open");
    const c = circuitBreaker(options);
    c.restore(JSON.parse(JSON.stringify(b.snapshot())));
    expect(c.state).toBe("open");
    expect(c.openUntil).toBe(b.openUntil);
    expect(isTaplineError(await call(c, ok), "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")).toBe(true);
  });
});

describe("keyed breakers", () => {
  it("keeps one state per key and evicts idle closed keys", async () => {
    const clock = new FakeClock();
    const group = keyedBreakers({
      name: "llm",
      clock,
      trip: { kind: "consecutive", threshold: 1 },
      openDuration: 10_000,
      idleMs: 1000,
    });
    const keys: string[] = [];
    group.onTransition((t) => keys.push(`${t.key}:${t.to}`));
    await call(group.get("openai:gpt"), boom);
    expect(await call(group.get("anthropic:claude"), ok)).toBe("ok");
    expect(group.states()).toEqual({ "openai:gpt": "open", "anthropic:claude": "closed" });
    clock.time += 2000;
    group.get("new-key"); // sweeps: the idle closed key goes, the open one stays
    expect(Object.keys(group.states()).sort()).toEqual(["new-key", "openai:gpt"]);
    expect(keys).toEqual(["openai:gpt:open"]);
  });

  it("caps the number of keys", () => {
    const group = keyedBreakers({ clock: new FakeClock(), maxKeys: 3 });
    for (let i = 0; i < 100; i++) group.get(`k${i}`);
    expect(group.size).toBe(3);
  });
});

describe("breaker options", () => {
  it("lists every bad option", () => {
    let error: unknown;
    try {
      circuitBreaker({
        trip: { kind: "count", threshold: 1.5, size: -1, minimumCalls: Number.NaN },
        openDuration: Number.POSITIVE_INFINITY,
        halfOpen: { probes: 0 },
      });
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_RETRY_CONFIG")).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      "trip.threshold",
      "trip.size",
      "trip.minimumCalls",
      "openDuration",
      "halfOpen.probes",
    ]);
  });
});
