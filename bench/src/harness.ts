import { Bench } from "tinybench";

/** One contender in a comparison. */
export interface Case {
  name: string;
  fn: () => unknown;
}

/** A row of a printed comparison: median ns/op and the ratio to the baseline row. */
export interface Row {
  name: string;
  nsPerOp: number;
  ratio: number;
}

/**
 * Runs every case side by side in this process (tinybench, interleaved warm-up, then timed runs) and prints
 * the median ns/op of each with its ratio to `baseline` (default: the first case). Medians only: these
 * machines are shared, so absolute figures wander; ratios within one run are what to compare.
 */
export async function compare(
  title: string,
  cases: Case[],
  options: {
    baseline?: string;
    time?: number;
    iterations?: number;
    warmupIterations?: number;
    opsPerCall?: number;
  } = {},
): Promise<Row[]> {
  const bench = new Bench({
    time: options.time ?? 700,
    ...(options.iterations !== undefined && { iterations: options.iterations }),
    warmupTime: 200,
    ...(options.warmupIterations !== undefined && { warmupIterations: options.warmupIterations }),
    warmup: true,
  });
  for (const c of cases) bench.add(c.name, c.fn);
  await bench.run();
  const perOp = options.opsPerCall ?? 1;
  const medians = new Map<string, number>();
  for (const task of bench.tasks) {
    const result = task.result as { state?: string; latency?: { p50: number }; error?: unknown };
    if (!result.latency)
      throw new Error(`bench case "${task.name}" failed: ${String(result.error ?? result.state)}`);
    medians.set(task.name, (result.latency.p50 * 1e6) / perOp);
  }
  const baseName = options.baseline ?? cases[0]!.name;
  const base = medians.get(baseName)!;
  const rows = cases.map((c) => ({
    name: c.name,
    nsPerOp: medians.get(c.name)!,
    ratio: medians.get(c.name)! / base,
  }));
  printTable(title, rows, baseName);
  return rows;
}

export function printTable(title: string, rows: Row[], baseline: string): void {
  const width = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\n## ${title}\n`);
  console.log(`| ${"case".padEnd(width)} | median ns/op | ratio vs ${baseline} |`);
  console.log(`|${"-".repeat(width + 2)}|-------------:|------:|`);
  for (const r of rows) {
    console.log(`| ${r.name.padEnd(width)} | ${r.nsPerOp.toFixed(1).padStart(12)} | ${r.ratio.toFixed(2)} |`);
  }
}

/** Prints a line of derived figures (targets, ratios between non-baseline rows). */
export function note(line: string): void {
  console.log(`- ${line}`);
}
