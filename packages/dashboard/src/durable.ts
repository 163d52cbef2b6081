import { open } from "node:fs/promises";
import { join } from "node:path";
import { redactSecrets } from "@tapline/core";
import { redactFields } from "@tapline/core/kit";
import type { DurableStore } from "@tapline/plugin-durable";
import type { DurableView, InterruptedRun, WaitingRun } from "./api-types.ts";

/** What the dashboard uses of `@tapline/plugin-durable`, an optional peer loaded only when a store exists. */
export type DurableModule = Pick<typeof import("@tapline/plugin-durable"), "sqliteStore" | "decodeValue">;

/** @internal What {@link DurableReader.read} returns. */
export interface DurableSnapshot {
  readonly view: DurableView;
  /** Runs saved as running whose lease ran out. */
  readonly interrupted: ReadonlySet<string>;
}

const LIMIT = 200;
const SQLITE_HEADER = "SQLite format 3\u0000";

/** The file's first 16 bytes (latin1); undefined when there is no such file. */
async function headerOf(file: string): Promise<string | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(16);
    const { bytesRead } = await handle.read(buffer, 0, 16, 0);
    return buffer.subarray(0, bytesRead).toString("latin1");
  } finally {
    await handle.close();
  }
}
const DEFAULT_APPROVAL = '{"approved":true}';

/** @internal Quotes a word for a POSIX shell when it needs it: what the page shows can be pasted as is. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * @internal Reads `<dir>/durable.sqlite` (`@tapline/plugin-durable`'s embedded store) for the Overview: the
 * suspended runs with their reason and the command that approves them, and the runs whose process died
 * (saved as running, lease expired). Read only: no method that writes is ever called. The plugin is loaded
 * the first time the file exists; a dashboard without it installed shows why instead, and works on.
 */
export class DurableReader {
  readonly #dir: string;
  readonly #file: string;
  readonly #load: () => Promise<DurableModule>;
  #module: DurableModule | undefined;
  #store: DurableStore | undefined;
  #failed: string | undefined;

  constructor(dir: string, load: () => Promise<DurableModule> = () => import("@tapline/plugin-durable")) {
    this.#dir = dir;
    this.#file = join(dir, "durable.sqlite");
    this.#load = load;
  }

  /** The store's runs now; undefined while the folder has no store. */
  async read(now = Date.now()): Promise<DurableSnapshot | undefined> {
    if (!this.#store) {
      if (this.#failed !== undefined) return this.#broken(this.#failed);
      // Opening a file that is not (yet) a database would make it one: the store is never written to.
      const header = await headerOf(this.#file);
      if (header === undefined || header.length === 0) return undefined;
      if (header !== SQLITE_HEADER)
        return this.#broken(`${this.#file} is not a SQLite database: it was left as it is`);
      try {
        this.#module ??= await this.#load();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Not installed: said once, never retried (installing it means restarting the dashboard anyway).
        this.#failed =
          code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND"
            ? `${this.#file} is a durable store, but @tapline/plugin-durable is not installed beside the dashboard: install it to see waiting and interrupted runs`
            : `cannot load @tapline/plugin-durable: ${(error as Error).message}`;
        return this.#broken(this.#failed);
      }
      try {
        this.#store = this.#module.sqliteStore({ path: this.#file });
      } catch (error) {
        // A damaged file or one being created: tried again on the next read.
        return this.#broken(redactSecrets((error as Error).message));
      }
    }
    const store = this.#store;
    try {
      const [suspended, running] = await Promise.all([
        store.listRuns({ status: "suspended", limit: LIMIT }),
        store.listRuns({ status: "running", limit: LIMIT }),
      ]);
      const dirArg = `--dir ${shellWord(this.#dir)}`;
      const waiting = suspended.map((row): WaitingRun => {
        let s: { unit?: unknown; reason?: unknown; data?: unknown } = {};
        try {
          const decoded = row.suspended ? this.#module!.decodeValue(row.suspended) : undefined;
          if (decoded && typeof decoded === "object") s = decoded as typeof s;
        } catch {
          // An undecodable suspension still lists the run, with no reason.
        }
        return {
          runId: row.runId,
          pipeline: row.pipeline,
          ...(typeof s.unit === "string" && { unit: s.unit }),
          reason: typeof s.reason === "string" ? redactSecrets(s.reason) : "(no reason given)",
          ...(s.data !== undefined && { data: redactFields(s.data) }),
          since: row.updatedAt,
          approve: `tapline approve ${shellWord(row.runId)} <module> ${dirArg} --data ${shellWord(DEFAULT_APPROVAL)}`,
        };
      });
      const dead = running.filter((r) => r.leaseUntil === undefined || r.leaseUntil < now);
      const interrupted = dead.map(
        (row): InterruptedRun => ({
          runId: row.runId,
          pipeline: row.pipeline,
          since: row.updatedAt,
          resume: `tapline resume ${shellWord(row.runId)} <module> ${dirArg}`,
        }),
      );
      return {
        view: { store: this.#file, waiting, interrupted },
        interrupted: new Set(dead.map((r) => r.runId)),
      };
    } catch (error) {
      return this.#broken(redactSecrets((error as Error).message));
    }
  }

  #broken(error: string): DurableSnapshot {
    return { view: { store: this.#file, error, waiting: [], interrupted: [] }, interrupted: new Set() };
  }

  async close(): Promise<void> {
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }
}
