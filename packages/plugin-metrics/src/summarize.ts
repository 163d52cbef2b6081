import { join } from "node:path";
import type { LogCollapsingLowestDenseDDSketch } from "@datadog/sketches-js";
import { MetricsReadError } from "./errors.ts";
import { dayOf } from "./jsonl-files.ts";
import { type JsonlWarning, readJsonl } from "./jsonl-reader.ts";
import { newSketch, quantile } from "./windowed-sketch.ts";

/** A point in time: a `Date`, epoch ms, or an ISO string. */
export type TimeInput = Date | number | string;

/** Options of {@link summarize}. */
export interface SummarizeOptions {
  /** Only records that ended at or after this time. */
  since?: TimeInput;
  /** Only records that ended before this time. */
  until?: TimeInput;
  /** Only this pipeline's runs and steps (standalone operations are then left out). */
  pipeline?: string;
  /** Called for each torn or corrupt line skipped. Default: nothing (they are counted in `skippedLines`). */
  onWarning?: (warning: JsonlWarning) => void;
}

/** Totals of one operation (a pipeline run, a pipeline step, or a standalone operation). Durations in ms. */
export interface OperationSummary {
  readonly kind: "run" | "step" | "operation";
  /** `pipeline` for runs, `pipeline/step` for steps, the operation's name otherwise. */
  readonly name: string;
  readonly count: number;
  readonly successes: number;
  readonly failures: number;
  /** Cancelled (runs and steps) and skipped steps. */
  readonly other: number;
  readonly successRate: number;
  readonly failureRate: number;
  readonly avgMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Most frequent error messages, at most 5. */
  readonly topErrors: readonly { readonly message: string; readonly count: number }[];
}

/** What {@link summarize} returns. */
export interface Summary {
  /** Epoch ms of the first and last record counted (0 when none). */
  readonly from: number;
  readonly to: number;
  /** Records counted. */
  readonly records: number;
  /** Torn or corrupt lines skipped. */
  readonly skippedLines: number;
  readonly runs: {
    readonly count: number;
    readonly successes: number;
    readonly failures: number;
    readonly successRate: number;
    readonly failureRate: number;
  };
  /** Per operation, most frequent first. */
  readonly operations: readonly OperationSummary[];
  /** Most frequent errors across everything, at most 10. */
  readonly topErrors: readonly {
    readonly operation: string;
    readonly message: string;
    readonly count: number;
  }[];
}

interface Acc {
  kind: OperationSummary["kind"];
  name: string;
  sketch: LogCollapsingLowestDenseDDSketch;
  ok: number;
  failed: number;
  other: number;
  errors: Map<string, number>;
}

const MAX_ERRORS = 100;

/**
 * Totals, success and failure rates, average and percentile durations per operation, failure counts and top
 * errors, computed by streaming `<dir>/runs/*.jsonl` one record at a time (DDSketch per operation, so
 * memory does not grow with the number of records). Works on the files of a stopped app; this is what
 * `tapline metrics` prints.
 *
 * @example
 * const s = await summarize(".tapline", { since: Date.now() - 86_400_000, pipeline: "story" });
 * for (const op of s.operations) console.log(op.name, op.count, op.p95Ms);
 */
export async function summarize(dir: string, options: SummarizeOptions = {}): Promise<Summary> {
  const since = toMs(options.since, "since");
  const until = toMs(options.until, "until");
  if (since !== undefined && until !== undefined && since > until) {
    throw new MetricsReadError({
      path: dir,
      reason: `summarize: "since" (${new Date(since).toISOString()}) is after "until" (${new Date(until).toISOString()})`,
    });
  }
  const pipeline = options.pipeline;
  const ops = new Map<string, Acc>();
  let skipped = 0;
  let records = 0;
  let from = 0;
  let to = 0;
  const runs = { count: 0, successes: 0, failures: 0 };
  const folder = join(dir, "runs");
  const source = readJsonl(folder, {
    ...(since !== undefined && { fromDay: dayOf(since) }),
    // A file of day D holds records that ended on D, or just before D when a batch was flushed after midnight.
    ...(until !== undefined && { toDay: dayOf(until + 3_600_000) }),
    onWarning: (w) => {
      skipped++;
      options.onWarning?.(w);
    },
  });
  for await (const r of source) {
    const time = r.time;
    if (typeof time !== "number") continue;
    if (since !== undefined && time < since) continue;
    if (until !== undefined && time >= until) continue;
    let kind: Acc["kind"];
    let name: string;
    let status: string;
    if (r.t === "step" || r.t === "run") {
      if (typeof r.pipeline !== "string") continue;
      if (pipeline !== undefined && r.pipeline !== pipeline) continue;
      kind = r.t;
      name = r.t === "step" ? `${r.pipeline}/${String(r.step)}` : r.pipeline;
      status = String(r.status);
    } else if (r.t === "op") {
      if (pipeline !== undefined || typeof r.operation !== "string") continue;
      kind = "operation";
      name = r.operation;
      status = r.success === true ? "success" : "failed";
    } else continue;
    records++;
    if (from === 0 || time < from) from = time;
    if (time > to) to = time;
    const id = `${kind}\u0000${name}`;
    let acc = ops.get(id);
    if (!acc) {
      acc = { kind, name, sketch: newSketch(), ok: 0, failed: 0, other: 0, errors: new Map() };
      ops.set(id, acc);
    }
    if (status === "skipped") {
      acc.other++;
      continue;
    }
    const duration = typeof r.durationMs === "number" && r.durationMs > 0 ? r.durationMs : 0;
    acc.sketch.accept(duration);
    if (status === "success") acc.ok++;
    else if (status === "failed") {
      acc.failed++;
      const message = typeof r.error === "string" ? r.error : "error";
      if (acc.errors.has(message) || acc.errors.size < MAX_ERRORS)
        acc.errors.set(message, (acc.errors.get(message) ?? 0) + 1);
    } else acc.other++;
    if (kind === "run") {
      runs.count++;
      if (status === "success") runs.successes++;
      else if (status === "failed") runs.failures++;
    }
  }
  const operations: OperationSummary[] = [];
  const allErrors: { operation: string; message: string; count: number }[] = [];
  for (const acc of ops.values()) {
    const count = acc.ok + acc.failed + acc.other;
    const timed = acc.sketch.count;
    const q = (p: number) => (timed > 0 ? quantile(acc.sketch, p) : 0);
    const errors = [...acc.errors.entries()].sort((a, b) => b[1] - a[1]);
    for (const [message, n] of errors) allErrors.push({ operation: acc.name, message, count: n });
    operations.push({
      kind: acc.kind,
      name: acc.name,
      count,
      successes: acc.ok,
      failures: acc.failed,
      other: acc.other,
      successRate: count > 0 ? acc.ok / count : 0,
      failureRate: count > 0 ? acc.failed / count : 0,
      avgMs: timed > 0 ? acc.sketch.sum / timed : 0,
      minMs: timed > 0 ? acc.sketch.min : 0,
      maxMs: timed > 0 ? acc.sketch.max : 0,
      p50Ms: q(0.5),
      p90Ms: q(0.9),
      p95Ms: q(0.95),
      p99Ms: q(0.99),
      topErrors: errors.slice(0, 5).map(([message, n]) => ({ message, count: n })),
    });
  }
  operations.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  allErrors.sort((a, b) => b.count - a.count);
  return {
    from,
    to,
    records,
    skippedLines: skipped,
    runs: {
      ...runs,
      successRate: runs.count > 0 ? runs.successes / runs.count : 0,
      failureRate: runs.count > 0 ? runs.failures / runs.count : 0,
    },
    operations,
    topErrors: allErrors.slice(0, 10),
  };
}

function toMs(value: TimeInput | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new MetricsReadError({
      path: String(value),
      reason: `summarize: "${what}" must be a Date, epoch ms or an ISO date string`,
    });
  }
  return ms;
}
