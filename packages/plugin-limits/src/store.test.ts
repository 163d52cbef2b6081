import { describe, expect, it } from "vitest";
import { createMemoryStore } from "./store.ts";

describe("memory store: sliding rate windows", () => {
  it("admits at most `limit` in any window and says exactly when the next fits", () => {
    const w = createMemoryStore().rateWindows("k", [{ limit: 3, perMs: 1000, unit: "requests" }]);
    expect(w.take([1], 0)).toBe(0);
    expect(w.take([1], 100)).toBe(0);
    expect(w.take([1], 900)).toBe(0);
    // The first admission (t=0) leaves the window at t=1000.
    expect(w.take([1], 950)).toBe(50);
    expect(w.take([1], 999)).toBe(1);
    expect(w.take([1], 1000)).toBe(0);
    // Now 100, 900, 1000 are in: the next room is at 1100.
    expect(w.take([1], 1000)).toBe(100);
  });

  it("spends every window at once or none (a cost window full holds back the request window too)", () => {
    const w = createMemoryStore().rateWindows("tts", [
      { limit: 10, perMs: 1000, unit: "requests" },
      { limit: 100, perMs: 1000, unit: "characters" },
    ]);
    expect(w.take([1, 80], 0)).toBe(0);
    expect(w.take([1, 30], 10)).toBe(990);
    // Nothing was taken by the refused call: 9 requests and 20 characters are still free.
    for (let i = 0; i < 9; i++) expect(w.take([1, 0], 20)).toBe(0);
    expect(w.take([1, 0], 20)).toBe(980);
    expect(w.take([0, 20], 20)).toBe(0);
  });

  it("frees cost in admission order: waits until enough of the log has expired", () => {
    const w = createMemoryStore().rateWindows("llm", [{ limit: 100, perMs: 60_000, unit: "tokens" }]);
    expect(w.take([40], 0)).toBe(0);
    expect(w.take([40], 10_000)).toBe(0);
    expect(w.take([20], 20_000)).toBe(0);
    // 50 tokens need the first two admissions gone: the second leaves at 70 000.
    expect(w.take([50], 30_000)).toBe(40_000);
    expect(w.take([30], 30_000)).toBe(30_000);
  });

  it("a pause admits nothing until it ends, and a shorter pause never shortens it", () => {
    const w = createMemoryStore().rateWindows("k", []);
    w.pause(5000);
    w.pause(2000);
    expect(w.take([], 1000)).toBe(4000);
    expect(w.take([], 5000)).toBe(0);
  });

  it("semaphores hold weight within capacity", () => {
    const s = createMemoryStore().semaphore("gpu");
    expect(s.tryAcquire(6, 8)).toBe(true);
    expect(s.tryAcquire(3, 8)).toBe(false);
    expect(s.tryAcquire(2, 8)).toBe(true);
    s.release(6);
    expect(s.tryAcquire(6, 8)).toBe(true);
    expect(s.tryAcquire(9, 8)).toBe(false);
  });
});
