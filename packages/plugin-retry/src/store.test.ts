import { isTaplineError } from "@tapline/core";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../test/fake-clock.ts";
import { type CircuitBreaker, circuitBreaker } from "./breaker.ts";
import { keyedBreakers } from "./keyed.ts";
import { type BreakerStore, memoryBreakerStore } from "./store.ts";

const boom = () => Promise.reject(new Error("down"));
const ok = () => Promise.resolve("ok");
const outcome = (b: CircuitBreaker, fn: () => Promise<unknown>) =>
  b.execute(fn).then(
    () => "ok",
    (e: unknown) => (isTaplineError(e, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT") ? "rejected" : "failed"),
  );
const tick = () => new Promise<void>((r) => setImmediate(r));

/** Three "workers" in one process: breakers of one name on one store, each its own state otherwise. */
function workers(store: BreakerStore, clock: FakeClock, probes = 1) {
  return [0, 1, 2].map(() =>
    circuitBreaker({
      name: "tts",
      clock,
      store,
      trip: { kind: "consecutive", threshold: 2 },
      openDuration: 1000,
      halfOpen: { probes },
    }),
  );
}

describe("shared breaker state (memory store)", () => {
  it("an opening on one breaker opens every breaker of that name; other names are untouched", async () => {
    const clock = new FakeClock();
    const store = memoryBreakerStore();
    const [a, b, c] = workers(store, clock);
    const other = circuitBreaker({ name: "llm", clock, store });
    await tick();
    await outcome(a!, boom);
    await outcome(a!, boom);
    expect(a!.state).toBe("open");
    expect([b!.state, c!.state, other.state]).toEqual(["open", "open", "closed"]);
    expect(b!.openUntil).toBe(a!.openUntil);
    expect(await outcome(c!, ok)).toBe("rejected");
  });

  it("half-open admits `probes` calls across all breakers together, and their successes close all", async () => {
    const clock = new FakeClock();
    const store = memoryBreakerStore();
    const [a, b, c] = workers(store, clock, 2);
    await tick();
    a!.isolate();
    a!.reset();
    await outcome(a!, boom);
    await outcome(a!, boom);
    clock.time += 1000;
    let release!: () => void;
    const gate = new Promise<string>((r) => {
      release = () => r("ok");
    });
    const calls = [a, b, c, a, b, c].map((w) => outcome(w!, () => gate));
    await tick();
    release();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === "ok")).toHaveLength(2);
    expect(results.filter((r) => r === "rejected")).toHaveLength(4);
    expect([a!.state, b!.state, c!.state]).toEqual(["closed", "closed", "closed"]);
  });

  it("a failed probe on one breaker re-opens all of them", async () => {
    const clock = new FakeClock();
    const store = memoryBreakerStore();
    const [a, b] = workers(store, clock);
    await tick();
    await outcome(a!, boom);
    await outcome(a!, boom);
    clock.time += 1000;
    expect(await outcome(b!, boom)).toBe("failed");
    expect(a!.state).toBe("open");
    expect(a!.openUntil).toBe(clock.now() + 1000);
  });

  it("a 429 with Retry-After pauses the key on every breaker until the hinted time", async () => {
    const clock = new FakeClock();
    const store = memoryBreakerStore();
    const group = () =>
      keyedBreakers({ name: "api", clock, store, trip: { kind: "consecutive", threshold: 5 } });
    const [x, y] = [group(), group()];
    await tick();
    const limited = Object.assign(new Error("HTTP 429"), { status: 429, headers: { "retry-after": "7" } });
    await outcome(x.get("tenant-1"), () => Promise.reject(limited));
    expect(y.get("tenant-1").state).toBe("open");
    expect(y.get("tenant-1").openUntil).toBe(clock.now() + 7000);
    expect(y.get("tenant-2").state).toBe("closed");
  });

  it("a breaker made after the opening learns it from the store", async () => {
    const clock = new FakeClock();
    const store = memoryBreakerStore();
    const [a] = workers(store, clock);
    await tick();
    await outcome(a!, boom);
    await outcome(a!, boom);
    const [late] = workers(store, clock);
    await tick();
    expect(late!.state).toBe("open");
  });

  it("a change arriving while a probe claim is in flight wins over the claim", async () => {
    const clock = new FakeClock();
    const inner = memoryBreakerStore();
    let gate!: () => void;
    const held = new Promise<void>((r) => {
      gate = r;
    });
    // The store decides at once, but its answer reaches the breaker only after `gate()`.
    const store: BreakerStore = {
      kind: "slow",
      attach(group, listener) {
        const channel = inner.attach(group, listener);
        return {
          get available() {
            return channel.available;
          },
          open: (k, st) => channel.open(k, st),
          close: (k) => channel.close(k),
          claimProbe: async (...args) => {
            const answer = await channel.claimProbe(...args);
            await held;
            return answer;
          },
          probeDone: (...args) => channel.probeDone(...args),
          states: () => channel.states(),
          detach: () => channel.detach(),
        };
      },
    };
    const [a, b] = workers(store, clock);
    await tick();
    await outcome(a!, boom);
    await outcome(a!, boom);
    clock.time += 1000;
    let called = false;
    const pending = outcome(b!, async () => {
      called = true;
      return "ok";
    });
    await tick();
    a!.isolate(); // reaches b while its claim (a probe slot) is still on the way
    expect(b!.state).toBe("isolated");
    gate();
    expect(await pending).toBe("rejected");
    expect(called).toBe(false);
  });

  it("without a store, breakers of one name stay independent (today's behaviour)", async () => {
    const clock = new FakeClock();
    const make = () => circuitBreaker({ name: "tts", clock, trip: { kind: "consecutive", threshold: 1 } });
    const [a, b] = [make(), make()];
    await outcome(a, boom);
    expect([a.state, b.state]).toEqual(["open", "closed"]);
  });
});
