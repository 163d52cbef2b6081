import { join } from "node:path";
import { redactSecrets } from "@tapline/core";
import type { RunSummary } from "./api-types.ts";
import { newExecutions } from "./executions.ts";
import {
  costOf,
  DashboardModel,
  matches,
  type RunEntry,
  type RunFilter,
  summarize,
  type UnitRecord,
} from "./model.ts";
import { FolderTail } from "./tail.ts";

// Runs older than the ones kept in memory are read back from the files on demand, streaming: memory holds one
// page, whatever the history's length. The files are read with the same tail that follows them (chunked,
// torn last line skipped), not with plugin-metrics' `readJsonl`: importing that package's main entry costs
// the server 41 MB of resident memory (pino, prom-client, systeminformation) for one function.

const RUN_FILES = /^\d{4}-\d{2}-\d{2}\.\d+\.jsonl$/;

/** Every record of `<dir>/runs`, oldest file first, one at a time. */
async function scan(dir: string, onRecord: (r: Record<string, unknown>) => void): Promise<void> {
  await new FolderTail(join(dir, "runs"), RUN_FILES).poll(onRecord);
}

/** @internal A page of runs read from the files: the newest `limit` matching runs that ended before `before`. */
export async function readRunsFromFiles(dir: string, filter: RunFilter): Promise<RunSummary[]> {
  const page: RunEntry[] = [];
  const steps = new Map<string, number>();
  await scan(dir, (r) => {
    if (r.t === "step" && typeof r.runId === "string") steps.set(r.runId, (steps.get(r.runId) ?? 0) + 1);
    if (r.t !== "run" || typeof r.runId !== "string" || typeof r.pipeline !== "string") return;
    const run = entryOf(r as UnitRecord);
    if (!matches(run, filter)) return;
    // A resumed run has a record per execution: the page keeps its last.
    const again = page.findIndex((p) => p.runId === run.runId);
    if (again >= 0) page.splice(again, 1);
    page.push(run);
    if (page.length > filter.limit * 4) page.splice(0, page.length - filter.limit);
    if (steps.size > 100_000) steps.clear(); // bounded: the count is cosmetic for paged runs
  });
  return page
    .slice(-filter.limit)
    .map((run) => ({ ...summarize(run), steps: steps.get(run.runId) ?? 0 }))
    .sort((a, b) => b.time - a.time);
}

/** @internal One run and its units, read from the files (a run no longer in memory). */
export async function readRunFromFiles(dir: string, runId: string): Promise<RunEntry | undefined> {
  // The same model the live pages use, for this one run: its executions and replayed units alike.
  const model = new DashboardModel(dir, 1);
  await scan(dir, (r) => {
    if (r.runId === runId) model.addActivity(r); // redacted by unitTree on the way out
  });
  return model.run(runId);
}

function entryOf(r: UnitRecord): RunEntry {
  const durationMs = typeof r.durationMs === "number" ? r.durationMs : 0;
  return {
    runId: r.runId,
    pipeline: r.pipeline,
    status: typeof r.status === "string" ? r.status : "failed",
    time: r.time,
    startTime: r.time - durationMs,
    durationMs,
    ...(typeof r.failedStep === "string" && { failedStep: redactSecrets(r.failedStep) }),
    ...(typeof r.error === "string" && { error: redactSecrets(r.error) }),
    ...(costOf(r.cost) && { cost: costOf(r.cost)! }),
    units: [],
    exec: newExecutions(),
  };
}
