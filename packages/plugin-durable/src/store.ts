import type { RunStatus } from "@tapline/core";
import type { SavedArtifact } from "./artifacts.ts";

/** A run's status in the store: `running` while it runs, or when its process died (its lease then expires). */
export type SavedRunStatus = RunStatus | "running";

/** A run as the store keeps it. Values (`input`, `suspended`) are serialised text (devalue). */
export interface RunRow {
  readonly runId: string;
  readonly pipeline: string;
  /** The run's input, serialised. */
  readonly input: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly budget?: Readonly<Record<string, number>>;
  readonly status: SavedRunStatus;
  /** For a suspended run: `{ unit, reason, data }`, serialised. */
  readonly suspended?: string;
  /** The last execution's error message (redacted), for a failed or cancelled run. */
  readonly error?: string;
  /** What the run cost, by cost unit (its last execution). */
  readonly cost?: Readonly<Record<string, number>>;
  /** The last execution's unit tree (path, status, replayed, attempts, duration, artifacts), as JSON text. */
  readonly tree?: string;
  /** How many times the run was resumed. */
  readonly resumes: number;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Who holds the run (a running execution or a resumer) and until when (epoch ms). */
  readonly leaseHolder?: string;
  readonly leaseUntil?: number;
}

/** A unit's saved success. */
export interface UnitRow {
  readonly runId: string;
  /** The unit's path (`scenes[3]`). */
  readonly path: string;
  /** sha256 of the unit's serialised input: it replays only for the same input. */
  readonly inputHash: string;
  /** The output, serialised. */
  readonly output: string;
  readonly cost?: Readonly<Record<string, number>>;
  readonly artifacts?: readonly SavedArtifact[];
  readonly attempts: number;
  readonly durationMs: number;
  /** Epoch ms. */
  readonly savedAt: number;
}

/** What `listRuns` filters on. */
export interface RunQuery {
  readonly status?: SavedRunStatus;
  readonly pipeline?: string;
  /** Most rows returned, newest first. Default 100. */
  readonly limit?: number;
}

/** What may change on a run row. */
export type RunPatch = Partial<
  Pick<RunRow, "status" | "suspended" | "error" | "cost" | "tree" | "resumes" | "updatedAt">
> & {
  readonly clearSuspended?: boolean;
  /** Removes the saved error (a later execution that did not fail). */
  readonly clearError?: boolean;
};

/**
 * Where durable runs are kept. `sqliteStore()` is the embedded default; a store for many workers (Redis)
 * implements the same interface, and `durable({ store })` takes either. Every method may be synchronous or
 * return a promise.
 */
export interface DurableStore {
  /** A name for messages (the file, the Redis URL without credentials). */
  readonly location: string;
  /** Inserts a run (a run id used again replaces the old run and its units). */
  createRun(row: RunRow): void | Promise<void>;
  getRun(runId: string): RunRow | undefined | Promise<RunRow | undefined>;
  updateRun(runId: string, patch: RunPatch): void | Promise<void>;
  listRuns(query?: RunQuery): readonly RunRow[] | Promise<readonly RunRow[]>;
  /**
   * Takes the run's lease for `holder` until `until` (epoch ms) when nobody holds it, its holder's lease ran
   * out, or `holder` already holds it; returns the current holder and expiry when someone else does.
   */
  acquireLease(
    runId: string,
    holder: string,
    until: number,
    now: number,
  ):
    | { ok: true }
    | { ok: false; holder: string; until: number }
    | Promise<{ ok: true } | { ok: false; holder: string; until: number }>;
  /** Extends the leases `holder` holds on these runs. */
  renewLeases(runIds: readonly string[], holder: string, until: number): void | Promise<void>;
  releaseLease(runId: string, holder: string): void | Promise<void>;
  getUnit(runId: string, path: string): UnitRow | undefined | Promise<UnitRow | undefined>;
  putUnit(row: UnitRow): void | Promise<void>;
  listUnits(runId: string): readonly UnitRow[] | Promise<readonly UnitRow[]>;
  /**
   * Deletes runs (and their units) last updated before `before` (epoch ms), except runs whose lease is still
   * held; returns how many runs went.
   */
  prune(before: number, now: number): number | Promise<number>;
  close(): void | Promise<void>;
}
