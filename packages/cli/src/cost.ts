import { join } from "node:path";
import { loadMetrics } from "./readers.ts";

/** What one pipeline, or one step of it, cost over the selected records. */
export interface CostRow {
  /** `pipeline` for a pipeline's runs, `pipeline/step` (definition path, `scenes[]`) for a step's units. */
  readonly name: string;
  readonly kind: "run" | "step";
  /** Runs (or units) that recorded a cost. */
  readonly count: number;
  /** Totals by cost unit. */
  readonly cost: Readonly<Record<string, number>>;
}

/** Cost read from the run records: per pipeline, per step and in all, by cost unit. */
export interface CostSummary {
  /** Every run's cost together, by cost unit. */
  readonly total: Readonly<Record<string, number>>;
  /** Runs that recorded a cost. */
  readonly runs: number;
  /** One row per pipeline (its runs), then one per step (its units), by name. */
  readonly rows: readonly CostRow[];
}

/**
 * Sums the `cost` of the run and step records under `<dir>/runs` (what `@tapline/plugin-metrics` persists
 * from `report.cost`), with the same selection as `summarize` (`since`, `pipeline`). Streams the files: memory
 * stays flat. Torn lines are skipped (`summarize` counts them).
 */
export async function summarizeCost(
  dir: string,
  options: { since?: number; pipeline?: string } = {},
): Promise<CostSummary> {
  const { readJsonl } = await loadMetrics();
  const total: Record<string, number> = {};
  const rows = new Map<string, { kind: "run" | "step"; count: number; cost: Record<string, number> }>();
  let runs = 0;
  const add = (into: Record<string, number>, cost: Record<string, unknown>) => {
    for (const [unit, amount] of Object.entries(cost))
      if (typeof amount === "number" && Number.isFinite(amount)) into[unit] = (into[unit] ?? 0) + amount;
  };
  const fromDay =
    options.since === undefined ? undefined : new Date(options.since).toISOString().slice(0, 10);
  for await (const r of readJsonl(join(dir, "runs"), fromDay ? { fromDay } : {})) {
    if (r.t !== "run" && r.t !== "step") continue;
    const cost = r.cost;
    if (!cost || typeof cost !== "object" || Object.keys(cost).length === 0) continue;
    if (options.since !== undefined && typeof r.time === "number" && r.time < options.since) continue;
    if (options.pipeline !== undefined && r.pipeline !== options.pipeline) continue;
    const kind = r.t;
    const name = kind === "run" ? String(r.pipeline) : `${String(r.pipeline)}/${String(r.step)}`;
    const row = rows.get(`${kind} ${name}`) ?? { kind, count: 0, cost: {} };
    row.count++;
    add(row.cost, cost as Record<string, unknown>);
    rows.set(`${kind} ${name}`, row);
    if (kind === "run") {
      runs++;
      add(total, cost as Record<string, unknown>);
    }
  }
  const sorted = [...rows.entries()]
    .map(([key, row]) => ({ name: key.slice(key.indexOf(" ") + 1), ...row }))
    .sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : 1) : a.kind === "run" ? -1 : 1));
  return { total, runs, rows: sorted };
}

/** An amount for a table: `0.0263`, `1,180`. */
export function amount(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  if (Math.abs(n) >= 100) return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
  return String(Math.round(n * 1e4) / 1e4 || Number(n.toPrecision(2)));
}

/** Cost units in a stable order: `usd` first, then by name. */
export function costUnits(costs: readonly Readonly<Record<string, number>>[]): string[] {
  const units = new Set<string>();
  for (const c of costs) for (const u of Object.keys(c)) units.add(u);
  return [...units].sort((a, b) => (a === "usd" ? -1 : b === "usd" ? 1 : a < b ? -1 : 1));
}
