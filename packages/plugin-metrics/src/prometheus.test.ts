import { isTaplineError } from "@tapline/core";
import { describe, expect, it } from "vitest";
import { PrometheusExporter, startMetricsServer } from "./prometheus.ts";

const sample = (name: string, value: number, labels: Record<string, string> = {}, type?: "counter") => ({
  name,
  value,
  labels,
  time: Date.now(),
  ...(type && { type }),
});

describe("PrometheusExporter", () => {
  it("exports step durations as a histogram in seconds with pipeline, step and status", async () => {
    const e = new PrometheusExporter();
    e.observeStep("story", "tts", "success", 1500);
    e.observeStep("story", "tts", "success", 300);
    e.observeStep("story", "tts", "failed", 50);
    const text = await e.metrics();
    expect(text).toContain("# TYPE tapline_step_duration_seconds histogram");
    expect(text).toContain(
      'tapline_step_duration_seconds_bucket{le="0.5",pipeline="story",step="tts",status="success"} 1',
    );
    expect(text).toContain(
      'tapline_step_duration_seconds_count{pipeline="story",step="tts",status="success"} 2',
    );
    expect(text).toContain(
      'tapline_step_duration_seconds_sum{pipeline="story",step="tts",status="success"} 1.8',
    );
  });

  it("turns hook samples into gauges and counters", async () => {
    const e = new PrometheusExporter();
    e.sample(sample("tapline_system_disk_used_ratio", 0.5, { mount: "/" }));
    e.sample(sample("tapline_system_disk_used_ratio", 0.25, { mount: "/" }));
    e.sample(sample("tapline_retries_total", 1, { pipeline: "p", step: "s" }, "counter"));
    e.sample(sample("tapline_retries_total", 2, { pipeline: "p", step: "s" }, "counter"));
    const text = await e.metrics();
    expect(text).toContain('tapline_system_disk_used_ratio{mount="/"} 0.25');
    expect(text).toContain("# TYPE tapline_retries_total counter");
    expect(text).toContain('tapline_retries_total{pipeline="p",step="s"} 3');
  });

  it("drops excess label sets per metric and counts them (cardinality guard)", async () => {
    const e = new PrometheusExporter({ maxSeriesPerMetric: 3 });
    for (let i = 0; i < 10; i++) e.sample(sample("tapline_x", i, { id: String(i) }));
    for (let i = 0; i < 10; i++) e.observeStep("p", `step${i}`, "success", 10);
    const text = await e.metrics();
    expect(text.match(/^tapline_x\{/gm)).toHaveLength(3);
    expect(text).toContain(
      'tapline_metrics_dropped_samples_total{metric="tapline_x",reason="cardinality"} 7',
    );
    expect(text).toContain(
      'tapline_metrics_dropped_samples_total{metric="tapline_step_duration_seconds",reason="cardinality"} 7',
    );
  });

  it("exports a total beside labelled series of the same metric, whichever comes first (the CPU sampler's {} and {cpu})", async () => {
    const e = new PrometheusExporter();
    e.sample(sample("tapline_system_cpu_ratio", 0.5));
    e.sample(sample("tapline_system_cpu_ratio", 0.25, { cpu: "0" }));
    e.sample(sample("tapline_system_cpu_ratio", 0.75, { cpu: "1" }));
    e.sample(sample("tapline_jobs_total", 2, {}, "counter"));
    e.sample(sample("tapline_jobs_total", 1, { queue: "a" }, "counter"));
    e.sample(sample("tapline_jobs_total", 3, {}, "counter"));
    const other = new PrometheusExporter();
    other.sample(sample("tapline_system_cpu_ratio", 0.25, { cpu: "0" }));
    other.sample(sample("tapline_system_cpu_ratio", 0.5));
    const text = await e.metrics();
    expect(text).toMatch(/^tapline_system_cpu_ratio 0\.5$/m);
    expect(text).toContain('tapline_system_cpu_ratio{cpu="0"} 0.25');
    expect(text).toContain('tapline_system_cpu_ratio{cpu="1"} 0.75');
    expect(text).toMatch(/^tapline_jobs_total 5$/m);
    expect(text).toContain('tapline_jobs_total{queue="a"} 1');
    expect(text).not.toContain("tapline_metrics_dropped_samples_total{");
    expect(await other.metrics()).toMatch(/^tapline_system_cpu_ratio 0\.5$/m);
  });

  it("drops samples with bad names or changed label names, never throws", async () => {
    const e = new PrometheusExporter();
    e.sample(sample("bad-name", 1));
    e.sample(sample("tapline_y", 1, { a: "1" }));
    e.sample(sample("tapline_y", 1, { b: "1" }));
    const text = await e.metrics();
    expect(text).toContain('reason="name"');
    expect(text).toContain('tapline_metrics_dropped_samples_total{metric="tapline_y",reason="labels"} 1');
  });

  it("validates its options", () => {
    try {
      new PrometheusExporter({ buckets: [1, 0.5], maxSeriesPerMetric: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isTaplineError(error, "TAPLINE_ERR_METRICS_OPTIONS")).toBe(true);
      expect((error as { issues: unknown[] }).issues).toHaveLength(2);
    }
  });
});

describe("startMetricsServer", () => {
  it("serves /metrics on 127.0.0.1 and a free port, 404 elsewhere", async () => {
    const e = new PrometheusExporter();
    e.observeRun("story", "success", 10);
    const server = await startMetricsServer(e);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      expect(await res.text()).toContain("tapline_run_duration_seconds_count");
      expect((await fetch(server.url.replace("/metrics", "/other"))).status).toBe(404);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it("fails with a typed error when the port is taken", async () => {
    const e = new PrometheusExporter();
    const a = await startMetricsServer(e);
    try {
      await expect(startMetricsServer(e, { port: a.port })).rejects.toSatisfy((e: unknown) =>
        isTaplineError(e, "TAPLINE_ERR_METRICS_SERVER"),
      );
    } finally {
      await a.close();
    }
  });
});
