import type { AppStatus, RunReport, StepReport } from "@tapline/core";
import type { Summary } from "@tapline/plugin-metrics/files";
import { formatCost } from "./prices.ts";
import { colours } from "./progress.ts";

/** A run report reduced to what JSON can carry (errors become `{ name, message, code, status }`). */
export function serialiseReport(report: RunReport): Record<string, unknown> {
  return {
    runId: report.runId,
    pipeline: report.pipeline,
    status: report.status,
    durationMs: Math.round(report.durationMs),
    failedStep: report.failedStep,
    cost: report.cost,
    error: report.error === undefined ? undefined : serialiseError(report.error),
    steps: report.steps.map(serialiseStep),
    pluginErrors: report.pluginErrors.map(serialiseError),
  };
}

/** A step report and, for a shape (parallel, map, sub-pipeline), its children: the report is a tree. */
export function serialiseStep(s: StepReport): Record<string, unknown> {
  return {
    name: s.name,
    path: s.path,
    status: s.status,
    durationMs: Math.round(s.durationMs),
    attempts: s.attempts.map((a) => ({
      attempt: a.attempt,
      status: a.status,
      durationMs: Math.round(a.durationMs),
      error: a.error === undefined ? undefined : serialiseError(a.error),
    })),
    findings: s.findings,
    artifacts: s.artifacts.map((a) => ({ path: a.path, kind: a.kind })),
    extensions: s.extensions,
    ...(s.children && { children: s.children.map(serialiseStep) }),
  };
}

/** The units under a report that ran a function (no children), depth first: a shape's attempts are theirs. */
export function leafUnits(s: StepReport): StepReport[] {
  return s.children ? s.children.flatMap(leafUnits) : [s];
}

/**
 * One step of a run report in a few characters: `script×3`, `render(failed)`; a shape lists the units that
 * needed more than one attempt or did not succeed, and a map its item count: `media[voiceover×2 scenes 4]`.
 */
export function formatStepBrief(s: StepReport): string {
  const mark = (r: StepReport, name: string) =>
    `${name}${r.attempts.length > 1 ? `×${r.attempts.length}` : ""}${r.status === "success" ? "" : `(${r.status})`}`;
  if (!s.children) return mark(s, s.name);
  const inside: string[] = [];
  const walk = (r: StepReport) => {
    if (r.children?.some((c) => /^\[\d+\]$/.test(c.name)))
      inside.push(
        `${r.name} ${r.children.filter((c) => c.status === "success").length}/${r.children.length}`,
      );
    if (r.children) for (const c of r.children) walk(c);
    else if (r.attempts.length > 1 || r.status !== "success")
      inside.push(mark(r, /^\[\d+\]$/.test(r.name) ? r.path.slice(r.path.lastIndexOf(".") + 1) : r.name));
  };
  for (const c of s.children) walk(c);
  return `${mark(s, s.name)}${inside.length > 0 ? `[${inside.join(" ")}]` : ""}`;
}

/** `{ name, message, code?, status? }` of any thrown value. */
export function serialiseError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & { code?: unknown; status?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(e.code !== undefined && { code: e.code }),
    ...(e.status !== undefined && { status: e.status }),
  };
}

/** The run reports as a table: one row per story. */
export function formatReports(
  reports: readonly { id: string; report: RunReport }[],
  colour: boolean,
): string {
  const c = colours(colour);
  const lines = [c.bold("Run reports")];
  for (const { id, report } of reports) {
    const status = report.status === "success" ? c.green("success") : c.red(report.status);
    const attempts = report.steps
      .filter((s) => s.status !== "skipped")
      .map(formatStepBrief)
      .join(" ");
    lines.push(
      `  ${id.padEnd(14)} ${status} in ${(report.durationMs / 1000).toFixed(1)} s  ${c.dim(attempts)}`,
    );
    const out = report.output as { video?: string } | undefined;
    if (out?.video) lines.push(`  ${"".padEnd(14)} ${out.video}`);
    lines.push(
      `  ${"".padEnd(14)} cost ${formatCost(report.cost)}${report.budget?.usd !== undefined ? c.dim(` of a $${report.budget.usd} budget`) : ""}`,
    );
    if (report.status !== "success") {
      const message = report.error instanceof Error ? report.error.message : String(report.error);
      lines.push(`  ${"".padEnd(14)} ${c.red(`${report.failedStep}: ${message}`)}`);
    }
  }
  return lines.join("\n");
}

/** Per-step totals computed from the reports (shown when no metrics plugin persisted anything). */
export function formatStepTable(reports: readonly RunReport[], colour: boolean): string {
  const c = colours(colour);
  const by = new Map<string, { n: number; ok: number; attempts: number; durations: number[] }>();
  for (const r of reports) {
    for (const s of r.steps.flatMap(leafUnits)) {
      if (s.status === "skipped") continue;
      const key = s.path.replace(/\[\d+\]/g, "[]"); // one row per unit of the definition, not per item
      const e = by.get(key) ?? { n: 0, ok: 0, attempts: 0, durations: [] };
      e.n++;
      if (s.status === "success") e.ok++;
      e.attempts += s.attempts.length;
      e.durations.push(s.durationMs);
      by.set(key, e);
    }
  }
  const lines = [
    c.bold("Steps (from the run reports)"),
    `  ${"unit".padEnd(24)} ${"runs".padStart(5)} ${"ok".padStart(5)} ${"attempts".padStart(9)} ${"mean s".padStart(8)} ${"p95 s".padStart(8)}`,
  ];
  for (const [name, e] of by) {
    const sorted = [...e.durations].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
    lines.push(
      `  ${name.padEnd(24)} ${String(e.n).padStart(5)} ${String(e.ok).padStart(5)} ${String(e.attempts).padStart(9)} ${(mean / 1000).toFixed(2).padStart(8)} ${(p95 / 1000).toFixed(2).padStart(8)}`,
    );
  }
  return lines.join("\n");
}

/** The app status: level, message and every part. */
export function formatStatus(status: AppStatus, colour: boolean): string {
  const c = colours(colour);
  const paint = status.level === "healthy" ? c.green : status.level === "degraded" ? c.yellow : c.red;
  const lines = [
    `${c.bold("App status")}: ${paint(status.level)}${status.message !== status.level ? ` — ${status.message}` : ""}`,
  ];
  for (const part of status.parts)
    lines.push(`  ${part.component.padEnd(28)} ${part.level.padEnd(9)} ${part.message}`);
  return lines.join("\n");
}

/** The metrics summary `@tapline/plugin-metrics` computes from its persisted records (what `tapline metrics` shows). */
export function formatMetrics(summary: Summary, colour: boolean): string {
  const c = colours(colour);
  const lines = [c.bold(`Metrics summary (${summary.records} records persisted by @tapline/plugin-metrics)`)];
  const r = summary.runs;
  lines.push(`  runs: ${r.count}, success ${(r.successRate * 100).toFixed(0)}%, failed ${r.failures}`);
  lines.push(
    `  ${"operation".padEnd(24)} ${"count".padStart(5)} ${"ok %".padStart(6)} ${"fail".padStart(5)} ${"mean s".padStart(8)} ${"p95 s".padStart(8)}  top error`,
  );
  for (const o of summary.operations) {
    const error = o.topErrors[0] ? `${o.topErrors[0].count}× ${o.topErrors[0].message}` : "";
    lines.push(
      `  ${o.name.padEnd(24)} ${String(o.count).padStart(5)} ${(o.successRate * 100).toFixed(0).padStart(6)} ${String(o.failures).padStart(5)} ${(o.avgMs / 1000).toFixed(2).padStart(8)} ${(o.p95Ms / 1000).toFixed(2).padStart(8)}  ${c.dim(error.length > 60 ? `${error.slice(0, 59)}…` : error)}`,
    );
  }
  return lines.join("\n");
}
