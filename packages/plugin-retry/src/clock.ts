/**
 * Time source of policies and breakers. Inject a fake one in tests (see `createFakeClock` in the tests) to get
 * exact, instant delay sequences. `now()` is epoch ms, so breaker snapshots stay meaningful across processes.
 */
export interface Clock {
  /** Current time, epoch ms. */
  now(): number;
  /** Schedules `fn` after `ms`; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a handle returned by `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** A random source in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** The real clock: `Date.now()` and Node timers. */
export const systemClock: Clock = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A small seeded random source (mulberry32) for deterministic jitter in tests and simulations.
 *
 * @example
 * retryPolicy({ random: seededRandom(42) })
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
