import { describe, expect, it } from "vitest";
import { MetricHistory, seriesId } from "./history.ts";

const sample = (name: string, value: number, time: number, labels: Record<string, string> = {}) => ({
  name,
  value,
  time,
  labels,
});

describe("MetricHistory", () => {
  it("gives min, max, mean, last and slope per series", () => {
    const h = new MetricHistory({ capacity: 10 });
    for (let i = 0; i < 5; i++) h.add(sample("tapline_system_memory_used_ratio", 0.1 + 0.05 * i, 1000 * i));
    const s = h.stats("tapline_system_memory_used_ratio")!;
    expect(s.count).toBe(5);
    expect(s.min).toBeCloseTo(0.1);
    expect(s.max).toBeCloseTo(0.3);
    expect(s.mean).toBeCloseTo(0.2);
    expect(s.last).toBeCloseTo(0.3);
    expect(s.slope).toBeCloseTo(0.05); // per second
  });

  it("keeps only `capacity` points (a ring) and separates label sets", () => {
    const h = new MetricHistory({ capacity: 3 });
    for (let i = 0; i < 10; i++) h.add(sample("m", i, i * 1000, { mount: "/" }));
    h.add(sample("m", 99, 0, { mount: "/data" }));
    const root = h.stats("m", { mount: "/" })!;
    expect(root.count).toBe(3);
    expect(root.min).toBe(7);
    expect(root.last).toBe(9);
    expect(h.stats("m", { mount: "/data" })!.last).toBe(99);
    expect(h.all("m")).toHaveLength(2);
  });

  it("bounds the number of series", () => {
    const h = new MetricHistory({ maxSeries: 1 });
    h.add(sample("a", 1, 0));
    h.add(sample("b", 1, 0));
    expect(h.all()).toHaveLength(1);
    expect(h.dropped).toBe(1);
  });

  it("identifies label sets whatever the key order", () => {
    expect(seriesId("m", { a: "1", b: "2" })).toBe(seriesId("m", { b: "2", a: "1" }));
    expect(seriesId("m", { a: "1" })).not.toBe(seriesId("m", { a: "2" }));
  });
});
