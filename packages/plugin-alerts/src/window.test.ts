import { describe, expect, it } from "vitest";
import { SampleWindow } from "./window.ts";

describe("SampleWindow", () => {
  it("aggregates the samples inside the window and evicts older ones", () => {
    const w = new SampleWindow(10_000, 100);
    for (const [t, v] of [
      [0, 5],
      [2000, 1],
      [4000, 9],
      [6000, 3],
    ] as const)
      w.push(t, v);
    expect(w.aggregate("last")).toBe(3);
    expect(w.aggregate("mean")).toBe(4.5);
    expect(w.aggregate("min")).toBe(1);
    expect(w.aggregate("max")).toBe(9);
    expect(w.aggregate("count")).toBe(4);
    expect(w.aggregate("sum")).toBe(18);
    expect(w.aggregate("rate")).toBeCloseTo(1.8); // 18 per 10 s
    w.evict(13_000); // drops t=0 and t=2000
    expect(w.aggregate("count")).toBe(2);
    expect(w.aggregate("mean")).toBe(6);
  });
  it("computes a nearest-rank p95", () => {
    const w = new SampleWindow(1e9, 1000);
    for (let i = 1; i <= 100; i++) w.push(i, i);
    expect(w.aggregate("p95")).toBe(95);
    const small = new SampleWindow(1e9, 10);
    for (const v of [1, 2, 3]) small.push(0, v);
    expect(small.aggregate("p95")).toBe(3);
  });
  it("stays bounded: beyond maxSamples the oldest go first", () => {
    const w = new SampleWindow(1e9, 4);
    for (let i = 0; i < 10; i++) w.push(i, i);
    expect(w.size).toBe(4);
    expect(w.aggregate("min")).toBe(6);
    expect(w.aggregate("sum")).toBe(6 + 7 + 8 + 9);
  });
  it("keeps only the newest sample with a zero window, and reports empty windows", () => {
    const w = new SampleWindow(0, 10);
    w.push(1, 1);
    w.push(2, 7);
    expect(w.aggregate("last")).toBe(7);
    expect(w.size).toBe(1);
    const empty = new SampleWindow(1000, 10);
    expect(empty.aggregate("mean")).toBeUndefined();
    expect(empty.aggregate("count")).toBe(0);
  });
});
