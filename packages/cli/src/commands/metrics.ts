import type { Summary } from "@tapline/plugin-metrics/files";
import { amount, type CostSummary, costUnits, summarizeCost } from "../cost.ts";
import { clip, duration, percent, when } from "../format.ts";
import { type CliIo, palette, table } from "../io.ts";
import { loadMetrics } from "../readers.ts";
import { type Command, defineCommand } from "./command.ts";

const HELP = `Usage: tapline metrics [--dir <dir>] [--since <time>] [--pipeline <name>] [--json]

Totals, success and failure rates, mean and p95 duration per operation (runs, steps, standalone operations),
failure counts and the top errors, and what runs and steps cost (ctx.cost(), by cost unit), read from the run records a Tapline app with @tapline/plugin-metrics
persisted under <dir>. Works while the app is stopped.

Options:
  --dir <dir>          the app's data folder (default ./.tapline)
  --since <time>       only records since a duration ago (30m, 2h, 7d) or a date (2026-05-01T10:00Z)
  --pipeline <name>    only this pipeline's runs and steps
  --json               print the summary as one JSON document
  -h, --help           show this help

Exit status: 0 (also when there is nothing to summarise), 2 on a usage error, 3 when <dir> does not exist.`;

/** `tapline metrics`: the persisted run records summarised. */
export const metricsCommand: Command = defineCommand({
  name: "metrics",
  summary: "totals, success rates, mean/p95 durations, top errors and cost per operation",
  help: HELP,
  options: { pipeline: { type: "string" } },
  since: true,
  dataDir: true,
  async run({ values, since, dir, io, print }) {
    const { summarize } = await loadMetrics();
    // Torn or corrupt lines (a crash mid-write) are skipped by summarize and counted in skippedLines.
    const selection = {
      ...(since !== undefined && { since }),
      ...(values.pipeline !== undefined && { pipeline: values.pipeline }),
    };
    const [summary, cost] = await Promise.all([summarize(dir, selection), summarizeCost(dir, selection)]);
    return print(
      0,
      () => ({ dir, ...summary, cost }),
      () => formatSummary(summary, cost, dir, io),
    );
  },
});

function formatSummary(summary: Summary, cost: CostSummary, dir: string, io: CliIo): string {
  const c = palette(io.stdout, io.env);
  if (summary.records === 0) return `No run records in ${dir} for this selection.\n`;
  const out: string[] = [];
  out.push(
    `${c.bold("Metrics")} from ${dir}: ${summary.records} records, ${when(summary.from)} to ${when(summary.to)}`,
  );
  if (summary.runs && summary.runs.count > 0) {
    const r = summary.runs;
    out.push(
      `Runs: ${r.count}, ${c.green(`${r.successes} succeeded`)} (${percent(r.successRate)}), ${r.failures > 0 ? c.red(`${r.failures} failed`) : "0 failed"} (${percent(r.failureRate)})`,
    );
  }
  out.push("");
  const rows = summary.operations.map((o) => [
    o.name,
    o.kind,
    String(o.count),
    o.successRate >= 0.999
      ? c.green(percent(o.successRate))
      : o.successRate >= 0.9
        ? c.yellow(percent(o.successRate))
        : c.red(percent(o.successRate)),
    o.failures > 0 ? c.red(String(o.failures)) : "0",
    duration(o.avgMs),
    duration(o.p95Ms),
    o.topErrors[0] ? c.dim(clip(o.topErrors[0].message, 48)) : "",
  ]);
  out.push(
    table(
      ["operation", "kind", "count", "success", "failures", "mean", "p95", "top error"],
      rows,
      new Set([2, 3, 4, 5, 6]),
    ),
  );
  if (summary.topErrors.length > 0) {
    out.push("", c.bold("Top errors"));
    for (const e of summary.topErrors)
      out.push(
        `  ${String(e.count).padStart(5)}×  ${e.operation ? `${e.operation}: ` : ""}${clip(e.message, 100)}`,
      );
  }
  if (cost.rows.length > 0) {
    const units = costUnits([cost.total, ...cost.rows.map((r) => r.cost)]);
    const spent = units
      .filter((u) => cost.total[u] !== undefined)
      .map((u) => `${amount(cost.total[u]!)} ${u}`);
    out.push("", `${c.bold("Cost")}: ${spent.join(", ") || "-"} over ${cost.runs} run(s)`);
    out.push(
      table(
        ["operation", "kind", "count", ...units],
        cost.rows.map((r) => [
          r.name,
          r.kind,
          String(r.count),
          ...units.map((u) => (r.cost[u] === undefined ? "" : amount(r.cost[u]!))),
        ]),
        new Set(Array.from({ length: units.length + 1 }, (_, i) => i + 2)),
      ),
    );
  }
  if (summary.skippedLines)
    out.push("", c.yellow(`${summary.skippedLines} torn or unreadable line(s) skipped`));
  return `${out.join("\n")}\n`;
}
