import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { DurableStoreError } from "./errors.ts";
import type { DurableStore, RunPatch, RunQuery, RunRow, UnitRow } from "./store.ts";

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file. Default: `durable.sqlite` in the app's data dir (`durable()` fills it in). */
  path: string;
  /**
   * What a committed save survives. `"normal"` (default): a crash of the process (`kill -9`) loses nothing
   * committed; a power loss or OS crash may lose the last saves (SQLite WAL, `synchronous=NORMAL`).
   * `"full"`: every save is on disk before the unit ends (`synchronous=FULL`, an fsync per save), so power
   * loss loses nothing committed either, at the price of that fsync.
   */
  sync?: "normal" | "full";
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, input TEXT NOT NULL, labels TEXT, budget TEXT,
  status TEXT NOT NULL, suspended TEXT, error TEXT, cost TEXT, tree TEXT, resumes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, lease_holder TEXT, lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS runs_updated ON runs(updated_at);
CREATE TABLE IF NOT EXISTS units (
  run_id TEXT NOT NULL, path TEXT NOT NULL, input_hash TEXT NOT NULL, output TEXT NOT NULL, cost TEXT,
  artifacts TEXT, attempts INTEGER NOT NULL, duration_ms REAL NOT NULL, saved_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
`;

/**
 * The embedded durable store: one SQLite file through `node:sqlite` (no native dependency), WAL journal,
 * safe for several processes on one machine (the CLI reading while the app runs). Throws a
 * `DurableStoreError` naming the file when it cannot be opened (an unwritable directory, not a database,
 * a corrupt file); the file itself is never rewritten or deleted.
 */
export function sqliteStore(options: SqliteStoreOptions): DurableStore {
  const file = resolve(options.path);
  const db = open(file, options.sync ?? "normal");
  const cache = new Map<string, StatementSync>();
  const stmt = (sql: string): StatementSync => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const guard = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      throw new DurableStoreError(
        { file, why: `${what} failed: ${(error as Error).message}` },
        { cause: error },
      );
    }
  };
  let closed = false;

  return {
    location: file,
    createRun(row) {
      guard("saving the run", () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          stmt("DELETE FROM units WHERE run_id = ?").run(row.runId);
          stmt(
            `INSERT OR REPLACE INTO runs (run_id, pipeline, input, labels, budget, status, suspended, error, cost, tree,
              resumes, created_at, updated_at, lease_holder, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            row.runId,
            row.pipeline,
            row.input,
            json(row.labels),
            json(row.budget),
            row.status,
            row.suspended ?? null,
            row.error ?? null,
            json(row.cost),
            row.tree ?? null,
            row.resumes,
            row.createdAt,
            row.updatedAt,
            row.leaseHolder ?? null,
            row.leaseUntil ?? null,
          );
          db.exec("COMMIT");
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      });
    },
    getRun(runId) {
      return guard("reading the run", () => {
        const r = stmt("SELECT * FROM runs WHERE run_id = ?").get(runId);
        return r ? runOf(r) : undefined;
      });
    },
    updateRun(runId, patch: RunPatch) {
      guard("updating the run", () => {
        const sets: string[] = [];
        const values: (string | number | null)[] = [];
        const set = (column: string, value: string | number | null) => {
          sets.push(`${column} = ?`);
          values.push(value);
        };
        if (patch.status !== undefined) set("status", patch.status);
        if (patch.suspended !== undefined) set("suspended", patch.suspended);
        else if (patch.clearSuspended) set("suspended", null);
        if (patch.error !== undefined) set("error", patch.error);
        else if (patch.clearError) set("error", null);
        if (patch.cost !== undefined) set("cost", json(patch.cost));
        if (patch.tree !== undefined) set("tree", patch.tree);
        if (patch.resumes !== undefined) set("resumes", patch.resumes);
        set("updated_at", patch.updatedAt ?? Date.now());
        stmt(`UPDATE runs SET ${sets.join(", ")} WHERE run_id = ?`).run(...values, runId);
      });
    },
    listRuns(query: RunQuery = {}) {
      return guard("listing runs", () => {
        const where: string[] = [];
        const values: string[] = [];
        if (query.status) {
          where.push("status = ?");
          values.push(query.status);
        }
        if (query.pipeline) {
          where.push("pipeline = ?");
          values.push(query.pipeline);
        }
        const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY updated_at DESC LIMIT ?`;
        return stmt(sql)
          .all(...values, query.limit ?? 100)
          .map(runOf);
      });
    },
    acquireLease(runId, holder, until, now) {
      return guard("taking the run's lease", () => {
        const changed = stmt(
          `UPDATE runs SET lease_holder = ?, lease_until = ?
           WHERE run_id = ? AND (lease_holder IS NULL OR lease_until IS NULL OR lease_until < ? OR lease_holder = ?)`,
        ).run(holder, until, runId, now, holder).changes;
        if (Number(changed) === 1) return { ok: true as const };
        const r = stmt("SELECT lease_holder, lease_until FROM runs WHERE run_id = ?").get(runId) as
          | { lease_holder: string | null; lease_until: number | null }
          | undefined;
        return { ok: false as const, holder: r?.lease_holder ?? "unknown", until: r?.lease_until ?? now };
      });
    },
    renewLeases(runIds, holder, until) {
      guard("renewing leases", () => {
        const s = stmt("UPDATE runs SET lease_until = ? WHERE run_id = ? AND lease_holder = ?");
        for (const id of runIds) s.run(until, id, holder);
      });
    },
    releaseLease(runId, holder) {
      guard("releasing the run's lease", () => {
        stmt(
          "UPDATE runs SET lease_holder = NULL, lease_until = NULL WHERE run_id = ? AND lease_holder = ?",
        ).run(runId, holder);
      });
    },
    getUnit(runId, path) {
      return guard("reading a saved unit", () => {
        const r = stmt("SELECT * FROM units WHERE run_id = ? AND path = ?").get(runId, path);
        return r ? unitOf(r) : undefined;
      });
    },
    putUnit(row: UnitRow) {
      guard(`saving unit "${row.path}"`, () => {
        stmt(
          `INSERT OR REPLACE INTO units (run_id, path, input_hash, output, cost, artifacts, attempts, duration_ms, saved_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          row.runId,
          row.path,
          row.inputHash,
          row.output,
          json(row.cost),
          row.artifacts && row.artifacts.length > 0 ? JSON.stringify(row.artifacts) : null,
          row.attempts,
          row.durationMs,
          row.savedAt,
        );
      });
    },
    listUnits(runId) {
      return guard("listing saved units", () =>
        stmt("SELECT * FROM units WHERE run_id = ? ORDER BY saved_at").all(runId).map(unitOf),
      );
    },
    prune(before, now) {
      return guard("pruning", () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const old = "updated_at < ? AND (lease_holder IS NULL OR lease_until < ?)";
          stmt(`DELETE FROM units WHERE run_id IN (SELECT run_id FROM runs WHERE ${old})`).run(before, now);
          const n = stmt(`DELETE FROM runs WHERE ${old}`).run(before, now).changes;
          db.exec("COMMIT");
          return Number(n);
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      });
    },
    close() {
      if (closed) return;
      closed = true;
      cache.clear();
      db.close();
    },
  };
}

type Row = Record<string, unknown>;

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function runOf(r: Row): RunRow {
  return {
    runId: r.run_id as string,
    pipeline: r.pipeline as string,
    input: r.input as string,
    ...(r.labels != null && { labels: JSON.parse(r.labels as string) }),
    ...(r.budget != null && { budget: JSON.parse(r.budget as string) }),
    status: r.status as RunRow["status"],
    ...(r.suspended != null && { suspended: r.suspended as string }),
    ...(r.error != null && { error: r.error as string }),
    ...(r.cost != null && { cost: JSON.parse(r.cost as string) }),
    ...(r.tree != null && { tree: r.tree as string }),
    resumes: Number(r.resumes),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    ...(r.lease_holder != null && { leaseHolder: r.lease_holder as string }),
    ...(r.lease_until != null && { leaseUntil: Number(r.lease_until) }),
  };
}

function unitOf(r: Row): UnitRow {
  return {
    runId: r.run_id as string,
    path: r.path as string,
    inputHash: r.input_hash as string,
    output: r.output as string,
    ...(r.cost != null && { cost: JSON.parse(r.cost as string) }),
    ...(r.artifacts != null && { artifacts: JSON.parse(r.artifacts as string) }),
    attempts: Number(r.attempts),
    durationMs: Number(r.duration_ms),
    savedAt: Number(r.saved_at),
  };
}

function open(file: string, sync: "normal" | "full"): DatabaseSync {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw new DurableStoreError(
      {
        file,
        why: `cannot create its directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): choose a writable dir`,
      },
      { cause: error },
    );
  }
  const { DatabaseSync } = loadSqlite();
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file);
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
    db.exec(SCHEMA);
    // A truncated or damaged file can open and fail later: check its structure once, now.
    const check = db.prepare("PRAGMA quick_check").get() as { quick_check?: string } | undefined;
    if (check && check.quick_check !== "ok") throw new Error(`integrity check: ${check.quick_check}`);
    return db;
  } catch (error) {
    try {
      db?.close();
    } catch {}
    const message = (error as Error).message;
    const why = /not a database|malformed|integrity/i.test(message)
      ? `the file is not a SQLite database or is damaged (${message}): it was left as it is; move it aside to start a new store, or restore it from a backup`
      : /readonly|read-only|unable to open|permission|access/i.test(message)
        ? `cannot open it for writing (${message}): choose a writable dir (createTapline({ dir }) or sqliteStore({ path }))`
        : message;
    throw new DurableStoreError({ file, why }, { cause: error });
  }
}

let sqlite: typeof import("node:sqlite") | undefined;

/**
 * Loads `node:sqlite` synchronously, without its one-time ExperimentalWarning (Node 22 prints it; the module
 * is a release candidate from Node 24.15): only that warning is dropped, every other one goes through.
 */
function loadSqlite(): typeof import("node:sqlite") {
  if (sqlite) return sqlite;
  const original = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === "string" ? warning : warning.message;
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = typeof warning === "string" ? type : warning.name;
    if (name === "ExperimentalWarning" && /SQLite/i.test(text)) return;
    return (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    sqlite = createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
  } finally {
    process.emitWarning = original;
  }
  return sqlite;
}
