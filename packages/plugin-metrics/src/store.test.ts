import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppStatus } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PersistError } from "./errors.ts";
import { readJsonl } from "./jsonl-reader.ts";
import { PrometheusExporter } from "./prometheus.ts";
import { createMetricsStore } from "./store.ts";
import { timed } from "./timing.ts";
import { createPerformanceTracker } from "./tracker.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline store "));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const status = (message: string): AppStatus =>
  ({ level: "healthy", message, parts: [], time: Date.now() }) as unknown as AppStatus;

async function records(folder: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const r of readJsonl(join(dir, folder))) out.push(r);
  return out;
}

describe("MetricsStore", () => {
  it("records steps and runs: durations to the µs, attempts only when retried, errors short and redacted", async () => {
    const store = createMetricsStore({ dir });
    store.recordStep({
      runId: "r1",
      pipeline: "story",
      step: "tts",
      status: "failed",
      durationMs: 12.34567,
      attempts: [{ durationMs: 5.0001 }, { durationMs: 7.3456789 }],
      error: new Error("401 for Authorization: Bearer sk-abcdefghijklmnopqrstuvwx\nstack..."),
    });
    store.recordStep({
      runId: "r1",
      pipeline: "story",
      step: "script",
      status: "success",
      durationMs: 1,
      attempts: [{ durationMs: 1 }],
      error: new Error("ignored when it succeeded"),
    });
    store.recordRun({ runId: "r1", pipeline: "story", status: "failed", durationMs: 20, failedStep: "tts" });
    await store.close();
    const [failed, ok, run] = await records("runs");
    expect(failed).toMatchObject({ t: "step", durationMs: 12.346, attempts: 2, attemptsMs: [5, 7.346] });
    expect(failed!.error).toMatch(/^Error: 401 for Authorization: /);
    expect(failed!.error).not.toContain("sk-abc");
    expect(failed!.error).not.toContain("stack");
    expect(ok).not.toHaveProperty("attemptsMs");
    expect(ok).not.toHaveProperty("error");
    expect(run).toMatchObject({ t: "run", status: "failed", failedStep: "tts", durationMs: 20 });
  });

  it("counts the operations it persists in its tracker, like the plugin's store", async () => {
    const tracker = createPerformanceTracker();
    const store = createMetricsStore({ dir, tracker });
    await timed("upload", () => "done", undefined, store);
    expect(tracker.stats("operation", "upload")?.count).toBe(1);
    await store.close();
    expect(await records("runs")).toMatchObject([{ t: "op", operation: "upload", success: true }]);
  });

  it("checkpoints a snapshot and status.json; a status that cannot be written degrades it once, never throws", async () => {
    const errors: PersistError[] = [];
    const store = createMetricsStore({ dir, onError: (e) => errors.push(e) });
    const tracker = createPerformanceTracker();
    tracker.record("step", "story", "tts", 10, true);
    await store.checkpoint(tracker.snapshot(), () => status("first"));
    expect(JSON.parse(readFileSync(join(dir, "status.json"), "utf8")).message).toBe("first");
    expect(await records("snapshots")).toHaveLength(1);

    // A directory where status.json must go: the rename fails (EISDIR/ENOTEMPTY...).
    rmSync(join(dir, "status.json"));
    mkdirSync(join(dir, "status.json"));
    writeFileSync(join(dir, "status.json", "keep"), "x");
    await store.checkpoint(tracker.snapshot(), () => status("second"));
    await store.checkpoint(tracker.snapshot(), () => status("third"));
    expect(store.degraded).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe("TAPLINE_ERR_METRICS_PERSIST");
    expect(errors[0]!.path).toBe(join(dir, "status.json"));
    expect(store.lastError).toContain("cannot write metrics records");

    rmSync(join(dir, "status.json"), { recursive: true });
    await store.writeStatus(status("fourth"));
    expect(store.degraded).toBe(false);
    await store.close();
  });

  it("never overlaps checkpoints: one asked for during another waits for it", async () => {
    const store = createMetricsStore({ dir });
    const tracker = createPerformanceTracker();
    const order: string[] = [];
    const a = store.checkpoint(tracker.snapshot(), () => {
      order.push("a");
      return status("a");
    });
    const b = store.checkpoint(tracker.snapshot(), () => {
      order.push("b");
      return status("b");
    });
    await Promise.all([a, b]);
    expect(order).toEqual(["a", "b"]);
    expect(JSON.parse(readFileSync(join(dir, "status.json"), "utf8")).message).toBe("b");
    await store.close();
  });
});

describe("PrometheusExporter as an operation sink", () => {
  it("observes what timed() sends it", async () => {
    const exporter = new PrometheusExporter();
    await timed("render", () => 1, undefined, exporter);
    expect(await exporter.metrics()).toMatch(
      /tapline_operation_duration_seconds_count\{operation="render",status="success"\} 1/,
    );
  });
});
