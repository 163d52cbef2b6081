import type { Duration } from "@tapline/core/kit";
import type { ArtifactCheck } from "./artifacts.ts";
import type { DurableStore } from "./store.ts";

/** Options of the {@link durable} plugin. Every key is optional; an unknown key is an error naming it. */
export interface DurableOptions {
  /**
   * Where runs are kept. Default: `sqliteStore({ path: "<app dir>/durable.sqlite" })`. A store for many
   * workers (Redis) implements the same `DurableStore` interface.
   */
  store?: DurableStore;
  /** How long a run is kept after its last change; older runs are pruned at start and every hour. Default `"7d"`. */
  keep?: Duration;
  /**
   * Largest serialised unit output (and run input) kept, in bytes. A bigger one fails its unit with a
   * `TAPLINE_ERR_DURABLE_VALUE` error that says to return a file path instead. Default 1 MiB.
   */
  maxOutputBytes?: number;
  /**
   * How a replayed unit's artifacts (`ctx.artifact()`) are checked first: `"hash"` (default: the file exists
   * with the same size and sha256) or `"size"` (exists, same size; cheaper for big renders). A file that
   * fails the check makes the unit run again.
   */
  verifyArtifacts?: ArtifactCheck;
  /**
   * How long a run's holder (its execution, or a resumer) keeps the run without renewing: a second resumer
   * gets `TAPLINE_ERR_RUN_LOCKED` meanwhile; the lease of a process that died (`kill -9`) runs out after this.
   * Renewed every third of it. Default `"30s"`.
   */
  leaseTtl?: Duration;
  /** `sync` of the default SQLite store (ignored with `store`): see `SqliteStoreOptions.sync`. Default `"normal"`. */
  sync?: "normal" | "full";
}
