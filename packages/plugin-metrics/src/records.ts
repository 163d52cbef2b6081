/** Record types of the `runs` stream (`<dir>/runs/YYYY-MM-DD.N.jsonl`), one JSON object per line. */

/** A validation finding a step record keeps (`ctx.finding()`, plugin-validate): redacted, bounded. */
export interface FindingRecord {
  /** The check's id, e.g. `audio.loudness`. */
  readonly check: string;
  readonly severity: "error" | "warning" | "info";
  /** At most 500 characters. */
  readonly message: string;
  /** The file it is about. */
  readonly file?: string;
  /** The attempt it came from, when that attempt was not the last (a rejected output that a retry replaced). */
  readonly attempt?: number;
}

/** A file a unit declared with `ctx.artifact()` (its last attempt's). */
export interface ArtifactRecord {
  /** Absolute path. */
  readonly path: string;
  /** `audio`, `video`, `text`... */
  readonly kind?: string;
  /** Bytes, when the file could be read when the step ended. */
  readonly size?: number;
}

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
  /**
   * The unit's size (`ctx.annotate("size", { value })`: seconds of audio, frames, tokens), when it reported
   * one: size-normalised regression rules read it, in a backtest too.
   */
  readonly size?: number;
  /** The unit's labels (the run's, plus the step's own), when it has any; redacted as every record is. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Its findings, when any: those of earlier attempts (with `attempt`), then the step's own. At most
   * {@link RECORD_LIMITS}`.findings`; the last ones are kept first.
   */
  readonly findings?: readonly FindingRecord[];
  /** Its artifacts, when any; at most {@link RECORD_LIMITS}`.artifacts`. */
  readonly artifacts?: readonly ArtifactRecord[];
  /** How many findings and artifacts were left out by the limits. */
  readonly omitted?: { readonly findings?: number; readonly artifacts?: number };
}

/** Bounds of what one step record carries, so one noisy step cannot bloat the runs stream. */
export const RECORD_LIMITS = { findings: 20, artifacts: 20, message: 500 } as const;

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
