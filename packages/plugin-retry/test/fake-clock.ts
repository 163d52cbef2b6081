import type { Clock } from "../src/clock.ts";

/** A deterministic clock for unit tests: time moves only through `advance()`/`run()`. */
export class FakeClock implements Clock {
  time: number;
  #timers: { at: number; id: number; fn: () => void }[] = [];
  #id = 0;
  /** Every delay passed to setTimeout, in order. */
  readonly requested: number[] = [];
  constructor(start = 1_000_000) {
    this.time = start;
  }
  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.#id;
    this.requested.push(ms);
    this.#timers.push({ at: this.time + ms, id, fn });
    this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  };
  get pending(): number {
    return this.#timers.length;
  }
  /** Lets pending promise callbacks run (a real macrotask turn). */
  async flush(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
  }
  /** Moves time forward by `ms`, firing due timers in order and flushing promises between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await this.flush();
    for (;;) {
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.time = next.at;
      next.fn();
      await this.flush();
    }
    this.time = target;
    await this.flush();
  }
  /** Fires timers until `promise` settles (or `limit` timers fired); returns its outcome. */
  async run<T>(promise: Promise<T>, limit = 100_000): Promise<{ value?: T; error?: unknown; ok: boolean }> {
    let settled: { value?: T; error?: unknown; ok: boolean } | undefined;
    promise.then(
      (value) => (settled = { value, ok: true }),
      (error: unknown) => (settled = { error, ok: false }),
    );
    await this.flush();
    for (let i = 0; i < limit && !settled; i++) {
      const next = this.#timers.shift();
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      next.fn();
      await this.flush();
    }
    if (!settled) throw new Error("promise did not settle (no timers left)");
    return settled;
  }
}

/** A random source that returns the given values in a loop. */
export const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};
