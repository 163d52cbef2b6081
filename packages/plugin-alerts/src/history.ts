import { createReadStream } from "node:fs";
import { appendFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { AlertLevel, Labels } from "@tapline/core";
import { labelKey } from "./fingerprint.ts";

/** One alert transition, as kept in memory and written to `<dir>/alerts/alerts-YYYY-MM-DD.jsonl`. */
export interface AlertHistoryEntry {
  /** Epoch ms of the transition. */
  readonly time: number;
  /** The alert's one fingerprint (Alertmanager's, over `labels` with `severity` = `level` and `run_id`). */
  readonly fingerprint: string;
  readonly rule: string;
  readonly level: AlertLevel;
  readonly state: "pending" | "firing" | "resolved";
  readonly labels: Labels;
  readonly message: string;
  readonly value?: number;
  /** Epoch ms when the instance started firing (or pending). */
  readonly startsAt?: number;
  /** Epoch ms, on `resolved`. */
  readonly endsAt?: number;
  readonly runId?: string;
  /** The plugin that raised it (alerts from other plugins), absent for the manager's own rules. */
  readonly source?: string;
  /** Set when a silence or an inhibition rule kept it from being notified. */
  readonly muted?: "silenced" | "inhibited";
}

/** Default of `historyRetention`: history files are deleted once every entry they can hold is 30 days old. */
export const DEFAULT_HISTORY_RETENTION_MS = 30 * 86_400_000;
/** Default of `historyMaxFileBytes`: 16 MiB per history file before rotating to the next numbered one. */
export const DEFAULT_HISTORY_MAX_FILE_BYTES = 16 * 1024 * 1024;

const DAY_MS = 86_400_000;
/** How often {@link AlertHistory.prune} actually looks at the folder. */
const PRUNE_EVERY_MS = 3_600_000;
/** `alerts-YYYY-MM-DD.jsonl`, then `alerts-YYYY-MM-DD.1.jsonl`, `.2`, ... once a file reaches its size cap. */
const FILE_NAME = /^alerts-(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.jsonl$/;

/** @internal A history file name taken apart: its UTC day (epoch ms of its midnight) and its rotation index. */
export interface HistoryFileName {
  readonly name: string;
  readonly day: number;
  readonly index: number;
}

/** @internal Parses `alerts-YYYY-MM-DD[.N].jsonl`; `undefined` for any other name. */
export function parseHistoryFileName(name: string): HistoryFileName | undefined {
  const m = FILE_NAME.exec(name);
  if (!m) return undefined;
  const day = Date.parse(m[1]!);
  if (!Number.isFinite(day)) return undefined;
  return { name, day, index: m[2] === undefined ? 0 : Number(m[2]) };
}

/** @internal The history files of a folder, oldest first (by day, then rotation index, numerically). */
export function sortHistoryFiles(names: readonly string[]): HistoryFileName[] {
  return names
    .map(parseHistoryFileName)
    .filter((f): f is HistoryFileName => f !== undefined)
    .sort((a, b) => a.day - b.day || a.index - b.index);
}

function historyFileName(day: string, index: number): string {
  return index === 0 ? `alerts-${day}.jsonl` : `alerts-${day}.${index}.jsonl`;
}

/** @internal Limits of the JSONL sink. */
export interface HistoryFileLimits {
  /** Files whose whole day is older than this are deleted; `Infinity` keeps them. */
  readonly retentionMs: number;
  /** A file is not grown past this; the next line goes to the next numbered file of the day. */
  readonly maxFileBytes: number;
}

interface CurrentFile {
  readonly day: string;
  index: number;
  size: number;
}

/**
 * @internal
 * A bounded ring of transitions plus an optional append-only JSONL sink: one file per UTC day, rotated to
 * `alerts-<day>.<n>.jsonl` when it reaches `maxFileBytes`, and whole files deleted once older than
 * `retentionMs`. Writes are batched and chained, never awaited by the caller; `flush()` waits for them.
 */
export class AlertHistory {
  readonly #max: number;
  readonly #entries: AlertHistoryEntry[] = [];
  #start = 0;
  readonly #dir: string | undefined;
  readonly #limits: HistoryFileLimits;
  #pending: string[] = [];
  #pendingDay = "";
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;
  #madeDir = false;
  #current: CurrentFile | undefined;
  #lastPrune = Number.NEGATIVE_INFINITY;
  readonly #onError: (error: unknown) => void;

  constructor(
    maxEntries: number,
    dir: string | undefined,
    onError: (error: unknown) => void,
    limits: Partial<HistoryFileLimits> = {},
  ) {
    this.#max = Math.max(1, maxEntries);
    this.#dir = dir === undefined ? undefined : join(dir, "alerts");
    this.#onError = onError;
    this.#limits = {
      retentionMs: limits.retentionMs ?? DEFAULT_HISTORY_RETENTION_MS,
      maxFileBytes: Math.max(1, limits.maxFileBytes ?? DEFAULT_HISTORY_MAX_FILE_BYTES),
    };
  }

  add(entry: AlertHistoryEntry): void {
    if (this.#entries.length < this.#max) this.#entries.push(entry);
    else {
      this.#entries[this.#start] = entry;
      this.#start = (this.#start + 1) % this.#max;
    }
    if (this.#dir === undefined) return;
    const day = new Date(entry.time).toISOString().slice(0, 10);
    if (day !== this.#pendingDay && this.#pending.length > 0) this.#write();
    this.#pendingDay = day;
    this.#pending.push(`${JSON.stringify(entry)}\n`);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#write();
      });
    }
  }

  /** The entries in memory, oldest first. */
  list(): AlertHistoryEntry[] {
    return [...this.#entries.slice(this.#start), ...this.#entries.slice(0, this.#start)];
  }

  /** Resolves when every entry added so far is on disk (and any pruning started so far is done). */
  async flush(): Promise<void> {
    this.#write();
    await this.#writing;
  }

  /**
   * Deletes the files past retention, at most once an hour unless `force`; chained after pending writes, never
   * awaited by the caller. The day being written is never deleted.
   */
  prune(now: number, force = false): void {
    const dir = this.#dir;
    if (dir === undefined || !Number.isFinite(this.#limits.retentionMs)) return;
    if (!force && now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    const cutoff = now - this.#limits.retentionMs;
    this.#writing = this.#writing.then(async () => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.#onError(error);
        return;
      }
      for (const file of sortHistoryFiles(names)) {
        if (file.day + DAY_MS > cutoff) break; // sorted oldest first: the rest is newer
        if (this.#current !== undefined && Date.parse(this.#current.day) === file.day) continue;
        try {
          await rm(join(dir, file.name), { force: true });
        } catch (error) {
          this.#onError(error);
        }
      }
    });
  }

  #write(): void {
    if (this.#pending.length === 0 || this.#dir === undefined) return;
    const dir = this.#dir;
    const lines = this.#pending;
    const day = this.#pendingDay;
    this.#pending = [];
    // Prune on the first write, then at most hourly, and always when a new day's file starts.
    this.prune(Date.now(), this.#current !== undefined && this.#current.day !== day);
    this.#writing = this.#writing.then(async () => {
      try {
        if (!this.#madeDir) {
          await mkdir(dir, { recursive: true });
          this.#madeDir = true;
        }
        await this.#append(dir, day, lines);
      } catch (error) {
        this.#current = undefined; // sizes are unknown after a failed write: look at the folder again
        this.#onError(error);
      }
    });
  }

  /** Appends lines to the day's newest file, rotating to the next numbered file at the size cap. */
  async #append(dir: string, day: string, lines: readonly string[]): Promise<void> {
    if (this.#current?.day !== day) this.#current = await locate(dir, day);
    const current = this.#current;
    const max = this.#limits.maxFileBytes;
    let chunk = "";
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      // A line larger than the cap still gets written, alone in its file: never lose an entry.
      if (current.size + chunkBytes > 0 && current.size + chunkBytes + bytes > max) {
        if (chunkBytes > 0) await appendFile(join(dir, historyFileName(day, current.index)), chunk);
        current.index++;
        current.size = 0;
        chunk = "";
        chunkBytes = 0;
      }
      chunk += line;
      chunkBytes += bytes;
    }
    if (chunkBytes > 0) {
      await appendFile(join(dir, historyFileName(day, current.index)), chunk);
      current.size += chunkBytes;
    }
  }
}

/** The newest file of a day and its size, to go on appending where a previous process stopped. */
async function locate(dir: string, day: string): Promise<CurrentFile> {
  const midnight = Date.parse(day);
  const files = sortHistoryFiles(await readdir(dir)).filter((f) => f.day === midnight);
  const index = files.at(-1)?.index ?? 0;
  let size = 0;
  try {
    size = (await stat(join(dir, historyFileName(day, index)))).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return { day, index, size };
}

/** Options of {@link readAlertHistory}. */
export interface ReadAlertHistoryOptions {
  /** Only the alerts still active (pending or firing) at the end of the history: the latest entry of each. */
  readonly active?: boolean;
  /** Epoch ms or ISO date: entries at or after. */
  readonly since?: number | string;
  /** Epoch ms or ISO date: entries before. */
  readonly until?: number | string;
  /** Only this rule. */
  readonly rule?: string;
  /** Called for each torn or unreadable line (a crash mid-write); the line is skipped. */
  readonly onWarning?: (message: string) => void;
}

/**
 * Reads the alert history the plugin wrote under `<dir>/alerts/*.jsonl`, for the CLI (`tapline alerts`) and for
 * post-mortems; works with the app stopped. Streams the files oldest first; a torn line is skipped with a warning.
 * Returns `[]` when there is no history yet.
 *
 * @example
 * const firing = await readAlertHistory(".tapline", { active: true });
 * for (const a of firing) console.log(a.level, a.message);
 */
export async function readAlertHistory(
  dir: string,
  options: ReadAlertHistoryOptions = {},
): Promise<AlertHistoryEntry[]> {
  const folder = join(dir, "alerts");
  let files: HistoryFileName[];
  try {
    files = sortHistoryFiles(await readdir(folder));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const since = toTime(options.since, Number.NEGATIVE_INFINITY);
  const until = toTime(options.until, Number.POSITIVE_INFINITY);
  const out: AlertHistoryEntry[] = [];
  for (const { name: file, day } of files) {
    if (day + DAY_MS <= since || day >= until) continue;
    const lines = createInterface({
      input: createReadStream(join(folder, file), "utf8"),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      let entry: AlertHistoryEntry;
      try {
        entry = JSON.parse(line) as AlertHistoryEntry;
        if (
          typeof entry.time !== "number" ||
          typeof entry.fingerprint !== "string" ||
          typeof entry.state !== "string"
        )
          throw new Error("missing fields");
      } catch (error) {
        options.onWarning?.(
          `${join(folder, file)}:${n}: skipped an unreadable line (${(error as Error).message})`,
        );
        continue;
      }
      if (entry.time < since || entry.time >= until) continue;
      if (options.rule !== undefined && entry.rule !== options.rule) continue;
      out.push(entry);
    }
  }
  if (!options.active) return out;
  // One instance per label set and run: its fingerprint changes with the level, its identity does not.
  const latest = new Map<string, AlertHistoryEntry>();
  for (const e of out) latest.set(`${labelKey(e.labels ?? {})}\u0002${e.runId ?? ""}`, e);
  return [...latest.values()].filter((e) => e.state !== "resolved");
}

function toTime(v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const t = typeof v === "number" ? v : Date.parse(v);
  if (!Number.isFinite(t))
    throw new TypeError(`readAlertHistory: expected epoch ms or an ISO date, got ${JSON.stringify(v)}`);
  return t;
}
