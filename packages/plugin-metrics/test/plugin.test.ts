import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTapline,
  definePlugin,
  isTaplineError,
  type MetricSample,
  type PluginErrorEvent,
} from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readJsonl, readStatus, summarize } from "../src/files.ts";
import { getMetrics, metrics } from "../src/index.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline plugin-metrics "));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A test plugin recording what flows through the metric and pluginError hooks. */
const spy = (samples: MetricSample[], errors: PluginErrorEvent[]) =>
  definePlugin({
    name: "spy",
    version: "1.0.0",
    core: "^1.0.0",
    setup(api) {
      api.hooks.metric.tap("spy", (s) => void samples.push(s));
      api.hooks.pluginError.tap("spy", (e) => void errors.push(e));
    },
  })();

describe("metrics() plugin", () => {
  it("is a thin adapter: the app's operations take the standalone path (store with tracker, exporter as a sink)", async () => {
    const app = createTapline({ dir, logger: silentLogger, plugins: [metrics({ system: false })] });
    await app.ready();
    const m = getMetrics(app)!;
    // What a standalone createMetricsStore({ dir, tracker }) does: persisted and counted in the tracker.
    m.store!.logOperation({ operation: "direct", duration: 12, success: true });
    expect(m.tracker.stats("operation", "direct")?.count).toBe(1);
    await m.timed("bound", () => 1);
    expect(m.tracker.stats("operation", "bound")?.count).toBe(1);
    expect(await m.exporter!.metrics()).toMatch(
      /tapline_operation_duration_seconds_count\{operation="bound",status="success"\} 1/,
    );
    await app.close();
    const ops: string[] = [];
    for await (const r of readJsonl(join(dir, "runs"))) if (r.t === "op") ops.push(String(r.operation));
    expect(ops.sort()).toEqual(["bound", "direct"]);
  });

  it("times runs and steps, tracks them, persists them, exports them and publishes samples", async () => {
    const samples: MetricSample[] = [];
    const errors: PluginErrorEvent[] = [];
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [
        spy(samples, errors),
        metrics({ system: { intervalMs: 100 }, snapshotIntervalMs: 150, prometheus: { server: true } }),
      ],
    });
    await app.ready();
    let n = 0;
    const story = app
      .pipeline<string>("story")
      .step("script", async (s) => {
        await new Promise((r) => setTimeout(r, 5));
        return s.toUpperCase();
      })
      .step("tts", (s) => {
        if (n++ % 4 === 0) throw new Error("voice unavailable");
        return `${s}.wav`;
      })
      .build();
    const reports = await Promise.all(Array.from({ length: 20 }, (_, i) => story.run(`story ${i}`)));
    expect(reports.filter((r) => r.status === "failed")).toHaveLength(5);

    const m = getMetrics(app)!;
    await m.timed("upload", () => "done", { target: "s3" });
    const tts = m.tracker.stats("step", "story", "tts", "1m")!;
    expect(tts).toMatchObject({ count: 20, successes: 15, failures: 5, errorRate: 0.25 });
    const script = m.tracker.stats("step", "story", "script", "all")!;
    expect(script.p50).toBeGreaterThanOrEqual(4);
    expect(m.tracker.stats("run", "story")!.count).toBe(20);
    const snap = m.snapshot();
    expect(snap.series.find((s) => s.step === "tts")!.topErrors[0]).toEqual({
      message: "Error: voice unavailable",
      count: 5,
    });
    expect(snap.series.every((s) => s.active === 0)).toBe(true);

    // Samples flow to everyone through core's metric hook, system ones included.
    const stepSamples = samples.filter((s) => s.name === "tapline_step_duration_seconds");
    expect(stepSamples).toHaveLength(40);
    expect(stepSamples[0]!.labels).toMatchObject({ pipeline: "story", status: expect.any(String) });
    await new Promise((r) => setTimeout(r, 350));
    expect(samples.some((s) => s.name === "tapline_system_cpu_ratio")).toBe(true);
    expect(samples.some((s) => s.name === "tapline_process_resident_memory_bytes")).toBe(true);
    expect(
      m.snapshot().system.find((h) => h.name === "tapline_process_resident_memory_bytes")!.count,
    ).toBeGreaterThan(1);

    // Prometheus, standalone server on 127.0.0.1.
    expect(m.serverUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const text = await (await fetch(m.serverUrl!)).text();
    expect(text).toContain(
      'tapline_step_duration_seconds_count{pipeline="story",step="tts",status="failed"} 5',
    );
    expect(text).toContain(
      'tapline_step_duration_seconds_count{pipeline="story",step="tts",status="success"} 15',
    );
    expect(text).toContain('tapline_operation_duration_seconds_count{operation="upload",status="success"} 1');
    expect(text).toContain("tapline_system_memory_used_ratio ");

    const status = app.status();
    expect(status.parts.find((p) => p.component === "metrics")).toMatchObject({ level: "ok" });
    await app.close();
    expect(errors).toEqual([]);

    // Persisted: runs, steps and the operation; status.json; snapshots; samples.
    const summary = await summarize(dir);
    expect(summary.runs).toMatchObject({ count: 20, failures: 5 });
    expect(summary.operations.find((o) => o.name === "story/tts")).toMatchObject({ count: 20, failures: 5 });
    expect(summary.operations.find((o) => o.name === "upload")).toMatchObject({
      kind: "operation",
      count: 1,
    });
    const saved = await readStatus(dir);
    expect(saved?.parts.some((p) => p.component === "metrics")).toBe(true);
    expect(readdirSync(join(dir, "snapshots")).length).toBeGreaterThan(0);
    let snapshots = 0;
    for await (const s of readJsonl(join(dir, "snapshots"))) if (Array.isArray(s.series)) snapshots++;
    expect(snapshots).toBeGreaterThanOrEqual(2);
    let persistedSamples = 0;
    for await (const s of readJsonl(join(dir, "metrics")))
      if (s.name === "tapline_system_cpu_ratio") persistedSamples++;
    expect(persistedSamples).toBeGreaterThan(0);
    expect(getMetrics(app)).toBeUndefined();
  });

  it("leaves no timer, socket or file open after close()", async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const count = (list: string[]) => {
      const acc: Record<string, number> = {};
      for (const k of list) acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    };
    const baseline = count(process.getActiveResourcesInfo());
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [metrics({ system: { intervalMs: 100 }, prometheus: { server: true } })],
    });
    await app.ready();
    await app
      .pipeline("p")
      .step("a", () => 1)
      .build()
      .run();
    await app.close();
    await new Promise((r) => setTimeout(r, 50));
    const after = count(process.getActiveResourcesInfo());
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(baseline[kind] ?? 0);
    expect(before.size).toBeGreaterThanOrEqual(0);
  });

  it("a dir it cannot write: one clear error, status degraded, runs unaffected", async () => {
    const errors: PluginErrorEvent[] = [];
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x"); // every write under it fails (ENOTDIR), for root too
    const app = createTapline({
      dir: file,
      logger: silentLogger,
      plugins: [spy([], errors), metrics({ system: false, persist: { flushIntervalMs: 20 } })],
    });
    const p = app
      .pipeline("p")
      .step("a", () => 1)
      .build();
    for (let i = 0; i < 5; i++) {
      expect((await p.run()).status).toBe("success");
      await new Promise((r) => setTimeout(r, 40));
    }
    const status = app.status();
    expect(status.level).toBe("degraded");
    expect(status.message).toContain("cannot write metrics records");
    const persistErrors = errors.filter((e) => isTaplineError(e.error.cause, "TAPLINE_ERR_METRICS_PERSIST"));
    expect(persistErrors.length).toBeGreaterThanOrEqual(1);
    expect(persistErrors.length).toBeLessThanOrEqual(3); // once per stream at most, not per flush
    expect((persistErrors[0]!.error.cause as Error).message).toContain("ENOTDIR");
    await app.close();
  });

  it("rejects bad options at registration with every bad option named", () => {
    try {
      createTapline({
        dir,
        logger: silentLogger,
        plugins: [metrics({ persist: { flushIntervalMs: -1 }, snapshotIntervalMs: "x", colour: 1 } as never)],
      });
      expect.unreachable();
    } catch (error) {
      expect(
        isTaplineError(error, [
          "TAPLINE_ERR_PLUGIN_INVALID",
          "TAPLINE_ERR_PLUGIN_DUPLICATE",
          "TAPLINE_ERR_PLUGIN_CORE_VERSION",
          "TAPLINE_ERR_PLUGIN_DEPENDENCY",
          "TAPLINE_ERR_PLUGIN_OPTIONS",
          "TAPLINE_ERR_PLUGIN_SETUP",
        ]),
      ).toBe(true);
      expect((error as { code: string }).code).toBe("TAPLINE_ERR_PLUGIN_OPTIONS");
      const paths = (error as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining(["colour", "persist.flushIntervalMs", "snapshotIntervalMs"]),
      );
    }
  });
});

describe("metrics() with flow shapes", () => {
  it("tracks and exports a map's items as one series (scenes[]) and keeps each item's path in its record", async () => {
    const app = createTapline({ dir, logger: silentLogger, plugins: [metrics({ system: false })] });
    const p = app
      .pipeline("story")
      .map(
        "scenes",
        () => Array.from({ length: 50 }, (_, i) => i),
        async (i: number) => i,
        { concurrency: 5 },
      )
      .build();
    expect((await p.run(undefined)).status).toBe("success");
    const m = getMetrics(app)!;
    expect(m.tracker.stats("step", "story", "scenes[]")?.count).toBe(50);
    expect(m.tracker.stats("step", "story", "scenes")?.count).toBe(1);
    const text = await m.exporter!.metrics();
    const series = text.split("\n").filter((l) => l.startsWith("tapline_step_duration_seconds_count{"));
    expect(series.map((l) => l.replace(/\} .*/, "}")).sort()).toEqual([
      'tapline_step_duration_seconds_count{pipeline="story",step="scenes",status="success"}',
      'tapline_step_duration_seconds_count{pipeline="story",step="scenes[]",status="success"}',
    ]);
    await app.close();
    const paths: string[] = [];
    for await (const r of readJsonl(join(dir, "runs")))
      if (r.t === "step" && r.step === "scenes[]") paths.push(String(r.path));
    expect(paths).toHaveLength(50);
    expect(new Set(paths).size).toBe(50);
    expect(paths).toContain("scenes[49]");
  });
});

describe("metrics() with cost", () => {
  it("persists what each unit and the run cost in the run records", async () => {
    const app = createTapline({ dir, logger: silentLogger, plugins: [metrics({ system: false })] });
    const p = app
      .pipeline("story")
      .step("tts", (_i, ctx) => {
        ctx.cost(0.015, { unit: "usd" });
        ctx.cost(900, { unit: "characters" });
      })
      .step("free", () => 1)
      .build();
    await p.run(undefined);
    await app.close();
    const costs: Record<string, unknown> = {};
    for await (const r of readJsonl(join(dir, "runs"))) {
      if (r.t === "run") costs.run = r.cost;
      if (r.t === "step") costs[String(r.step)] = r.cost;
    }
    expect(costs).toEqual({
      tts: { usd: 0.015, characters: 900 },
      free: undefined,
      run: { usd: 0.015, characters: 900 },
    });
  });
});
