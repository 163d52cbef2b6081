import { LimitKeyError, LimitQueueFullError, LimitQueueTimeoutError } from "./errors.ts";
import { type Waiter, WaiterList } from "./internal/waiters.ts";
import type { LimitClock } from "./options.ts";
import type { StoreSemaphore } from "./store.ts";

/**
 * @internal
 * The bulkhead of one key: a FIFO of waiting units in front of the store's semaphore. First come, first
 * served (a heavy unit at the head is not overtaken by light ones, so it cannot starve); one timer per key
 * for queue timeouts (the head is always the oldest waiter).
 */
export class ConcurrencyGate {
  /** Weight held by units of this process. */
  inFlight = 0;
  private readonly waiters = new WaiterList<number>();
  private timer: unknown;
  private busy = false;
  /** A drain was asked for while a shared store's answer was pending: ask the store again after it. */
  private again = false;
  private closed = false;
  private readonly unsubscribe: (() => void) | undefined;

  readonly key: string;
  capacity: number;
  private readonly sem: StoreSemaphore;
  private readonly queueLimit: number;
  private readonly queueTimeout: number | undefined;
  private readonly clock: LimitClock;
  private readonly sync: boolean;

  constructor(
    key: string,
    sem: StoreSemaphore,
    sync: boolean,
    capacity: number,
    queueLimit: number,
    queueTimeout: number | undefined,
    clock: LimitClock,
  ) {
    this.key = key;
    this.sync = sync;
    this.sem = sem;
    this.capacity = capacity;
    this.queueLimit = queueLimit;
    this.queueTimeout = queueTimeout;
    this.clock = clock;
    this.unsubscribe = sem.onRelease?.(() => this.drain());
  }

  get queued(): number {
    return this.waiters.size;
  }

  /** Takes a slot at once if nobody waits and the store answers synchronously yes. */
  tryTake(weight: number): boolean {
    if (!this.sync || this.waiters.first !== undefined || this.closed) return false;
    if (this.sem.tryAcquire(weight, this.capacity) === true) {
      this.inFlight += weight;
      return true;
    }
    return false;
  }

  /** Waits for a slot (FIFO). Rejects with the signal's reason on abort, or a typed error. */
  acquire(weight: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new LimitKeyError({ key: this.key, known: [], closed: true }));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiters.size >= this.queueLimit) {
      return Promise.reject(
        new LimitQueueFullError({
          key: this.key,
          queue: this.queueLimit,
          concurrency: this.capacity,
          inFlight: this.inFlight,
        }),
      );
    }
    const now = this.clock.now();
    const promise = this.waiters.push(weight, now, signal, (w) => {
      const wasFirst = this.waiters.first === w;
      this.waiters.fail(w, w.signal!.reason);
      if (wasFirst) this.drain();
    });
    if (this.queueTimeout !== undefined && this.timer === undefined) this.arm(this.queueTimeout);
    this.drain();
    return promise;
  }

  /** Gives a slot back and lets the next waiters in. */
  release(weight: number): void {
    this.inFlight -= weight;
    const r = this.sem.release(weight);
    if (r) r.catch(() => {});
    this.drain();
  }

  /** New capacity (a gauge moved): waiters start at once if it grew. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.drain();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.waiters.failAll(() => new LimitKeyError({ key: this.key, known: [], closed: true }));
  }

  private drain(): void {
    if (this.busy) {
      // A release (here or, through the store, elsewhere) may have landed after the store counted: a "no"
      // now would otherwise wait for the next release.
      this.again = true;
      return;
    }
    while (this.waiters.first) {
      const w = this.waiters.first;
      const r = this.sem.tryAcquire(w.value, this.capacity);
      if (r === true) this.grant(w);
      else if (r === false) return;
      else {
        this.busy = true;
        this.again = false;
        r.then(
          (ok) => {
            this.busy = false;
            if (ok) {
              if (w.done) this.release(w.value);
              else this.grant(w);
            }
            if (ok || this.again) this.drain();
          },
          (error: unknown) => {
            this.busy = false;
            if (!w.done) this.waiters.fail(w, error);
            this.drain();
          },
        );
        return;
      }
    }
  }

  private grant(w: Waiter<number>): void {
    this.inFlight += w.value;
    this.waiters.grant(w);
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(1, ms));
  }

  private expire(): void {
    this.timer = undefined;
    const timeout = this.queueTimeout!;
    const now = this.clock.now();
    let w = this.waiters.first;
    while (w && now - w.start >= timeout) {
      this.waiters.fail(
        w,
        new LimitQueueTimeoutError({
          key: this.key,
          waitedMs: now - w.start,
          queueTimeout: timeout,
          queued: this.waiters.size - 1,
          concurrency: this.capacity,
        }),
      );
      w = this.waiters.first;
    }
    if (w) this.arm(w.start + timeout - now);
    // A heavy head that left may let lighter units behind it in.
    this.drain();
  }
}
