import {
  describeError,
  type RunReport,
  type StepContext,
  type StepReport,
  type TaplineHooks,
} from "@tapline/core";
import { clip, duration } from "../format.ts";
import { type CliIo, palette, table } from "../io.ts";

/**
 * Progress on stderr: one line per step outcome and failed attempt (stdout stays for the report). Units inside
 * a shape print their failures; a map's items are summed up when the map ends (`scenes 7/8 ✓ 1 ✗ 2 retried`)
 * instead of a line each, so a 10,000-item map prints one line. A replayed unit (a resumed run) says so.
 */
export function observe(hooks: TaplineHooks, io: CliIo): void {
  const c = palette(io.stderr, io.env);
  const name = "tapline-cli";
  const tag = (ctx: { runId: string; pipeline: string }) => c.dim(`${ctx.pipeline} ${ctx.runId.slice(0, 8)}`);
  const isItem = (ctx: StepContext) => ctx.definitionPath.endsWith("[]");
  hooks.stepStart.tap(name, ({ ctx, replayed }) => {
    if (!isItem(ctx) && !replayed) io.stderr.write(`${tag(ctx)} ${c.cyan("▶")} ${ctx.path}\n`);
  });
  hooks.stepAttempt.tap(name, (e) => {
    if (e.phase === "end" && e.status === "failed")
      io.stderr.write(
        `${tag(e.ctx)} ${c.yellow("↻")} ${e.ctx.path} attempt ${e.attempt} failed: ${clip(describeError(e.error), 100)}\n`,
      );
  });
  hooks.stepEnd.tap(name, ({ ctx, report, replayed }) => {
    if (isItem(ctx) && (report.status === "success" || replayed)) return;
    if (replayed) {
      io.stderr.write(`${tag(ctx)} ${c.cyan("↺")} ${report.path} replayed (saved result)\n`);
      return;
    }
    const mark =
      report.status === "success"
        ? c.green("✓")
        : report.status === "skipped"
          ? c.dim("-")
          : report.status === "suspended"
            ? c.yellow("‖")
            : c.red("✗");
    const attempts = report.attempts.length > 1 ? ` after ${report.attempts.length} attempts` : "";
    const items = report.children && ctx.definitionPath === ctx.path ? ` ${fanOut(report.children)}` : "";
    io.stderr.write(
      `${tag(ctx)} ${mark} ${report.path} ${report.status} in ${duration(report.durationMs)}${attempts}${items}\n`,
    );
  });
}

/** `7/8 ✓ 1 ✗ 2 retried 5 replayed`: how a shape's units ended. */
export function fanOut(children: readonly StepReport[]): string {
  let ok = 0;
  let failed = 0;
  let retried = 0;
  let replayed = 0;
  for (const child of children) {
    if (child.status === "success") ok++;
    else if (child.status === "failed") failed++;
    if (child.attempts.length > 1) retried++;
    if (child.replayed) replayed++;
  }
  return `${ok}/${children.length} ✓${failed ? ` ${failed} ✗` : ""}${retried ? ` ${retried} retried` : ""}${replayed ? ` ${replayed} replayed` : ""}`;
}

/** An amount per cost unit: `0.004 usd, 3 calls`. */
export function costText(cost: Readonly<Record<string, number>> | undefined): string {
  return Object.entries(cost ?? {})
    .map(([unit, amount]) => `${Math.round(amount * 1e6) / 1e6} ${unit}`)
    .join(", ");
}

/**
 * The run reports as text: one table per run (a replayed unit's status reads `success ↺`, its duration
 * `replayed`), the cost, what replaying saved, the suspension, plugin errors, then one summary line.
 */
export function formatReports(reports: readonly RunReport[], io: CliIo): string {
  const c = palette(io.stdout, io.env);
  const out: string[] = [];
  for (const r of reports) {
    const status =
      r.status === "success"
        ? c.green(r.status)
        : r.status === "suspended"
          ? c.yellow(r.status)
          : c.red(r.status);
    const resumed = r.resumed ? " (resumed)" : "";
    out.push(`${c.bold(`Run ${r.runId}`)} (${r.pipeline}): ${status}${resumed} in ${duration(r.durationMs)}`);
    const rows: string[][] = [];
    const row = (s: StepReport, depth: number, label = s.name) =>
      rows.push([
        `${"  ".repeat(depth)}${label}`,
        s.replayed
          ? c.cyan(`${s.status} ↺`)
          : s.status === "success"
            ? c.green(s.status)
            : s.status === "skipped"
              ? c.dim(s.status)
              : s.status === "suspended"
                ? c.yellow(s.status)
                : c.red(s.status),
        s.children ? fanOut(s.children) : String(s.attempts.length),
        s.status === "skipped" ? "" : s.replayed && !s.children ? "replayed" : duration(s.durationMs),
        String(s.findings.length),
        String(s.artifacts.length),
        s.error === undefined || s.status === "suspended" ? "" : clip(describeError(s.error), 60),
      ]);
    const walk = (s: StepReport, depth: number) => {
      row(s, depth);
      const children = s.children ?? [];
      // A long map shows its failed or retried items only; the row above sums the rest up.
      const shown =
        children.length > 12
          ? children.filter((k) => k.status !== "success" || k.attempts.length > 1)
          : children;
      for (const child of shown) walk(child, depth + 1);
    };
    for (const s of r.steps) walk(s, 0);
    out.push(
      table(
        ["step", "status", "attempts / units", "duration", "findings", "files", "error"],
        rows,
        new Set([2, 3, 4, 5]),
      ),
    );
    if (r.resumed) {
      const replayed = countUnits(r.steps, (s) => s.replayed);
      const ran = countUnits(r.steps, (s) => !s.replayed && s.status !== "skipped");
      const saved = costText(r.savedCost);
      out.push(
        c.cyan(
          `resumed: ${replayed} unit(s) replayed, ${ran} ran${saved ? `; replaying saved ${saved}` : ""}`,
        ),
      );
    }
    const spent = costText(r.cost);
    if (spent) {
      const limit = r.budget
        ? ` (budget ${Object.entries(r.budget)
            .map(([u, a]) => `${a} ${u}`)
            .join(", ")})`
        : "";
      out.push(`cost: ${spent}${limit}`);
    }
    if (r.budgetExceeded !== undefined) out.push(c.red(describeError(r.budgetExceeded)));
    if (r.suspended)
      out.push(
        c.yellow(
          `suspended at ${r.suspended.unit}: ${r.suspended.reason} (approve: tapline approve ${r.runId} <module> [--config <file>] [--data <json>])`,
        ),
      );
    if (r.pluginErrors.length > 0)
      out.push(
        c.yellow(
          `${r.pluginErrors.length} plugin error(s): ${clip(r.pluginErrors.map(describeError).join("; "), 200)}`,
        ),
      );
    out.push("");
  }
  const ok = reports.filter((r) => r.status === "success").length;
  out.push(
    ok === reports.length
      ? c.green(`${ok}/${reports.length} run(s) succeeded`)
      : c.red(`${reports.length - ok}/${reports.length} run(s) did not succeed`),
  );
  return `${out.join("\n")}\n`;
}

/** Function units (leaves) matching `test`: a shape is counted through its units. */
function countUnits(steps: readonly StepReport[], test: (s: StepReport) => boolean): number {
  let n = 0;
  for (const s of steps) n += s.children ? countUnits(s.children, test) : test(s) ? 1 : 0;
  return n;
}
