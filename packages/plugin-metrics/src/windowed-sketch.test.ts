import { describe, expect, it } from "vitest";
import { BIN_LIMIT, newSketch, quantile, SLOT_MS, WindowedSketch } from "./windowed-sketch.ts";

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe("WindowedSketch", () => {
  it("gives p50/p90/p95/p99 within 1% of the exact quantiles", () => {
    const w = new WindowedSketch(0);
    const values: number[] = [];
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const v = Math.exp(rand() * 8); // 1 ms .. 3 s, log-uniform
      values.push(v);
      w.record(v, true, i); // all inside the first slot
    }
    values.sort((a, b) => a - b);
    const s = w.stats("all", 1000);
    for (const [q, got] of [
      [0.5, s.p50],
      [0.9, s.p90],
      [0.95, s.p95],
      [0.99, s.p99],
    ] as const) {
      const exact = exactQuantile(values, q);
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.021); // 1% sketch error + 1 rank of discreteness
    }
    expect(s.count).toBe(20_000);
    expect(s.min).toBeCloseTo(values[0]!, 6);
    expect(s.max).toBeCloseTo(values.at(-1)!, 6);
  });

  it("rolls records out of the 1 m and 5 m windows but keeps them in 1 h and all time", () => {
    const w = new WindowedSketch(0);
    w.record(100, true, 1_000);
    w.record(200, false, 1_000);
    let now = 2_000;
    expect(w.stats("1m", now).count).toBe(2);
    now = 2 * 60_000; // two minutes later
    w.record(50, true, now);
    const m1 = w.stats("1m", now);
    expect(m1.count).toBe(1);
    expect(m1.p50).toBeCloseTo(50, 0);
    const m5 = w.stats("5m", now);
    expect(m5.count).toBe(3);
    expect(m5.failures).toBe(1);
    expect(m5.errorRate).toBeCloseTo(1 / 3, 6);
    now = 30 * 60_000;
    expect(w.stats("5m", now).count).toBe(0);
    expect(w.stats("1h", now).count).toBe(3);
    now = 2 * 3_600_000;
    expect(w.stats("1h", now).count).toBe(0);
    const all = w.stats("all", now);
    expect(all.count).toBe(3);
    expect(all.max).toBeCloseTo(200, 6);
  });

  it("reports throughput per minute over the window", () => {
    const w = new WindowedSketch(0);
    for (let i = 0; i < 120; i++) w.record(10, true, i * 250); // 120 records over 30 s
    expect(w.stats("1m", 30_000).throughputPerMin).toBe(120);
    expect(w.stats("5m", 30_000).throughputPerMin).toBe(24);
  });

  it("keeps memory bounded however many values and however wide their range", () => {
    const w = new WindowedSketch(0);
    for (let i = 0; i < 200_000; i++) w.record(10 ** ((i % 24) - 12), true, Math.floor(i / 1000) * SLOT_MS);
    const sketch = w.allTimeSketch();
    expect(sketch.count).toBe(200_000);
    expect(sketch.store.bins.length).toBeLessThanOrEqual(BIN_LIMIT + 128);
  });
});

describe("quantile (nearest rank)", () => {
  it("puts p95 and p99 of a small skewed sample at its largest value, not below the mean", () => {
    const sketch = newSketch();
    for (const v of [205, 261, 288, 5276]) sketch.accept(v);
    expect(quantile(sketch, 0.95)).toBeCloseTo(5276, -2);
    expect(quantile(sketch, 0.99)).toBeCloseTo(5276, -2);
    expect(quantile(sketch, 0.5)).toBeCloseTo(261, -1);
  });

  it("matches the nearest-rank percentile of 1..100 within the sketch's accuracy", () => {
    const sketch = newSketch();
    for (let v = 1; v <= 100; v++) sketch.accept(v);
    for (const [q, expected] of [
      [0.5, 50],
      [0.9, 90],
      [0.95, 95],
      [0.99, 99],
      [1, 100],
    ] as const) {
      expect(Math.abs(quantile(sketch, q) - expected) / expected).toBeLessThan(0.02);
    }
  });
});
