// A durable run (`@tapline/plugin-durable`) can be executed several times under one run id: it failed, was
// suspended or its process died, then `app.resume()` ran it again, replaying the units whose saved results
// held. The runs stream then holds every execution's records one after the other; this splits them again and
// says which units were replayed (not executed), so no page shows a replay as a 0 ms execution.

/** @internal How one execution of a run ended (its run record). */
export interface ExecutionEnd {
  readonly status: string;
  readonly time: number;
  readonly durationMs: number;
  readonly failedStep?: string;
  readonly error?: string;
}

/** @internal The executions of one run, built record by record. */
export interface RunExecutions {
  /** Index into the run's units where each execution begins (the first is 0). */
  readonly starts: number[];
  /** How each execution ended; undefined while it runs (or when its process died). */
  readonly ends: (ExecutionEnd | undefined)[];
  /** Units of the run that were replayed: records flagged `replayed`, and shapes whose units all were. */
  readonly replayed: Set<object>;
  /** Paths seen in the current execution → replayed. */
  current: Map<string, boolean>;
}

/** @internal */
export const newExecutions = (): RunExecutions => ({
  starts: [0],
  ends: [undefined],
  replayed: new Set(),
  current: new Map(),
});

const parentOf = (path: string): string | undefined => {
  const m = /^(.*)(?:\.[^.[\]]+|\[\d+\])$/.exec(path);
  return m?.[1] ? m[1] : undefined;
};

function next(e: RunExecutions, at: number): void {
  e.starts.push(at);
  e.ends.push(undefined);
  e.current = new Map();
}

/**
 * @internal Files a unit record (about to be appended at `index` of the run's units) and returns whether it was
 * replayed. A record flagged `replayed` was; a shape's record (no attempt of its own) was when every unit
 * inside it was. A path seen again in the same execution means a new execution began without the last
 * one's run record (its process died, then the run was resumed).
 */
export function fileUnit(e: RunExecutions, record: Record<string, unknown>, index: number): boolean {
  const path =
    typeof record.path === "string" ? record.path : typeof record.step === "string" ? record.step : "?";
  if (e.current.has(path)) next(e, index);
  let replayed = record.replayed === true;
  if (!replayed && record.attempts === 0) {
    let units = 0;
    let all = true;
    for (const [p, r] of e.current) {
      if (parentOf(p) !== path) continue;
      units++;
      if (!r) all = false;
    }
    replayed = units > 0 && all;
  }
  e.current.set(path, replayed);
  if (replayed) e.replayed.add(record);
  return replayed;
}

/** @internal Ends the current execution (a run record arrived at `index`, the units' count). */
export function endExecution(e: RunExecutions, end: ExecutionEnd, index: number): void {
  e.ends[e.ends.length - 1] = end;
  next(e, index);
}

/** @internal How many executions have units or an end (without copying the units, unlike {@link executionsOf}). */
export function executionCount(e: RunExecutions, units: number): number {
  let n = 0;
  for (let i = 0; i < e.starts.length; i++) if ((e.starts[i + 1] ?? units) > e.starts[i]! || e.ends[i]) n++;
  return n;
}

/** @internal The executions that have units or an end, oldest first: their records and end. */
export function executionsOf<T>(
  e: RunExecutions,
  units: readonly T[],
): { readonly units: readonly T[]; readonly end: ExecutionEnd | undefined }[] {
  const out: { units: readonly T[]; end: ExecutionEnd | undefined }[] = [];
  for (let i = 0; i < e.starts.length; i++) {
    const slice = units.slice(e.starts[i], e.starts[i + 1] ?? units.length);
    if (slice.length > 0 || e.ends[i]) out.push({ units: slice, end: e.ends[i] });
  }
  return out;
}
