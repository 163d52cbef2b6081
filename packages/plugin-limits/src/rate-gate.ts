import { LimitCostTooLargeError, LimitKeyError, LimitWaitExceededError } from "./errors.ts";
import { type Waiter, WaiterList } from "./internal/waiters.ts";
import type { LimitClock } from "./options.ts";
import type { RateWindowSpec, StoreRateWindows } from "./store.ts";

/**
 * @internal
 * The rate limiter of one key: a FIFO of units waiting for room in every window of the key, with one timer
 * (for the head: nobody overtakes it, so a large cost is not starved by small ones). A unit that would
 * certainly wait past `maxWait` is rejected at once instead of waiting for nothing.
 */
export class RateGate {
  private readonly waiters = new WaiterList<readonly number[]>();
  private timer: unknown;
  /** When the head may fit (epoch ms); 0 when nothing waits. */
  private nextAt = 0;
  private busy = false;
  private closed = false;
  /** Set by a 429 pause, for messages. */
  private pausedUntil = 0;

  readonly key: string;
  readonly specs: readonly RateWindowSpec[];
  private readonly windows: StoreRateWindows;
  private readonly maxWait: number;
  private readonly clock: LimitClock;
  private readonly sync: boolean;

  constructor(
    key: string,
    windows: StoreRateWindows,
    sync: boolean,
    specs: readonly RateWindowSpec[],
    maxWait: number,
    clock: LimitClock,
  ) {
    this.key = key;
    this.sync = sync;
    this.windows = windows;
    this.specs = specs;
    this.maxWait = maxWait;
    this.clock = clock;
  }

  get queued(): number {
    return this.waiters.size;
  }

  /** Takes room at once if nobody waits and the store answers synchronously. */
  tryTake(amounts: readonly number[]): boolean {
    return (
      this.sync &&
      this.waiters.first === undefined &&
      !this.closed &&
      this.windows.take(amounts, this.clock.now()) === 0
    );
  }

  /** Waits for room in every window (FIFO), up to `maxWait`. */
  acquire(amounts: readonly number[], signal: AbortSignal | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new LimitKeyError({ key: this.key, known: [], closed: true }));
    if (signal?.aborted) return Promise.reject(signal.reason);
    for (let i = 0; i < amounts.length; i++) {
      const spec = this.specs[i]!;
      if (amounts[i]! > spec.limit) {
        return Promise.reject(
          new LimitCostTooLargeError({
            key: this.key,
            unit: spec.unit,
            cost: amounts[i]!,
            limit: spec.limit,
          }),
        );
      }
    }
    const now = this.clock.now();
    // Behind a head that may fit only at `nextAt`: certain to wait at least that long.
    if (this.waiters.first && this.nextAt - now > this.maxWait) {
      return Promise.reject(this.exceeded(0, this.nextAt - now));
    }
    const promise = this.waiters.push(amounts, now, signal, (w) => {
      const wasFirst = this.waiters.first === w;
      this.waiters.fail(w, w.signal!.reason);
      if (wasFirst && !this.busy) this.reschedule(0);
    });
    if (this.waiters.first === this.waiters.last && !this.busy) this.process();
    return promise;
  }

  /** Admits nothing for `ms` (a 429's retry hint); waiters that could not make it in `maxWait` fail now. */
  pause(ms: number): void {
    const until = this.clock.now() + ms;
    if (until > this.pausedUntil) this.pausedUntil = until;
    const r = this.windows.pause(until);
    if (r) r.catch(() => {});
    if (this.waiters.first && !this.busy) this.reschedule(0);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.waiters.failAll(() => new LimitKeyError({ key: this.key, known: [], closed: true }));
  }

  private reschedule(ms: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (ms <= 0) this.process();
    else this.timer = this.clock.setTimeout(() => this.process(), Math.max(1, Math.ceil(ms)));
  }

  private process(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while (!this.busy && this.waiters.first) {
      const w = this.waiters.first;
      const r = this.windows.take(w.value, this.clock.now());
      if (typeof r === "number") {
        if (!this.settle(w, r)) return;
      } else {
        this.busy = true;
        r.then(
          (wait) => {
            this.busy = false;
            if (this.settle(w, wait)) this.process();
          },
          (error: unknown) => {
            this.busy = false;
            if (!w.done) this.waiters.fail(w, error);
            this.process();
          },
        );
        return;
      }
    }
    this.nextAt = 0;
  }

  /** Applies the store's answer for `w`; true to go on with the next waiter. */
  private settle(w: Waiter<readonly number[]>, wait: number): boolean {
    // Aborted while a shared store answered: what it took is spent (fewer calls, never more).
    if (w.done) return true;
    if (wait === 0) {
      this.waiters.grant(w);
      return true;
    }
    const now = this.clock.now();
    const waited = now - w.start;
    if (waited + wait > this.maxWait) {
      this.waiters.fail(w, this.exceeded(waited, wait));
      return true;
    }
    this.nextAt = now + wait;
    // Everyone behind the head waits at least as long: fail those who cannot make it now.
    let next = w.next;
    while (next) {
      const after = next.next;
      if (this.nextAt - next.start > this.maxWait)
        this.waiters.fail(next, this.exceeded(now - next.start, wait));
      next = after;
    }
    this.timer = this.clock.setTimeout(() => this.process(), Math.max(1, Math.ceil(wait)));
    return false;
  }

  private exceeded(waitedMs: number, neededMs: number): Error {
    const paused = this.pausedUntil > this.clock.now();
    const window = paused
      ? `pause after a 429 (until ${new Date(this.pausedUntil).toISOString()})`
      : `rate (${this.specs.map((s) => `${s.limit} ${s.unit} per ${s.perMs} ms`).join(", ")})`;
    return new LimitWaitExceededError({ key: this.key, waitedMs, neededMs, maxWait: this.maxWait, window });
  }
}
