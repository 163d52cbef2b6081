import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { retryPolicy } from "../retry.ts";

// A caller's signal carries one abort listener however many attempts hang off it (Node's add/removeEventListener
// cost more than the rest of an attempt; bench: `pnpm bench retry`, "ours retry+breaker, signal").
describe("attempts linked to the caller's signal", () => {
  it("100 concurrent calls on one signal add one abort listener, and an abort rejects them all at once", async () => {
    const controller = new AbortController();
    const policy = retryPolicy({ maxAttempts: 2 });
    const seen: AbortSignal[] = [];
    const calls = Array.from({ length: 100 }, () =>
      policy
        .execute((signal) => {
          seen.push(signal);
          return new Promise(() => {}); // ignores its signal
        }, controller.signal)
        .catch((e: unknown) => e),
    );
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort("stop");
    expect(await Promise.all(calls)).toEqual(Array(100).fill("stop"));
    expect(seen.every((s) => s.aborted && s.reason === "stop")).toBe(true);
    expect(new Set(seen).size).toBe(100);
  });

  it("settled attempts are unlinked: an abort afterwards reaches only the ones still running", async () => {
    const controller = new AbortController();
    const policy = retryPolicy({ maxAttempts: 1 });
    const done: AbortSignal[] = [];
    for (let i = 0; i < 50; i++) await policy.execute(async (signal) => done.push(signal), controller.signal);
    let pending: AbortSignal | undefined;
    const running = policy
      .execute((signal) => {
        pending = signal;
        return new Promise(() => {});
      }, controller.signal)
      .catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort("late");
    expect(await running).toBe("late");
    expect(pending?.aborted).toBe(true);
    expect(done.some((s) => s.aborted)).toBe(false);
  });
});
