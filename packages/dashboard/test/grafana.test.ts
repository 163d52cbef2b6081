import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getMetrics } from "@tapline/plugin-metrics";
import { afterAll, describe, expect, it } from "vitest";
import { haveFfmpeg, startDemoLikeApp } from "./demo-like-app.ts";

// plugin-metrics' real-Prometheus helper, loaded at run time: a test file of another project, not imported
// (tsc -b will not rewrite a relative import across projects); the part of its API this test uses.
interface PrometheusProcess {
  query(q: string): Promise<{
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  }>;
  labelValues(label: string, match: string): Promise<string[]>;
  until(check: () => Promise<boolean>, ms: number, what: string): Promise<void>;
  stop(): Promise<void>;
}
interface PrometheusHelper {
  readonly havePrometheus: boolean;
  startPrometheus(dir: string, targets: readonly string[]): Promise<PrometheusProcess>;
}
const { havePrometheus, startPrometheus } = (await import(
  new URL("../../plugin-metrics/test/prometheus-server.ts", import.meta.url).href
)) as PrometheusHelper;

const root = new URL("../../../", import.meta.url).pathname;
const dashboard = JSON.parse(await readFile(join(root, "docs/grafana/tapline.json"), "utf8")) as {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query?: string }[] };
};
/**
 * A panel's PromQL as Grafana sends it: template variables replaced (`$pipeline` by the regex Grafana builds
 * for "All" or the values chosen), and `$__rate_interval` by a range: Grafana makes it at least four scrape
 * intervals; 1m covers the test's 1 s scrapes with room.
 */
const substitute = (expr: string, pipeline = ".*") =>
  expr.replaceAll("$__rate_interval", "1m").replaceAll("$pipeline", pipeline);
const exprs = dashboard.panels.flatMap((p) =>
  p.targets.map((t) => ({ panel: p.title, raw: t.expr, expr: substitute(t.expr) })),
);
const PROMTOOL = "/usr/bin/promtool";
const havePromtool = (() => {
  try {
    execFileSync(PROMTOOL, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!havePromtool && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error(
    `${PROMTOOL} is missing and TAPLINE_REQUIRE_INTEGRATION=1: install Debian's "prometheus" package`,
  );

async function sources(dir: string): Promise<string> {
  let text = "";
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      text += await readFile(join(entry.parentPath, entry.name), "utf8");
  }
  return text;
}

describe("docs/grafana/tapline.json", () => {
  it("every metric a panel queries is one a Tapline package publishes", async () => {
    const published = (
      await Promise.all(
        ["plugin-metrics", "plugin-gpu", "plugin-validate"].map((p) =>
          sources(join(root, "packages", p, "src")),
        ),
      )
    ).join("\n");
    const names = new Set(exprs.flatMap((e) => e.expr.match(/\b(?:tapline|nvidia)_[a-z_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      const base = name.replace(/_(bucket|count|sum)$/, "");
      expect(published.includes(`"${base}"`) || published.includes(`${base}"`), `${name} is published`).toBe(
        true,
      );
    }
  });

  it.skipIf(!havePromtool)("every query parses (promtool check rules)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tapline-grafana-"));
    try {
      const rules = exprs
        .map((e, i) => `      - record: tapline:panel_${i}\n        expr: ${JSON.stringify(e.expr)}`)
        .join("\n");
      await writeFile(join(dir, "rules.yml"), `groups:\n  - name: grafana\n    rules:\n${rules}\n`);
      const out = execFileSync(PROMTOOL, ["check", "rules", join(dir, "rules.yml")], { encoding: "utf8" });
      expect(out).toContain(`${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Every panel against a real Prometheus that scraped a demo-like app (retries, a map, validation, costs, the
 * GPU sampler on plugin-gpu's fake nvidia-smi): each target's PromQL must return data, as a person opening the
 * dashboard after a healthy demo run expects: no "No data" panel.
 */
describe.skipIf(!havePrometheus || !haveFfmpeg)(
  "docs/grafana/tapline.json against a real Prometheus scraping a demo-like run",
  () => {
    let tmp: string | undefined;
    let prometheus: PrometheusProcess | undefined;
    let close: (() => Promise<void>) | undefined;
    afterAll(async () => {
      await prometheus?.stop();
      await close?.();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    it("every panel's query returns data", { timeout: 120_000 }, async () => {
      tmp = await mkdtemp(join(tmpdir(), "tapline grafana "));
      const demo = startDemoLikeApp({ dir: join(tmp, ".tapline"), prometheus: true });
      close = () => demo.app.close();
      await demo.app.ready();
      const target = new URL(getMetrics(demo.app)!.serverUrl!).host;
      prometheus = await startPrometheus(tmp, [target]);
      const prom = prometheus;
      // Scraped before the runs too: rate() over counters that appear mid-window needs an earlier sample.
      await prom.until(
        async () => (await prom.query('up{job="tapline"}')).data.result[0]?.value[1] === "1",
        30_000,
        "the first scrape",
      );
      for (const id of ["fox", "owl", "bee"]) {
        const report = await demo.story(id);
        expect(report.status, `run ${id}`).toBe("success");
      }

      // The dashboard's variable: what Grafana offers for $pipeline.
      const variable = dashboard.templating.list.find((v) => v.name === "pipeline")!;
      const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(variable.query ?? "") ?? [];
      expect(label).toBe("pipeline");
      let pipelines: string[] = [];
      await prom.until(
        async () => {
          pipelines = await prom.labelValues(label!, metric!);
          return pipelines.includes("story-video");
        },
        30_000,
        "the pipeline variable's values",
      );

      // Every target, with "All" and with the one pipeline chosen; polled, as samples arrive by scrape.
      const queries = exprs.flatMap((e) => [
        { ...e, expr: substitute(e.raw, ".*") },
        { ...e, expr: substitute(e.raw, pipelines.join("|")) },
      ]);
      const empty = async () => {
        const out: string[] = [];
        for (const q of queries) {
          const r = await prom.query(q.expr);
          if (r.status !== "success") out.push(`${q.panel}: ${r.error} (${q.expr})`);
          else if (r.data.result.length === 0) out.push(`${q.panel}: no data (${q.expr})`);
        }
        return out;
      };
      let missing: string[] = [];
      await prom
        .until(
          async () => {
            missing = await empty();
            return missing.length === 0;
          },
          30_000,
          "every panel's data",
        )
        .catch(() => {}); // the assertion below names the panels
      // A healthy run drops no sample (the CPU sampler's total and per-core series once were).
      const dropped = await prom.query("tapline_metrics_dropped_samples_total");
      expect(dropped.data.result.map((r) => r.metric)).toEqual([]);
      expect(missing).toEqual([]);
    });
  },
);
