import { describe, expect, it } from "vitest";
import { ConcurrencyGate } from "./concurrency-gate.ts";
import { systemClock } from "./options.ts";
import type { StoreSemaphore } from "./store.ts";

/** A shared store's semaphore whose answers the test settles by hand (a Redis round trip, frozen). */
function slowSemaphore(capacity: number) {
  let held = 0;
  const pending: (() => void)[] = [];
  const sem: StoreSemaphore = {
    tryAcquire(weight) {
      // The store counts when the command runs (now), and answers later.
      const ok = held + weight <= capacity;
      if (ok) held += weight;
      return new Promise<boolean>((resolve) => pending.push(() => resolve(ok)));
    },
    release(weight) {
      held -= weight;
    },
  };
  return {
    sem,
    answer: () => pending.shift()?.(),
    get waiting() {
      return pending.length;
    },
  };
}

describe("concurrency gate on a store that answers later", () => {
  it("asks again when a slot was released while the store's 'no' was on its way (no lost wake-up)", async () => {
    const s = slowSemaphore(1);
    const gate = new ConcurrencyGate("gpu", s.sem, false, 1, 10, undefined, systemClock);
    const first = gate.acquire(1, undefined);
    s.answer();
    await first;
    const second = gate.acquire(1, undefined); // counted now: full, the "no" is in flight
    gate.release(1); // the slot comes back before the answer arrives
    s.answer(); // no
    await new Promise((r) => setImmediate(r));
    // The gate must ask the store again rather than wait for a release that already happened.
    expect(s.waiting).toBe(1);
    s.answer();
    await expect(second).resolves.toBeUndefined();
    gate.close();
  });
});
