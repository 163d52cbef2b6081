import { describe, expect, it } from "vitest";
import { AnomalyModel, PredictModel, RegressionModel } from "./detectors.ts";
import { SortedValues } from "./sorted-window.ts";

/** A deterministic pseudo-random stream (mulberry32), so the "noise" series are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bruteMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

describe("SortedValues", () => {
  it("keeps the median and MAD of a multiset under inserts, removals and replacements (against a brute force)", () => {
    const r = rng(7);
    const sorted = new SortedValues(8);
    const live: number[] = [];
    for (let i = 0; i < 400; i++) {
      const v = Math.round(r() * 50);
      if (live.length < 37) sorted.insert(v);
      else if (i % 5 === 0) {
        sorted.remove(live.shift()!);
        sorted.insert(v);
      } else sorted.replace(live.shift()!, v); // one out, one in: a single move
      live.push(v);
      const med = bruteMedian(live);
      expect(sorted.median()).toBe(med);
      const mad = bruteMedian(live.map((x) => Math.abs(x - med)));
      const expected =
        mad > 0 ? 1.4826 * mad : (1.2533 * live.reduce((s, x) => s + Math.abs(x - med), 0)) / live.length;
      expect(sorted.sigma(med)).toBeCloseTo(expected, 9);
    }
  });
});

describe("AnomalyModel", () => {
  it("scores a spike in robust σ, and says nothing before minSamples and warmup", () => {
    const m = new AnomalyModel(600_000, 1000, 10, 60_000, "up");
    // 1, 2, 3 ... 9 repeated: median 5, MAD 2 → σ 2.9652
    for (let i = 0; i < 9; i++) m.push(i * 10_000, (i % 9) + 1);
    m.push(90_000, 5);
    expect(m.value()).toBeUndefined(); // judged against 9 samples < minSamples
    m.push(100_000, 5);
    expect(m.value()).toBe(0);
    m.push(110_000, 5 + 1.4826 * 2 * 6); // 6 σ above the 11 before it (median 5, MAD 2)
    expect(m.value()).toBeCloseTo(6, 1);
  });

  it("direction down ignores spikes up", () => {
    const m = new AnomalyModel(600_000, 1000, 5, 0, "down");
    for (let i = 0; i < 20; i++) m.push(i * 1000, 10 + (i % 3));
    m.push(21_000, 100);
    expect(m.value()).toBeLessThan(0);
    m.push(22_000, -100);
    expect(m.value()).toBeGreaterThan(10);
  });
});

describe("PredictModel", () => {
  it("extrapolates a line and finds when it crosses (predict_linear)", () => {
    const m = new PredictModel(3_600_000, 3_600_000, 1000, 2);
    // 100 GB free, losing 1 GB a minute
    for (let i = 0; i <= 30; i++) m.push(i * 60_000, 100 - i);
    const now = 30 * 60_000;
    expect(m.value(now)).toBeCloseTo(70 - 60, 6); // 60 minutes ahead
    expect(m.crossing(0, now)).toBeCloseTo(100 * 60_000, 0);
  });

  it("forgets what leaves the window (running sums stay exact)", () => {
    const m = new PredictModel(40_000, 0, 1000, 2);
    for (let i = 0; i < 100; i++) m.push(i * 1000, i < 50 ? 1000 - i * 7 : 5); // steep, then flat
    expect(m.value(99_000)).toBeCloseTo(5, 6);
    expect(m.line()!.slope).toBeCloseTo(0, 9);
  });
});

describe("RegressionModel", () => {
  it("compares the recent median with the baseline's, and its state round-trips", () => {
    const m = new RegressionModel(3_600_000, 1000, 50, 3, "ratio");
    for (let i = 0; i < 40; i++) m.push(i * 600_000, 10); // every 10 minutes for 6.5 h: old ones enter the baseline
    expect(m.value()).toBe(1);
    for (let i = 40; i < 46; i++) m.push(i * 600_000, 20);
    expect(m.value()).toBe(2);
    const copy = new RegressionModel(3_600_000, 1000, 50, 3, "ratio");
    copy.load(m.save());
    expect(copy.value()).toBe(2);
    expect(copy.vars().baselineSince).toBe("1970-01-01T00:00:00Z");
  });

  it("keeps the baseline bounded (oldest out first)", () => {
    const m = new RegressionModel(1000, 10, 20, 1, "ratio");
    for (let i = 0; i < 500; i++) m.push(i * 10_000, i);
    const saved = m.save();
    expect(saved.baseline).toHaveLength(20);
    expect(saved.baseline[19]).toBe(498);
  });
});
