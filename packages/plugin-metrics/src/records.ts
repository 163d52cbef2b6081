/** Record types of the `runs` stream (`<dir>/runs/YYYY-MM-DD.N.jsonl`), one JSON object per line. */

/** A finished step. */
export interface StepRecord {
  readonly t: "step";
  /** Epoch ms when the step ended. */
  readonly time: number;
  readonly runId: string;
  readonly pipeline: string;
  /** The step's definition path (`scenes[]` for a map's items). */
  readonly step: string;
  /** The unit's path with its index (`scenes[3]`), when it differs from `step`. */
  readonly path?: string;
  readonly status: "success" | "failed" | "cancelled" | "skipped" | "suspended";
  readonly durationMs: number;
  readonly attempts: number;
  /** Duration of each attempt, ms (only when there was more than one). */
  readonly attemptsMs?: readonly number[];
  readonly error?: string;
  /** What the unit cost, failed attempts included, when anything was recorded. */
  readonly cost?: Readonly<Record<string, number>>;
  /** Set when a durable store replayed the unit (a resumed run): it did not execute; `cost` is what it saved. */
  readonly replayed?: true;
}

/** A finished run. */
export interface RunRecord {
  readonly t: "run";
  readonly time: number;
  readonly runId: string;
  readonly pipeline: string;
  readonly status: "success" | "failed" | "cancelled" | "suspended";
  readonly durationMs: number;
  readonly failedStep?: string;
  readonly error?: string;
  /** What the run cost, by cost unit (`ctx.cost()`), when anything was recorded. */
  readonly cost?: Readonly<Record<string, number>>;
}

/** A standalone operation (`timed()`, `logOperation()`). */
export interface OperationRecord {
  readonly t: "op";
  readonly time: number;
  readonly operation: string;
  readonly subject?: string;
  readonly durationMs: number;
  readonly success: boolean;
  readonly error?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** Any record of the `runs` stream. */
export type ActivityRecord = StepRecord | RunRecord | OperationRecord;
