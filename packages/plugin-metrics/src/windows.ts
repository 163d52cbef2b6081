// The windows and accuracy of the tracker: public constants and types, kept apart from the sketch
// implementation so the published declarations never import @datadog/sketches-js (issue #11).

import type { ListsEvery } from "./internal/lists.ts";

/** A rolling window a tracker reports on. */
export type WindowName = "1m" | "5m" | "1h" | "all";

/**
 * Every window, in the order reports list them: `satisfies` rejects a name that is not a `WindowName`, and
 * `_everyWindow` a `WindowName` missing here (one edit the compiler checks).
 */
export const WINDOWS = ["1m", "5m", "1h", "all"] as const satisfies readonly WindowName[];
const _everyWindow: ListsEvery<typeof WINDOWS, WindowName> = true;

/** Length of each rolling window, ms. */
export const WINDOW_MS: Readonly<Record<Exclude<WindowName, "all">, number>> = {
  "1m": 60_000,
  "5m": 300_000,
  "1h": 3_600_000,
};

/** Width of a fine slot; the 1 m and 5 m windows are accurate to one slot. */
export const SLOT_MS = 10_000;
/** Fine slots kept. */
export const FINE_SLOTS = 30; // 5 minutes of 10 s slots
/** Width of a coarse slot (the 1 h window). */
export const COARSE_MS = 60_000;
/** Coarse slots kept. */
export const COARSE_SLOTS = 60; // 1 hour of 1 minute slots

/** Relative accuracy of every quantile (1%): p99 of 2.00 s reads between 1.98 and 2.02 s. */
export const RELATIVE_ACCURACY = 0.01;
/**
 * Bins per sketch before the lowest are collapsed: with 1% accuracy, 1024 bins span 9 decades
 * (1 µs to 1000 s at full accuracy), so collapsing only ever touches sub-microsecond values. This is what
 * bounds memory per series whatever the volume.
 */
export const BIN_LIMIT = 1024;

/** Statistics of one window. Durations in milliseconds; quantiles have 1% relative error. */
export interface WindowStats {
  readonly count: number;
  readonly successes: number;
  readonly failures: number;
  /** failures / count, 0 when empty. */
  readonly errorRate: number;
  /** Completions per minute over the window (all time: since the first record). */
  readonly throughputPerMin: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
}
