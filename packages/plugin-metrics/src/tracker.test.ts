import { isTaplineError } from "@tapline/core";
import { describe, expect, it } from "vitest";
import { createPerformanceTracker, errorMessage } from "./tracker.ts";

describe("PerformanceTracker", () => {
  it("counts successes, failures, error rate, active and top errors per (pipeline, step)", () => {
    let now = 1_000_000;
    const t = createPerformanceTracker({ now: () => now });
    t.begin("step", "story", "tts");
    t.begin("step", "story", "tts");
    expect(t.snapshot().series[0]!.active).toBe(2);
    t.record("step", "story", "tts", 120, true, undefined, true);
    t.record("step", "story", "tts", 80, false, new Error("voice missing"), true);
    t.record("step", "story", "tts", 90, false, new Error("voice missing"));
    t.record("step", "story", "render", 3000, true);
    now += 5_000;
    const tts = t.stats("step", "story", "tts", "1m")!;
    expect(tts.count).toBe(3);
    expect(tts.successes).toBe(1);
    expect(tts.failures).toBe(2);
    expect(tts.errorRate).toBeCloseTo(2 / 3, 6);
    expect(Math.abs(tts.p50 - 90) / 90).toBeLessThan(0.01);
    expect(tts.max).toBe(120);
    const snap = t.snapshot();
    const series = snap.series.find((s) => s.step === "tts")!;
    expect(series.active).toBe(0);
    expect(series.topErrors).toEqual([{ message: "Error: voice missing", count: 2 }]);
    expect(series.windows["1h"].count).toBe(3);
    expect(t.stats("step", "story", "render", "all")!.p50).toBeCloseTo(3000, -2);
    expect(t.stats("step", "nope", "x")).toBeUndefined();
  });

  it("bounds the number of series and counts what it refuses", () => {
    const t = createPerformanceTracker({ maxSeries: 2 });
    t.record("operation", "a", undefined, 1, true);
    t.record("operation", "b", undefined, 1, true);
    t.record("operation", "c", undefined, 1, true);
    t.record("operation", "d", undefined, 1, true);
    expect(t.size).toBe(2);
    expect(t.snapshot().droppedSeries).toBe(2);
  });

  it("bounds distinct error messages per series", () => {
    const t = createPerformanceTracker({ maxErrorsPerSeries: 2 });
    for (let i = 0; i < 10; i++) t.record("operation", "x", undefined, 1, false, `e${i}`);
    const errors = t.snapshot().series[0]!.topErrors;
    expect(errors.find((e) => e.message === "other")?.count).toBe(8);
  });

  it("rejects bad options with every issue named", () => {
    try {
      createPerformanceTracker({ maxSeries: 0, maxErrorsPerSeries: -1 });
      expect.unreachable();
    } catch (error) {
      expect(isTaplineError(error, "TAPLINE_ERR_METRICS_OPTIONS")).toBe(true);
      expect((error as { issues: unknown[] }).issues).toHaveLength(2);
      expect((error as Error).message).toContain("maxSeries");
    }
  });

  it("keeps error messages to one bounded line", () => {
    expect(errorMessage(new TypeError("a\nb"))).toBe("TypeError: a");
    expect(errorMessage("x".repeat(500))).toHaveLength(200);
    expect(errorMessage(undefined)).toBe("error");
  });
});
