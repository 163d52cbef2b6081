import { describeError, type RunReport, redactSecrets, type StepReport } from "@tapline/core";

/** A run's report as the queue keeps it (JSON: readable from any process through `queue.get()`). */
export interface QueuedRunReport {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: RunReport["status"];
  readonly durationMs: number;
  /** The last step's output, when it is JSON data; absent otherwise. */
  readonly output?: unknown;
  readonly cost: Readonly<Record<string, number>>;
  readonly savedCost?: Readonly<Record<string, number>>;
  readonly resumed: boolean;
  readonly failedStep?: string;
  /** The error, one line, secrets redacted. */
  readonly error?: string;
  readonly suspended?: { readonly unit: string; readonly reason: string };
  /** Every unit: path, status, replayed, attempts. */
  readonly units: readonly { path: string; status: string; replayed: boolean; attempts: number }[];
  /** The worker that ran it. */
  readonly worker: string;
}

/** @internal */
export function summarize(report: RunReport, worker: string): QueuedRunReport {
  const units: QueuedRunReport["units"][number][] = [];
  const walk = (s: StepReport) => {
    units.push({ path: s.path, status: s.status, replayed: s.replayed, attempts: s.attempts.length });
    for (const c of s.children ?? []) walk(c);
  };
  for (const s of report.steps) walk(s);
  return {
    runId: report.runId,
    pipeline: report.pipeline,
    status: report.status,
    durationMs: report.durationMs,
    ...(report.status === "success" && isJson(report.output) && { output: report.output }),
    cost: report.cost,
    ...(report.savedCost && { savedCost: report.savedCost }),
    resumed: report.resumed,
    ...(report.failedStep !== undefined && { failedStep: report.failedStep }),
    ...(report.error !== undefined &&
      report.status !== "suspended" && { error: redactSecrets(describeError(report.error)) }),
    ...(report.suspended && { suspended: { unit: report.suspended.unit, reason: report.suspended.reason } }),
    units,
    worker,
  };
}

function isJson(value: unknown): boolean {
  try {
    return value === undefined || JSON.stringify(value).length < 1_000_000;
  } catch {
    return false;
  }
}
