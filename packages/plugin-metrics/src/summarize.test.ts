import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readStatus, writeStatus } from "./status-file.ts";
import { createMetricsStore } from "./store.ts";
import { summarize } from "./summarize.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline-sum-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse("2026-05-01T10:00:00Z");

async function fill(): Promise<void> {
  let time = T0;
  const store = createMetricsStore({ dir, now: () => time });
  for (let i = 0; i < 1000; i++) {
    time = T0 + i * 60_000; // one per minute, crosses a day boundary
    if (i % 100 === 0) await store.flush();
    const failed = i % 10 === 0;
    store.record({
      t: "step",
      time,
      runId: `r${i}`,
      pipeline: "story",
      step: "tts",
      status: failed ? "failed" : "success",
      durationMs: 100 + (i % 100),
      attempts: 1,
      ...(failed && { error: i % 20 === 0 ? "Error: quota" : "Error: timeout" }),
    });
    store.record({
      t: "run",
      time,
      runId: `r${i}`,
      pipeline: "story",
      status: failed ? "failed" : "success",
      durationMs: 500,
    });
    store.record({
      t: "step",
      time,
      runId: `v${i}`,
      pipeline: "video",
      step: "render",
      status: "success",
      durationMs: 2000,
      attempts: 1,
    });
  }
  time = T0;
  store.logOperation({ operation: "upload", duration: 42, success: true, time: T0 });
  await store.close();
}

describe("summarize", () => {
  it("gives totals, rates, percentiles and top errors per operation, streaming the files", async () => {
    await fill();
    const s = await summarize(dir);
    expect(s.records).toBe(3001);
    expect(s.runs).toMatchObject({
      count: 1000,
      successes: 900,
      failures: 100,
      successRate: 0.9,
      failureRate: 0.1,
    });
    const tts = s.operations.find((o) => o.name === "story/tts")!;
    expect(tts).toMatchObject({ kind: "step", count: 1000, successes: 900, failures: 100 });
    expect(tts.avgMs).toBeCloseTo(149.5, 0);
    expect(Math.abs(tts.p50Ms - 149) / 149).toBeLessThan(0.02);
    expect(Math.abs(tts.p99Ms - 198) / 198).toBeLessThan(0.02);
    expect(tts.topErrors).toEqual([
      { message: "Error: quota", count: 50 },
      { message: "Error: timeout", count: 50 },
    ]);
    expect(s.topErrors).toContainEqual({ operation: "story/tts", message: "Error: quota", count: 50 });
    expect(s.topErrors[0]).toEqual({ operation: "story", message: "error", count: 100 });
    expect(s.operations.find((o) => o.name === "upload")).toMatchObject({
      kind: "operation",
      count: 1,
      avgMs: 42,
    });
    expect(s.skippedLines).toBe(0);
  });

  it("filters by since, until and pipeline", async () => {
    await fill();
    const s = await summarize(dir, {
      since: new Date(T0 + 100 * 60_000),
      until: T0 + 200 * 60_000,
      pipeline: "video",
    });
    expect(s.records).toBe(100);
    expect(s.operations.map((o) => o.name)).toEqual(["video/render"]);
    expect(s.from).toBe(T0 + 100 * 60_000);
    expect(s.to).toBe(T0 + 199 * 60_000);
    const iso = await summarize(dir, { since: "2026-05-01T23:00:00Z", pipeline: "story" });
    expect(iso.runs.count).toBe(1000 - 780);
  });

  it("counts torn lines instead of failing, and rejects bad ranges with a typed error", async () => {
    mkdirSync(join(dir, "runs"));
    writeFileSync(
      join(dir, "runs", "2026-05-01.0.jsonl"),
      `${JSON.stringify({ t: "op", time: T0, operation: "x", durationMs: 1, success: true })}\n{"t":"op","ti`,
    );
    const s = await summarize(dir);
    expect(s.records).toBe(1);
    expect(s.skippedLines).toBe(1);
    await expect(summarize(dir, { since: T0 + 1, until: T0 })).rejects.toSatisfy((e: unknown) =>
      isTaplineError(e, "TAPLINE_ERR_METRICS_READ"),
    );
    await expect(summarize(dir, { since: "yesterday-ish" })).rejects.toThrow(/since/);
  });

  it("returns empty totals for an empty dir", async () => {
    const s = await summarize(dir);
    expect(s).toMatchObject({ records: 0, operations: [], runs: { count: 0 } });
  });
});

describe("status.json", () => {
  it("writes atomically and reads back", async () => {
    const status = {
      level: "degraded" as const,
      message: "degraded: x: y",
      parts: [{ component: "x", level: "degraded" as const, message: "y", details: { err: new Error("e") } }],
      time: 123,
    };
    await writeStatus(dir, status);
    const back = await readStatus(dir);
    expect(back).toMatchObject({ level: "degraded", message: "degraded: x: y", time: 123 });
    expect((back!.parts[0]!.details as { err: unknown }).err).toEqual({ name: "Error", message: "e" });
  });

  it("is undefined when never written and a typed error when not ours", async () => {
    expect(await readStatus(dir)).toBeUndefined();
    writeFileSync(join(dir, "status.json"), "{nope");
    await expect(readStatus(dir)).rejects.toSatisfy((e: unknown) =>
      isTaplineError(e, "TAPLINE_ERR_METRICS_READ"),
    );
    writeFileSync(join(dir, "status.json"), "{}");
    await expect(readStatus(dir)).rejects.toThrow(/lacks level/);
  });
});
