import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMetrics, metrics } from "../src/index.ts";

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";
const required = process.env.TAPLINE_REQUIRE_INTEGRATION === "1";
const available = existsSync(PROMETHEUS);
if (!available && required)
  throw new Error(
    `${PROMETHEUS} is missing and TAPLINE_REQUIRE_INTEGRATION=1: install Debian's "prometheus" package`,
  );

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface PromResult {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe.skipIf(!available)(`a real Prometheus (${PROMETHEUS}) scraping the plugin's endpoint`, () => {
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let log = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tapline prom "));
  });
  afterAll(async () => {
    if (prometheus?.pid && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = new Promise((r) => prometheus!.once("exit", r));
      process.kill(prometheus.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (prometheus.exitCode === null && prometheus.signalCode === null)
        process.kill(prometheus.pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<PromResult> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (await res.json()) as PromResult;
  }

  it("reads tapline_step_duration_seconds back through the query API", async () => {
    const app = createTapline({
      dir: join(dir, "app"),
      logger: silentLogger,
      plugins: [metrics({ system: { intervalMs: 500 }, prometheus: { server: true } })],
    });
    try {
      await app.ready();
      const target = new URL(getMetrics(app)!.serverUrl!);
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      const config = join(dir, "prometheus.yml");
      writeFileSync(
        config,
        [
          "global:",
          "  scrape_interval: 1s",
          "  evaluation_interval: 1s",
          "scrape_configs:",
          "  - job_name: tapline",
          "    static_configs:",
          `      - targets: ["${target.host}"]`,
          "",
        ].join("\n"),
      );
      mkdirSync(join(dir, "data"));
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--log.level=warn",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      prometheus.stderr!.on("data", (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-4000);
      });

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
      const deadline = Date.now() + 30_000;
      let result: PromResult | undefined;
      for (;;) {
        try {
          result = await query('tapline_step_duration_seconds_count{pipeline="story",step="tts"}');
          if (result.data.result.length === 2) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`Prometheus never returned the series; its log:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const byStatus = Object.fromEntries(
        result!.data.result.map((r) => [r.metric.status, Number(r.value[1])]),
      );
      expect(byStatus).toEqual({ success: 8, failed: 2 });
      expect(result!.data.result[0]!.metric.job).toBe("tapline");

      const p50 = await query(
        'histogram_quantile(0.5, sum by (le) (tapline_step_duration_seconds_bucket{pipeline="story",step="tts"}))',
      );
      const median = Number(p50.data.result[0]!.value[1]);
      expect(median).toBeGreaterThan(0.01);
      expect(median).toBeLessThan(0.1);
      const sum = await query('sum(tapline_step_duration_seconds_sum{pipeline="story"})');
      expect(Number(sum.data.result[0]!.value[1])).toBeGreaterThan(0.2); // 10 steps of ≥ 20 ms

      const mem = await query("tapline_system_memory_used_ratio");
      expect(mem.data.result.length).toBe(1);
    } finally {
      await app.close();
    }
  });
});

if (!available) {
  describe("a real Prometheus", () => {
    it.skip(`skipped: ${PROMETHEUS} not found (apt-get install prometheus; set TAPLINE_REQUIRE_INTEGRATION=1 to fail instead)`, () => {});
  });
}
