import { describe, expect, it } from "vitest";
import { logOperation, type OperationEntry, timed } from "./timing.ts";
import { createPerformanceTracker } from "./tracker.ts";

describe("timed() and logOperation()", () => {
  it("times a function on the monotonic clock and records success", async () => {
    const entries: OperationEntry[] = [];
    const value = await timed(
      "sleep",
      () => new Promise((r) => setTimeout(() => r(42), 30)),
      { kind: "x" },
      { logOperation: (e) => entries.push(e) },
    );
    expect(value).toBe(42);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.operation).toBe("sleep");
    expect(entries[0]!.success).toBe(true);
    expect(entries[0]!.duration).toBeGreaterThanOrEqual(25);
    expect(entries[0]!.labels).toEqual({ kind: "x" });
  });

  it("records a failure and rethrows the same error", async () => {
    const tracker = createPerformanceTracker();
    const boom = new Error("boom");
    await expect(timed("fail", () => Promise.reject(boom), undefined, tracker)).rejects.toBe(boom);
    await expect(
      timed(
        "fail",
        () => {
          throw boom;
        },
        undefined,
        tracker,
      ),
    ).rejects.toBe(boom);
    const stats = tracker.stats("operation", "fail")!;
    expect(stats.failures).toBe(2);
    expect(tracker.snapshot().series[0]!.topErrors[0]).toEqual({ message: "Error: boom", count: 2 });
  });

  it("logOperation validates its entry", () => {
    const tracker = createPerformanceTracker();
    expect(() => logOperation({ operation: "", duration: 1, success: true }, tracker)).toThrow(/operation/);
    expect(() => logOperation({ operation: "x", duration: Number.NaN, success: true }, tracker)).toThrow(
      /duration/,
    );
    logOperation({ operation: "x", subject: "file.wav", duration: 12, success: true }, tracker);
    expect(tracker.stats("operation", "x")!.count).toBe(1);
  });

  it("timed validates its arguments", async () => {
    await expect(timed("", () => 1)).rejects.toThrow(/name/);
    await expect(timed("x", 3 as never)).rejects.toThrow(/fn/);
  });
});
