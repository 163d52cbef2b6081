import { LogCollapsingLowestDenseDDSketch } from "@datadog/sketches-js";
import {
  BIN_LIMIT,
  COARSE_MS,
  COARSE_SLOTS,
  FINE_SLOTS,
  RELATIVE_ACCURACY,
  SLOT_MS,
  WINDOW_MS,
  WINDOWS,
  type WindowName,
  type WindowStats,
} from "./windows.ts";

export { BIN_LIMIT, RELATIVE_ACCURACY, SLOT_MS, WINDOWS, type WindowName, type WindowStats };

/**
 * The q-quantile by the nearest-rank definition (the ⌈q·n⌉-th smallest value, within the sketch's relative
 * accuracy). DDSketch's own `getValueAtQuantile` takes the ⌊q·(n−1)⌋-th, which for small counts puts p95
 * and p99 below the mean of a skewed sample ([205, 261, 288, 5276] ms gave p95 = 288 ms).
 */
export function quantile(sketch: LogCollapsingLowestDenseDDSketch, q: number): number {
  const n = sketch.count;
  if (n === 0) return Number.NaN;
  if (n === 1) return sketch.getValueAtQuantile(0);
  const rank = Math.max(0, Math.ceil(q * n) - 1);
  // +0.5 keeps the rank off a bucket boundary, so float rounding cannot pick the value below.
  return sketch.getValueAtQuantile(Math.min(1, (rank + 0.5) / (n - 1)));
}

/** @internal A new, empty sketch with the package's accuracy and bin limit. */
export function newSketch(): LogCollapsingLowestDenseDDSketch {
  return new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: RELATIVE_ACCURACY, binLimit: BIN_LIMIT });
}

/** A sketch plus the success/failure counts of the same interval. */
interface Slot {
  start: number;
  sketch: LogCollapsingLowestDenseDDSketch;
  ok: number;
  failed: number;
}

/**
 * Durations over rolling windows (1 m, 5 m, 1 h) and all time, from mergeable DDSketches.
 * A record touches one sketch (the current 10 s slot); completed slots are merged into 1-minute slots and the
 * all-time sketch when the slot rotates, so recording stays O(1) and memory is bounded: at most
 * 30 + 60 + 2 sketches of at most {@link BIN_LIMIT} bins per series, whatever the volume.
 */
export class WindowedSketch {
  #current: Slot;
  readonly #fine: (Slot | undefined)[] = new Array(FINE_SLOTS);
  readonly #coarse: (Slot | undefined)[] = new Array(COARSE_SLOTS);
  readonly #all: Slot;
  #first = -1;

  constructor(now: number) {
    this.#current = { start: slotStart(now, SLOT_MS), sketch: newSketch(), ok: 0, failed: 0 };
    this.#all = { start: now, sketch: newSketch(), ok: 0, failed: 0 };
  }

  /** Records one duration (ms, ≥ 0) at time `now` (ms, monotonic or epoch, but one clock per sketch). */
  record(durationMs: number, ok: boolean, now: number): void {
    let slot = this.#current;
    if (now >= slot.start + SLOT_MS) slot = this.#rotate(now);
    if (this.#first < 0) this.#first = now;
    slot.sketch.accept(Math.max(durationMs, 0));
    if (ok) slot.ok++;
    else slot.failed++;
  }

  #rotate(now: number): Slot {
    const done = this.#current;
    if (done.ok + done.failed > 0) {
      this.#fine[(done.start / SLOT_MS) % FINE_SLOTS] = done;
      mergeInto(this.#all, done);
      const minute = slotStart(done.start, COARSE_MS);
      const index = (minute / COARSE_MS) % COARSE_SLOTS;
      let coarse = this.#coarse[index];
      if (!coarse || coarse.start !== minute) {
        coarse = { start: minute, sketch: newSketch(), ok: 0, failed: 0 };
        this.#coarse[index] = coarse;
      }
      mergeInto(coarse, done);
    }
    const next = { start: slotStart(now, SLOT_MS), sketch: newSketch(), ok: 0, failed: 0 };
    this.#current = next;
    return next;
  }

  /** Statistics over one window ending at `now`. */
  stats(window: WindowName, now: number): WindowStats {
    if (now >= this.#current.start + SLOT_MS) this.#rotate(now);
    const acc: Slot = { start: 0, sketch: newSketch(), ok: 0, failed: 0 };
    const cur = this.#current;
    mergeInto(acc, cur);
    let minutes: number;
    if (window === "all") {
      mergeInto(acc, this.#all);
      minutes = Math.max((now - (this.#first >= 0 ? this.#first : now)) / 60_000, 1 / 60);
    } else if (window === "1h") {
      const from = now - WINDOW_MS["1h"];
      for (const slot of this.#coarse) if (slot && slot.start > from - COARSE_MS) mergeInto(acc, slot);
      minutes = 60;
    } else {
      const from = now - WINDOW_MS[window];
      for (const slot of this.#fine)
        if (slot && slot.start > from - SLOT_MS && slot !== cur) mergeInto(acc, slot);
      minutes = WINDOW_MS[window] / 60_000;
    }
    return toStats(acc, minutes);
  }

  /** A copy of the all-time sketch (completed slots plus the current one), for merging across processes. */
  allTimeSketch(): LogCollapsingLowestDenseDDSketch {
    const sketch = newSketch();
    if (this.#all.sketch.count > 0) sketch.merge(this.#all.sketch);
    if (this.#current.sketch.count > 0) sketch.merge(this.#current.sketch);
    return sketch;
  }
}

function slotStart(t: number, width: number): number {
  return Math.floor(t / width) * width;
}

function mergeInto(target: Slot, source: Slot): void {
  if (source.sketch.count > 0) target.sketch.merge(source.sketch);
  target.ok += source.ok;
  target.failed += source.failed;
}

/** @internal Statistics of a sketch and its counts. */
export function toStats(
  slot: { sketch: LogCollapsingLowestDenseDDSketch; ok: number; failed: number },
  minutes: number,
): WindowStats {
  const { sketch, ok, failed } = slot;
  const count = ok + failed;
  if (count === 0) {
    return {
      count: 0,
      successes: 0,
      failures: 0,
      errorRate: 0,
      throughputPerMin: 0,
      mean: 0,
      min: 0,
      max: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
    };
  }
  return {
    count,
    successes: ok,
    failures: failed,
    errorRate: failed / count,
    throughputPerMin: count / minutes,
    mean: sketch.sum / sketch.count,
    min: sketch.min,
    max: sketch.max,
    p50: quantile(sketch, 0.5),
    p90: quantile(sketch, 0.9),
    p95: quantile(sketch, 0.95),
    p99: quantile(sketch, 0.99),
  };
}
