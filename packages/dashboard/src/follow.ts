import { type FSWatcher, watch } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { DurableReader } from "./durable.ts";
import type { DashboardModel } from "./model.ts";
import { FolderTail } from "./tail.ts";

const JSONL = /^\d{4}-\d{2}-\d{2}\.\d+\.jsonl$/;
const ALERTS = /^alerts-\d{4}-\d{2}-\d{2}(?:\.\d+)?\.jsonl$/;

/**
 * @internal Follows a data folder into a model: `fs.watch` (recursive) for prompt updates, and a polling
 * timer behind it for file systems where watching misses events (network mounts, some containers). Each
 * pass reads only appended bytes; passes never overlap.
 */
export class DataDirFollower {
  readonly #dir: string;
  readonly #model: DashboardModel;
  readonly #runs: FolderTail;
  readonly #metrics: FolderTail;
  readonly #alerts: FolderTail;
  readonly #onChange: () => void;
  readonly #durable: DurableReader | undefined;
  #durableRead = 0;
  #statusMtime = -1;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(dir: string, model: DashboardModel, onChange: () => void, durable?: DurableReader) {
    this.#durable = durable;
    this.#dir = dir;
    this.#model = model;
    this.#runs = new FolderTail(join(dir, "runs"), JSONL);
    this.#metrics = new FolderTail(join(dir, "metrics"), JSONL);
    this.#alerts = new FolderTail(join(dir, "alerts"), ALERTS);
    this.#onChange = onChange;
  }

  /** Reads everything there is now, then follows. */
  async start(pollIntervalMs: number): Promise<void> {
    await this.pass();
    if (this.#closed) return;
    try {
      this.#watcher = watch(this.#dir, { recursive: true, persistent: false }, () => void this.pass());
      this.#watcher.on("error", () => {
        this.#watcher?.close();
        this.#watcher = undefined; // polling carries on
      });
    } catch {
      // No recursive watch here: polling alone.
    }
    this.#timer = setInterval(() => void this.pass(), pollIntervalMs);
    this.#timer.unref();
  }

  /** One pass over the folder; a pass asked for while one runs is run once after it. */
  pass(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#read();
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #read(): Promise<void> {
    const m = this.#model;
    const warn = () => void m.warnings++;
    await this.#runs.poll((r) => m.addActivity(r), warn);
    await this.#metrics.poll((r) => m.addSample(r), warn);
    await this.#alerts.poll((r) => m.addAlert(r), warn);
    const info = await stat(join(this.#dir, "status.json")).catch(() => undefined);
    if (info && info.mtimeMs !== this.#statusMtime) {
      // Written atomically (temp file + rename) by plugin-metrics: never half a file.
      const text = await readFile(join(this.#dir, "status.json"), "utf8").catch(() => undefined);
      if (text !== undefined) {
        try {
          m.setStatus(JSON.parse(text));
          this.#statusMtime = info.mtimeMs;
        } catch {
          m.warnings++;
        }
      }
    }
    // The durable store changes with every saved unit: read at most every 250 ms (the poll comes back to it).
    if (this.#durable && Date.now() - this.#durableRead >= 250) {
      this.#durableRead = Date.now();
      const snapshot = await this.#durable.read();
      m.setDurable(snapshot?.view, snapshot?.interrupted ?? new Set());
    }
    if (m.hasChanges) this.#onChange();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
    await this.#durable?.close();
  }
}
