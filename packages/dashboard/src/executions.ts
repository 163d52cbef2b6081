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

/**
 * @internal The executions of one run, built record by record. Every field is made when first needed: most
 * runs are executed once and replay nothing, and the server reads thousands of them (a Map per run was
 * +10 MB of resident memory while reading the bench's 10,000 runs).
 */
export interface RunExecutions {
  /** Index into the run's units where each execution after the first begins. */
  later?: number[];
  /** How each execution ended, by its index; missing while it runs (or when its process died). */
  ends?: (ExecutionEnd | undefined)[];
  /** Units of the run that were replayed: records flagged `replayed`, and shapes whose units all were. */
  replayed?: Set<object>;
  /** Paths of the current execution → replayed, once it has more than {@link SCAN} units (scanned below). */
  index?: Map<string, boolean>;
}

/** @internal */
export const newExecutions = (): RunExecutions => ({});

const SCAN = 32;
const NONE: ReadonlySet<object> = new Set();
/** @internal The run's replayed units. */
export const replayedOf = (e: RunExecutions): ReadonlySet<object> => e.replayed ?? NONE;

const parentOf = (path: string): string | undefined => {
  const m = /^(.*)(?:\.[^.[\]]+|\[\d+\])$/.exec(path);
  return m?.[1] ? m[1] : undefined;
};
const pathOf = (r: Record<string, unknown>): string =>
  typeof r.path === "string" ? r.path : typeof r.step === "string" ? r.step : "?";
const startOf = (e: RunExecutions): number => e.later?.[e.later.length - 1] ?? 0;
const startsOf = (e: RunExecutions): number[] => [0, ...(e.later ?? [])];

/**
 * @internal Files a unit record, about to be appended to the run's `units`, and returns whether it was
 * replayed. A record flagged `replayed` was; a shape's record (no attempt of its own) was when every unit
 * inside it was. A path seen again in the same execution means a new execution began without the last
 * one's run record (its process died, then the run was resumed).
 */
export function fileUnit(
  e: RunExecutions,
  record: Record<string, unknown>,
  units: readonly Record<string, unknown>[],
): boolean {
  const path = pathOf(record);
  let start = startOf(e);
  if (units.length - start > SCAN && !e.index) {
    e.index = new Map();
    for (let i = start; i < units.length; i++) e.index.set(pathOf(units[i]!), replayedOf(e).has(units[i]!));
  }
  let again = e.index ? e.index.has(path) : false;
  for (let i = start; !e.index && !again && i < units.length; i++) again = pathOf(units[i]!) === path;
  if (again) {
    e.later ??= [];
    e.later.push(units.length);
    e.index = undefined;
    start = units.length;
  }
  let replayed = record.replayed === true;
  if (!replayed && record.attempts === 0 && e.replayed) {
    // A shape of a run that replayed something: replayed when every unit inside it was.
    let inside = 0;
    let all = true;
    if (e.index)
      for (const [p, r] of e.index) {
        if (parentOf(p) !== path) continue;
        inside++;
        all &&= r;
      }
    else
      for (let i = start; i < units.length; i++) {
        if (parentOf(pathOf(units[i]!)) !== path) continue;
        inside++;
        all &&= e.replayed.has(units[i]!);
      }
    replayed = inside > 0 && all;
  }
  e.index?.set(path, replayed);
  if (replayed) {
    e.replayed ??= new Set();
    e.replayed.add(record);
  }
  return replayed;
}

/** @internal Whether the unit at `index` (just filed) is the first of its execution. */
export const beganExecution = (e: RunExecutions, index: number): boolean => startOf(e) === index;

/** @internal Ends the current execution (a run record arrived at `index`, the units' count). */
export function endExecution(e: RunExecutions, end: ExecutionEnd, index: number): void {
  e.later ??= [];
  e.ends ??= [];
  e.ends[e.later.length] = end;
  e.later.push(index);
  e.index = undefined;
}

/** @internal How many executions have units or an end (without copying the units, unlike {@link executionsOf}). */
export function executionCount(e: RunExecutions, units: number): number {
  if (!e.later) return units > 0 ? 1 : 0;
  const starts = startsOf(e);
  let n = 0;
  for (let i = 0; i < starts.length; i++) if ((starts[i + 1] ?? units) > starts[i]! || e.ends?.[i]) n++;
  return n;
}

/** @internal The executions that have units or an end, oldest first: their records and end. */
export function executionsOf<T>(
  e: RunExecutions,
  units: readonly T[],
): { readonly units: readonly T[]; readonly end: ExecutionEnd | undefined }[] {
  const starts = startsOf(e);
  const out: { units: readonly T[]; end: ExecutionEnd | undefined }[] = [];
  for (let i = 0; i < starts.length; i++) {
    const slice = units.slice(starts[i], starts[i + 1] ?? units.length);
    if (slice.length > 0 || e.ends?.[i]) out.push({ units: slice, end: e.ends?.[i] });
  }
  return out;
}
