import { createTapline, isTaplineError } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { describe, expect, it } from "vitest";
import { MetricHistory } from "./history.ts";
import { metrics } from "./plugin.ts";
import { PrometheusExporter, startMetricsServer } from "./prometheus.ts";
import { createSystemSampler } from "./system/sampler.ts";
import { createPerformanceTracker } from "./tracker.ts";

// Issue #12 (A): strict options through core's one mechanism, with did-you-mean, everywhere.

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("did not throw");
}

describe("metrics() options", () => {
  it("a misspelt nested option fails registration with its path and the closest known key", () => {
    const error = thrown(() =>
      createTapline({
        logger: silentLogger,
        plugins: [
          metrics({
            persist: { flushIntervalMS: 500 },
            prometheus: { server: { prot: 9464 } },
            tracker: { maxSerie: 3 },
          } as never),
        ],
      }),
    ) as { code: string; issues: { path: string; suggestion?: string; message: string }[] };
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
    expect(error.code).toBe("TAPLINE_ERR_PLUGIN_OPTIONS");
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.suggestion]));
    expect(byPath).toMatchObject({
      "persist.flushIntervalMS": "flushIntervalMs",
      "prometheus.server.prot": "port",
      "tracker.maxSerie": "maxSeries",
    });
  });

  it("a bad value names the option and what was expected", () => {
    const error = thrown(() =>
      createTapline({
        logger: silentLogger,
        plugins: [metrics({ snapshotIntervalMs: 5, system: "yes" } as never)],
      }),
    ) as { issues: { path: string }[] };
    expect(error.issues.map((i) => i.path).sort()).toEqual(["snapshotIntervalMs", "system"]);
  });
});

describe("standalone factories", () => {
  const cases: [string, () => unknown, string, string][] = [
    [
      "createPerformanceTracker()",
      () => createPerformanceTracker({ maxSerie: 3 } as never),
      "maxSerie",
      "maxSeries",
    ],
    [
      "createSystemSampler()",
      () => createSystemSampler({ intervalMS: 500 } as never),
      "intervalMS",
      "intervalMs",
    ],
    [
      "new PrometheusExporter()",
      () => new PrometheusExporter({ maxMetric: 5 } as never),
      "maxMetric",
      "maxMetrics",
    ],
    ["new MetricHistory()", () => new MetricHistory({ capacty: 5 } as never), "capacty", "capacity"],
  ];
  for (const [subject, make, path, suggestion] of cases) {
    it(`${subject} rejects an unknown key with a did-you-mean (TAPLINE_ERR_METRICS_OPTIONS, with subject and issues)`, () => {
      const error = thrown(make) as {
        subject: string;
        code: string;
        message: string;
        issues: { path: string; suggestion?: string }[];
      };
      expect(isTaplineError(error, "TAPLINE_ERR_METRICS_OPTIONS")).toBe(true);
      expect(isTaplineError(error) && "issues" in error).toBe(true);
      expect(error.code).toBe("TAPLINE_ERR_METRICS_OPTIONS");
      expect(error.subject).toBe(subject);
      expect(error.issues).toMatchObject([{ path, suggestion }]);
      expect(error.message).toContain(`did you mean "${suggestion}"?`);
    });
  }

  it("startMetricsServer() rejects an unknown key and a bad port", async () => {
    const error = (await startMetricsServer(new PrometheusExporter(), {
      prot: 1,
      port: 70_000,
    } as never).catch((e: unknown) => e)) as { issues: { path: string; suggestion?: string }[] };
    expect(isTaplineError(error, "TAPLINE_ERR_METRICS_OPTIONS")).toBe(true);
    expect(error.issues.map((i) => i.path).sort()).toEqual(["port", "prot"]);
  });
});
