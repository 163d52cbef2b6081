export type { ArtifactCheck, SavedArtifact } from "./artifacts.ts";
export { DurableStoreError, DurableValueError, RunLockedError } from "./errors.ts";
export type { DurableOptions } from "./options.ts";
export { durable, type UnitTree } from "./plugin.ts";
export { decode as decodeValue } from "./serialize.ts";
export { type SqliteStoreOptions, sqliteStore } from "./sqlite-store.ts";
export type { DurableStore, RunPatch, RunQuery, RunRow, SavedRunStatus, UnitRow } from "./store.ts";
