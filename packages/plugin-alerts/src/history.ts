import { createReadStream } from "node:fs";
import { appendFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { AlertLevel, Labels } from "@tapline/core";

/** One alert transition, as kept in memory and written to `<dir>/alerts/alerts-YYYY-MM-DD.jsonl`. */
export interface AlertHistoryEntry {
  /** Epoch ms of the transition. */
  readonly time: number;
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

/**
 * @internal
 * A bounded ring of transitions plus an optional append-only JSONL sink (one file per UTC day). Writes are
 * batched and chained, never awaited by the caller; `flush()` waits for them.
 */
export class AlertHistory {
  readonly #max: number;
  readonly #entries: AlertHistoryEntry[] = [];
  #start = 0;
  readonly #dir: string | undefined;
  #pending: string[] = [];
  #pendingDay = "";
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;
  #madeDir = false;
  readonly #onError: (error: unknown) => void;

  constructor(maxEntries: number, dir: string | undefined, onError: (error: unknown) => void) {
    this.#max = Math.max(1, maxEntries);
    this.#dir = dir === undefined ? undefined : join(dir, "alerts");
    this.#onError = onError;
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

  /** Resolves when every entry added so far is on disk. */
  async flush(): Promise<void> {
    this.#write();
    await this.#writing;
  }

  #write(): void {
    if (this.#pending.length === 0 || this.#dir === undefined) return;
    const dir = this.#dir;
    const data = this.#pending.join("");
    const file = join(dir, `alerts-${this.#pendingDay}.jsonl`);
    this.#pending = [];
    this.#writing = this.#writing.then(async () => {
      try {
        if (!this.#madeDir) {
          await mkdir(dir, { recursive: true });
          this.#madeDir = true;
        }
        await appendFile(file, data);
      } catch (error) {
        this.#onError(error);
      }
    });
  }
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
  let files: string[];
  try {
    files = (await readdir(folder)).filter((f) => /^alerts-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const since = toTime(options.since, Number.NEGATIVE_INFINITY);
  const until = toTime(options.until, Number.POSITIVE_INFINITY);
  const out: AlertHistoryEntry[] = [];
  for (const file of files) {
    const day = Date.parse(file.slice(7, 17));
    if (day + 86_400_000 <= since || day >= until) continue;
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
  const latest = new Map<string, AlertHistoryEntry>();
  for (const e of out) latest.set(e.fingerprint, e);
  return [...latest.values()].filter((e) => e.state !== "resolved");
}

function toTime(v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const t = typeof v === "number" ? v : Date.parse(v);
  if (!Number.isFinite(t))
    throw new TypeError(`readAlertHistory: expected epoch ms or an ISO date, got ${JSON.stringify(v)}`);
  return t;
}
