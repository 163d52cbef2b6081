import { createError } from "@tapline/core";

/** Another resumer (this process or another) holds the run's lease. */
export const RunLockedError = createError(
  "TAPLINE_ERR_RUN_LOCKED",
  "RunLockedError",
  (p: { runId: string; holder: string; untilMs: number }) =>
    `run "${p.runId}" is held by another resumer (${p.holder}) for ${Math.max(0, Math.ceil((p.untilMs - Date.now()) / 1000))} s more: wait for it to finish; if that process died, its lease expires and the run can be resumed then`,
  "wait for the other resumer; a dead holder's lease expires after the lease ttl",
);
export type RunLockedError = InstanceType<typeof RunLockedError>;

/** A unit's output (or a run's input) cannot be kept: not serialisable, or over `maxOutputBytes`. */
export const DurableValueError = createError(
  "TAPLINE_ERR_DURABLE_VALUE",
  "DurableValueError",
  (p: { what: string; why: string }) =>
    `durable: ${p.what} cannot be saved: ${p.why}; return plain data (objects, arrays, strings, numbers, Date, Map, Set, BigInt, bytes) or write big results to a file and return its path (ctx.artifact(path))`,
  "return serialisable data, or a file path (declared with ctx.artifact) instead of a big value",
);
export type DurableValueError = InstanceType<typeof DurableValueError>;

/** The store file cannot be opened or read: not a database, corrupt, or an unwritable place. */
export const DurableStoreError = createError(
  "TAPLINE_ERR_DURABLE_STORE",
  "DurableStoreError",
  (p: { file: string; why: string; cause?: unknown }) => `durable store ${p.file}: ${p.why}`,
  "check the file and its directory; a corrupt file can be moved aside (a new store starts empty)",
);
export type DurableStoreError = InstanceType<typeof DurableStoreError>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_RUN_LOCKED: RunLockedError;
    TAPLINE_ERR_DURABLE_VALUE: DurableValueError;
    TAPLINE_ERR_DURABLE_STORE: DurableStoreError;
  }
}
