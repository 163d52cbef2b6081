/**
 * Where limit state lives. The limiter keeps its queues (who waits, in which order, with which timers) in
 * the process; what several workers must agree on (how much of each window is spent, how many slots are
 * held, until when a key is paused) goes through a {@link LimitStore}. The default,
 * {@link createMemoryStore}, keeps it in this process and answers synchronously; a shared store (Redis)
 * answers with promises, and the limiter awaits them only then.
 */

/** One rate window of a key, normalised: at most `limit` units of `unit` in any `perMs` ms. */
export interface RateWindowSpec {
  readonly limit: number;
  readonly perMs: number;
  /** `requests` (one per call) or a cost unit (`characters`, `tokens`...). */
  readonly unit: string;
}

/** The concurrency state of one key. */
export interface StoreSemaphore {
  /**
   * Takes `weight` if the weight held plus `weight` stays within `capacity`; returns whether it took it.
   */
  tryAcquire(weight: number, capacity: number): boolean | Promise<boolean>;
  /** Gives back `weight` taken by `tryAcquire`. */
  release(weight: number): void | Promise<void>;
  /**
   * A shared store calls `listener` when another process releases slots of this key, so local waiters
   * try again; returns an unsubscribe function. A memory store does not need it.
   */
  onRelease?(listener: () => void): () => void;
}

/** The rate state of one key: its windows, spent together. */
export interface StoreRateWindows {
  /**
   * Takes `amounts[i]` from window `i`, for every window at once, if all fit at `now` (and the key is not
   * paused); returns 0. Otherwise takes nothing and returns the ms after which they may fit.
   */
  take(amounts: readonly number[], now: number): number | Promise<number>;
  /** Pauses the key until `until` (epoch ms): `take` admits nothing before then. A shorter pause never shortens a longer one. */
  pause(until: number): void | Promise<void>;
}

/** Whether a shared store reaches its backend; `reason` says why not (secrets redacted). */
export interface LimitStoreStatus {
  readonly available: boolean;
  readonly reason?: string;
}

/** The state behind a limiter: memory by default; a Redis store shares it between workers. */
export interface LimitStore {
  /**
   * True when every method answers synchronously (the memory store): the limiter then admits a call on the
   * spot when it fits. A shared store leaves it unset and every call goes through the queue.
   */
  readonly sync?: boolean;
  /** The concurrency state of `key` (called once per key, when the limiter is built). */
  semaphore(key: string): StoreSemaphore;
  /** The rate state of `key` with its windows (called once per key, when the limiter is built). */
  rateWindows(key: string, windows: readonly RateWindowSpec[]): StoreRateWindows;
  /**
   * Whether a shared store reaches its backend now, and why not (the plugin's status part turns `degraded`
   * while it does not). A memory store leaves it unset.
   */
  readonly status?: LimitStoreStatus;
  /** Releases connections; called by the limiter's `close()`. */
  close?(): void | Promise<void>;
}

/**
 * A sliding log: one entry (time, amount) per admission still inside the window, so "at most `limit` in any
 * `perMs`" holds exactly (a fixed window or a token bucket lets up to twice the limit through across a
 * boundary). Memory: one entry per admission in the last `perMs`.
 */
class SlidingWindow {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  private sum = 0;
  private readonly limit: number;
  private readonly perMs: number;
  constructor(limit: number, perMs: number) {
    this.limit = limit;
    this.perMs = perMs;
  }

  /** 0 if `amount` fits at `now`, else the ms until enough of the log has expired. */
  wait(amount: number, now: number): number {
    const times = this.times;
    // An admission at t counts in [t, t + perMs): it is gone once now - perMs >= t.
    const expired = now - this.perMs;
    let head = this.head;
    while (head < times.length && times[head]! <= expired) this.sum -= this.amounts[head++]!;
    if (head !== this.head) {
      this.head = head;
      if (head === times.length) {
        this.times = [];
        this.amounts = [];
        this.head = 0;
        this.sum = 0;
      } else if (head > 1024 && head * 2 > times.length) {
        this.times = times.slice(head);
        this.amounts = this.amounts.slice(head);
        this.head = 0;
      }
    }
    if (this.sum + amount <= this.limit) return 0;
    let freed = 0;
    const need = this.sum + amount - this.limit;
    for (let i = this.head; i < this.times.length; i++) {
      freed += this.amounts[i]!;
      if (freed >= need) return this.times[i]! + this.perMs - now;
    }
    return Number.POSITIVE_INFINITY;
  }

  commit(amount: number, now: number): void {
    if (amount === 0) return;
    this.times.push(now);
    this.amounts.push(amount);
    this.sum += amount;
  }
}

class MemorySemaphore implements StoreSemaphore {
  held = 0;
  tryAcquire(weight: number, capacity: number): boolean {
    if (this.held + weight > capacity) return false;
    this.held += weight;
    return true;
  }
  release(weight: number): void {
    this.held = Math.max(0, this.held - weight);
  }
}

class MemoryRateWindows implements StoreRateWindows {
  private pausedUntil = 0;
  private readonly windows: SlidingWindow[];
  constructor(specs: readonly RateWindowSpec[]) {
    this.windows = specs.map((s) => new SlidingWindow(s.limit, s.perMs));
  }
  take(amounts: readonly number[], now: number): number {
    let wait = this.pausedUntil > now ? this.pausedUntil - now : 0;
    const windows = this.windows;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i]!.wait(amounts[i]!, now);
      if (w > wait) wait = w;
    }
    if (wait > 0) return wait;
    for (let i = 0; i < windows.length; i++) windows[i]!.commit(amounts[i]!, now);
    return 0;
  }
  pause(until: number): void {
    if (until > this.pausedUntil) this.pausedUntil = until;
  }
}

/**
 * The default store: state in this process, synchronous, one object per key (keys are declared, so memory
 * is bounded by the keys and by one log entry per admission inside each window).
 *
 * @example
 * const limiter = createLimiter({ keys: { tts: { rate: { limit: 100, per: "1m" } } }, store: createMemoryStore() });
 */
export function createMemoryStore(): LimitStore {
  return {
    sync: true,
    semaphore: () => new MemorySemaphore(),
    rateWindows: (_key, windows) => new MemoryRateWindows(windows),
  };
}
