import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMetrics, metrics } from "../src/index.ts";
import {
  havePrometheus,
  PROMETHEUS,
  type PrometheusProcess,
  type PromResult,
  startPrometheus,
} from "./prometheus-server.ts";

describe.skipIf(!havePrometheus)(`a real Prometheus (${PROMETHEUS}) scraping the plugin's endpoint`, () => {
  let dir: string;
  let prometheus: PrometheusProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tapline prom "));
  });
  afterAll(async () => {
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads tapline_step_duration_seconds back through the query API", async () => {
    const app = createTapline({
      dir: join(dir, "app"),
      logger: silentLogger,
      plugins: [metrics({ system: { intervalMs: 500 }, prometheus: { server: true } })],
    });
    try {
      await app.ready();
      const target = new URL(getMetrics(app)!.serverUrl!);
      prometheus = await startPrometheus(dir, [target.host]);
      const prom = prometheus;

      const story = app
        .pipeline<number>("story")
        .step("tts", async (n) => {
          await new Promise((r) => setTimeout(r, 20 + (n % 3) * 10));
          if (n % 5 === 0) throw new Error("voice unavailable");
          return n;
        })
        .build();
      for (let i = 1; i <= 10; i++) await story.run(i);

      // Wait until Prometheus has scraped the series (1 s scrape interval; startup takes a fraction of a second).
      let result: PromResult | undefined;
      await prom.until(
        async () => {
          result = await prom.query('tapline_step_duration_seconds_count{pipeline="story",step="tts"}');
          return result.data.result.length === 2;
        },
        30_000,
        "the step series",
      );
      const byStatus = Object.fromEntries(
        result!.data.result.map((r) => [r.metric.status, Number(r.value[1])]),
      );
      expect(byStatus).toEqual({ success: 8, failed: 2 });
      expect(result!.data.result[0]!.metric.job).toBe("tapline");

      const p50 = await prom.query(
        'histogram_quantile(0.5, sum by (le) (tapline_step_duration_seconds_bucket{pipeline="story",step="tts"}))',
      );
      const median = Number(p50.data.result[0]!.value[1]);
      expect(median).toBeGreaterThan(0.01);
      expect(median).toBeLessThan(0.1);
      const sum = await prom.query('sum(tapline_step_duration_seconds_sum{pipeline="story"})');
      expect(Number(sum.data.result[0]!.value[1])).toBeGreaterThan(0.2); // 10 steps of ≥ 20 ms

      const mem = await prom.query("tapline_system_memory_used_ratio");
      expect(mem.data.result.length).toBe(1);
    } finally {
      await app.close();
    }
  });
});

if (!havePrometheus) {
  describe("a real Prometheus", () => {
    it.skip(`skipped: ${PROMETHEUS} not found (apt-get install prometheus; set TAPLINE_REQUIRE_INTEGRATION=1 to fail instead)`, () => {});
  });
}
