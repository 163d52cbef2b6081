import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseOptions } from "@tapline/core";
import { DashboardStartError } from "./errors.ts";
import { ReportSchema } from "./options.ts";
import { type Distribution, gatherReport, type ReportData } from "./report-data.ts";
import type { ReportOptions } from "./report-options.ts";

/**
 * A self-contained quality report of a data folder over a period: runs and success rate, per-step durations
 * (with charts), failure causes and retries, validation findings per file, loudness and bitrate
 * distributions, GPU energy per run, alerts. HTML (one file: inline CSS and SVG, no script, no network) or
 * Markdown. Every text from the records is escaped and secrets are redacted.
 *
 * @example
 * await writeFile("report.html", await renderReport({ dir: ".tapline", since: Date.now() - 86_400_000 }));
 */
export async function renderReport(options: ReportOptions): Promise<string> {
  const o = parseOptions(ReportSchema, options, "renderReport()");
  const dir = resolve(o.dir);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    throw new DashboardStartError({
      what: `data folder ${dir}`,
      why: "not found (pass the dir given to createTapline)",
    });
  const to = o.until ?? Date.now() + 1; // a record written this very millisecond is in
  const from = o.since ?? to - 86_400_000;
  const data = await gatherReport(dir, from, to);
  return o.format === "md" ? markdown(data) : html(data);
}

const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
const md = (s: unknown): string =>
  String(s)
    .replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`)
    .replace(/\n/g, " ");
const ms = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 0)} ms`;
const pct = (a: number, b: number): string => (b ? `${((a / b) * 100).toFixed(1)}%` : "–");
const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
const iso = (t: number): string => new Date(t).toISOString().replace(".000Z", "Z");

/** A histogram of values as inline SVG (no script). */
function histogram(d: Distribution, label: string): string {
  if (d.values.length === 0) return "";
  const bins = 20;
  const lo = d.min;
  const span = d.max - d.min || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const x of d.values) counts[Math.min(bins - 1, Math.floor(((x - lo) / span) * bins))]!++;
  const top = Math.max(...counts);
  const w = 300;
  const h = 80;
  const bw = w / bins;
  const bars = counts
    .map((c, i) => {
      const bh = top ? (c / top) * (h - 14) : 0;
      return `<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - 12 - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}"><title>${esc(`${fmt(lo + (i * span) / bins)}–${fmt(lo + ((i + 1) * span) / bins)}: ${c}`)}</title></rect>`;
    })
    .join("");
  return `<svg class="hist" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(label)}">${bars}<text x="0" y="${h - 1}">${esc(fmt(d.min))}</text><text x="${w}" y="${h - 1}" text-anchor="end">${esc(fmt(d.max))}</text></svg>`;
}

function html(d: ReportData): string {
  const table = (head: string[], rows: string[][]) =>
    rows.length === 0
      ? `<p class="muted">none in this period</p>`
      : `<table><thead><tr>${head.map((x) => `<th>${esc(x)}</th>`).join("")}</tr></thead><tbody>${rows
          .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
          .join("")}</tbody></table>`;
  const done = d.runs.successes + d.runs.failures + d.runs.cancelled;
  const sections = [
    `<h1>Tapline quality report</h1><p class="muted">${esc(d.dir)} · ${esc(iso(d.from))} → ${esc(iso(d.to))} · generated ${esc(iso(d.generated))}</p>`,
    `<h2>Runs</h2><div class="cards"><div><b>${d.runs.count}</b> runs</div><div><b>${pct(d.runs.successes, done)}</b> success rate</div><div><b>${d.runs.failures}</b> failed</div><div><b>${d.runs.cancelled}</b> cancelled</div>${d.runs.suspended ? `<div><b>${d.runs.suspended}</b> suspended</div>` : ""}${d.runs.resumed ? `<div><b>${d.runs.resumed}</b> resumed</div>` : ""}</div>`,
    table(
      ["pipeline", "runs", "success rate"],
      d.pipelines.map((p) => [esc(p.pipeline), String(p.count), pct(p.successes, p.count)]),
    ),
    `<h2>Steps: durations, failures, retries</h2>`,
    table(
      [
        "pipeline",
        "step",
        "count",
        "p50",
        "p95",
        "max",
        "failure rate",
        "replayed",
        "retries",
        "healed by retry",
        "durations",
      ],
      d.steps.map((s) => [
        esc(s.pipeline),
        `<code>${esc(s.step)}</code>`,
        String(s.durations.count),
        ms(s.durations.p50),
        ms(s.durations.p95),
        ms(s.durations.max),
        pct(s.failures, s.durations.count),
        String(s.replayed),
        String(s.retries),
        String(s.healed),
        histogram(s.durations, `${s.step} durations (ms)`),
      ]),
    ),
    `<h2>Failure causes</h2>`,
    table(
      ["count", "pipeline", "step", "error"],
      d.failures.map((f) => [String(f.count), esc(f.pipeline), `<code>${esc(f.step)}</code>`, esc(f.error)]),
    ),
    `<h2>Validation findings</h2>`,
    d.findingsByFile.length
      ? table(
          ["file", "severity", "check", "message", "count"],
          d.findingsByFile.map((f) => [
            `<code>${esc(f.file)}</code>`,
            esc(f.severity),
            esc(f.check),
            esc(f.message),
            String(f.count),
          ]),
        )
      : "",
    table(
      ["check", "severity", "findings"],
      d.findingsByCheck.map((f) => [esc(f.check), esc(f.severity), String(f.count)]),
    ),
    `<h2>Loudness, bitrate and other quality measures</h2>`,
    table(
      ["measure", "unit", "count", "min", "p50", "p95", "max", "distribution"],
      d.quality.map((q) => [
        `<code>${esc(q.name)}</code>`,
        esc(q.unit ?? ""),
        String(q.values.count),
        fmt(q.values.min),
        fmt(q.values.p50),
        fmt(q.values.p95),
        fmt(q.values.max),
        histogram(q.values, q.name),
      ]),
    ),
    `<h2>GPU energy per run</h2><p>${d.gpuEnergy.runs} runs used ${fmt(d.gpuEnergy.totalJoules)} J${d.gpuEnergy.runs ? ` (mean ${fmt(d.gpuEnergy.totalJoules / d.gpuEnergy.runs)} J per run)` : ""}</p>`,
    table(
      ["run", "energy (J)"],
      d.gpuEnergy.perRun.map((r) => [`<code>${esc(r.runId)}</code>`, fmt(r.joules)]),
    ),
    `<h2>Alerts</h2>`,
    table(
      ["rule", "level", "firings"],
      d.alerts.map((a) => [esc(a.rule), esc(a.level), String(a.firings)]),
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Tapline quality report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#111827}table{border-collapse:collapse;margin:6px 0 12px}th,td{border-bottom:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:middle}th{background:#f3f4f6}.muted{color:#6b7280}.cards{display:flex;gap:16px}.cards b{font-size:20px}.hist rect{fill:#2563eb}.hist text{font-size:9px;fill:#6b7280}code{font-size:12px}</style>
</head><body>
${sections.join("\n")}
</body></html>
`;
}

function markdown(d: ReportData): string {
  const table = (head: string[], rows: string[][]) =>
    rows.length === 0
      ? "_none in this period_\n"
      : `| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|\n${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}\n`;
  const done = d.runs.successes + d.runs.failures + d.runs.cancelled;
  return [
    `# Tapline quality report\n\n${md(d.dir)} · ${iso(d.from)} → ${iso(d.to)} · generated ${iso(d.generated)}\n`,
    `## Runs\n\n${d.runs.count} runs, success rate ${pct(d.runs.successes, done)}, ${d.runs.failures} failed, ${d.runs.cancelled} cancelled${d.runs.suspended ? `, ${d.runs.suspended} suspended` : ""}${d.runs.resumed ? `, ${d.runs.resumed} resumed` : ""}\n`,
    table(
      ["pipeline", "runs", "success rate"],
      d.pipelines.map((p) => [md(p.pipeline), String(p.count), pct(p.successes, p.count)]),
    ),
    "## Steps: durations, failures, retries\n",
    table(
      [
        "pipeline",
        "step",
        "count",
        "p50",
        "p95",
        "max",
        "failure rate",
        "replayed",
        "retries",
        "healed by retry",
      ],
      d.steps.map((s) => [
        md(s.pipeline),
        md(s.step),
        String(s.durations.count),
        ms(s.durations.p50),
        ms(s.durations.p95),
        ms(s.durations.max),
        pct(s.failures, s.durations.count),
        String(s.replayed),
        String(s.retries),
        String(s.healed),
      ]),
    ),
    "## Failure causes\n",
    table(
      ["count", "pipeline", "step", "error"],
      d.failures.map((f) => [String(f.count), md(f.pipeline), md(f.step), md(f.error)]),
    ),
    "## Validation findings\n",
    d.findingsByFile.length
      ? table(
          ["file", "severity", "check", "message", "count"],
          d.findingsByFile.map((f) => [
            md(f.file),
            md(f.severity),
            md(f.check),
            md(f.message),
            String(f.count),
          ]),
        )
      : "",
    table(
      ["check", "severity", "findings"],
      d.findingsByCheck.map((f) => [md(f.check), md(f.severity), String(f.count)]),
    ),
    "## Loudness, bitrate and other quality measures\n",
    table(
      ["measure", "unit", "count", "min", "p50", "p95", "max"],
      d.quality.map((q) => [
        md(q.name),
        md(q.unit ?? ""),
        String(q.values.count),
        fmt(q.values.min),
        fmt(q.values.p50),
        fmt(q.values.p95),
        fmt(q.values.max),
      ]),
    ),
    `## GPU energy per run\n\n${d.gpuEnergy.runs} runs used ${fmt(d.gpuEnergy.totalJoules)} J\n`,
    table(
      ["run", "energy (J)"],
      d.gpuEnergy.perRun.map((r) => [md(r.runId), fmt(r.joules)]),
    ),
    "## Alerts\n",
    table(
      ["rule", "level", "firings"],
      d.alerts.map((a) => [md(a.rule), md(a.level), String(a.firings)]),
    ),
  ].join("\n");
}
