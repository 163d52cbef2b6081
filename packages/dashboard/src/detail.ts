import type { ExecutionView, RunDetail } from "./api-types.ts";
import { executionsOf, replayedOf } from "./executions.ts";
import { type RunEntry, summarize, unitTree } from "./model.ts";

/**
 * @internal A run's detail: the unit tree of its last execution, and for a resumed run its earlier
 * executions (each its own tree, with how it ended), so a replayed unit never stands beside the execution
 * it replays.
 */
export function runDetail(
  run: RunEntry,
  artifactUrl: (path: string) => string | undefined,
  interrupted?: ReadonlySet<string>,
): RunDetail {
  const executions = executionsOf(run.exec, run.units);
  const last = executions[executions.length - 1];
  const earlier: ExecutionView[] = executions.slice(0, -1).map(({ units, end }) => {
    const lastTime = units.reduce((m, u) => Math.max(m, u.time), 0);
    const firstStart = units.reduce(
      (m, u) => Math.min(m, u.time - (typeof u.durationMs === "number" ? u.durationMs : 0)),
      lastTime,
    );
    return {
      status: end?.status ?? "interrupted",
      time: end?.time ?? lastTime,
      durationMs: end?.durationMs ?? lastTime - firstStart,
      ...(end?.failedStep !== undefined && { failedStep: end.failedStep }),
      ...(end?.error !== undefined && { error: end.error }),
      units: unitTree(units, artifactUrl, replayedOf(run.exec)),
    };
  });
  return {
    ...summarize(run, interrupted),
    units: unitTree(last?.units ?? [], artifactUrl, replayedOf(run.exec)),
    ...(earlier.length > 0 && { earlier }),
  };
}
