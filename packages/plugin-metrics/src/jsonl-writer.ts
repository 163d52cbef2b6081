import { closeSync, fstatSync, mkdirSync, openSync, readSync, unlink, write, writeSync } from "node:fs";
import { join } from "node:path";
import { type PersistError, persistError } from "./errors.ts";
import { dayOf, fileName, listJsonlFiles } from "./jsonl-files.ts";

/** Options of {@link JsonlWriter}. */
export interface JsonlWriterOptions {
  /** Folder of the stream, e.g. `<dir>/runs`; created on first write. */
  folder: string;
  /** Buffered records are written at least this often (ms): the most a `kill -9` can lose. Default 1000. */
  flushIntervalMs?: number;
  /** A batch is written at once when it reaches this many bytes. Default 256 KiB. */
  maxBatchBytes?: number;
  /** A new file is started when the current one would pass this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Files of days older than this many days are deleted. Default 14; 0 keeps everything. */
  retentionDays?: number;
  /**
   * Most bytes buffered (a slow or failing disk); beyond, records are dropped, counted and reported (the
   * writer reports `degraded`). Producers that await {@link JsonlWriter.drain} when
   * {@link JsonlWriter.backlogged} is true never get there. Default 32 MiB.
   */
  maxBufferedBytes?: number;
  /** Called once when writing starts failing (read-only dir, full disk), with a {@link PersistError}. */
  onError?: (error: PersistError) => void;
  /** Called when writing works again after a failure. */
  onRecover?: () => void;
  /** Clock (epoch ms), for day rotation. Default `Date.now`. */
  now?: () => number;
}

/** Counters of a writer, for status and self-metrics. */
export interface JsonlWriterStats {
  readonly written: number;
  readonly dropped: number;
  readonly flushes: number;
  readonly degraded: boolean;
  readonly lastError: string | undefined;
  readonly file: string | undefined;
}

/** How long a drop keeps the writer `degraded` after the last dropped record, ms. */
const DROP_DEGRADED_MS = 5 * 60_000;

/**
 * Append-only, batched JSON-lines writer for one stream (runs, metrics, snapshots).
 *
 * Crash safety: records are buffered and written at least every `flushIntervalMs` (so `kill -9` loses at
 * most that interval). Flushing does not depend on timers alone: each append checks the buffer's size and
 * the age of its oldest record and starts a write itself, so a producer that never lets the event loop turn
 * (a loop of pure-transform runs) still gets its records to the disk; when a write is still in flight and
 * the buffer keeps growing, {@link backlogged} turns true and the producer should await {@link drain}
 * (the plugin does so at the end of each step and run) instead of records being dropped. Each batch goes out in ONE `write()` on a file opened with `O_APPEND`, made of whole
 * records only, so two processes appending to the same file never interleave bytes inside a record.
 * Rotation by UTC day and by size (`YYYY-MM-DD.N.jsonl`, never renaming, so concurrent writers need no
 * lock); retention by day. A failing disk gives one {@link PersistError} through `onError` and a degraded
 * state, never a retry loop: the next attempt is the next flush interval.
 */
export class JsonlWriter {
  readonly #folder: string;
  readonly #flushMs: number;
  readonly #maxBatch: number;
  readonly #maxFile: number;
  readonly #retention: number;
  readonly #maxBuffered: number;
  readonly #onError: ((error: PersistError) => void) | undefined;
  readonly #onRecover: (() => void) | undefined;
  readonly #now: () => number;
  #chunks: string[] = [];
  #bytes = 0;
  #count = 0;
  /** Records ever appended, and ever written or dropped after being buffered: `flush()` waits on these. */
  #appended = 0;
  #settled = 0;
  #fd: number | undefined;
  #day = "";
  #index = 0;
  #size = 0;
  #file: string | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the oldest buffered record was appended. */
  #oldestAt = 0;
  #lastDropAt: number | undefined;
  #dropReported = false;
  #closed = false;
  #written = 0;
  #dropped = 0;
  #flushes = 0;
  #degraded = false;
  #lastError: string | undefined;

  constructor(options: JsonlWriterOptions) {
    this.#folder = options.folder;
    this.#flushMs = options.flushIntervalMs ?? 1000;
    this.#maxBatch = options.maxBatchBytes ?? 256 * 1024;
    this.#maxFile = options.maxFileBytes ?? 64 * 1024 * 1024;
    this.#retention = options.retentionDays ?? 14;
    this.#maxBuffered = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.#onError = options.onError;
    this.#onRecover = options.onRecover;
    this.#now = options.now ?? Date.now;
  }

  /** Buffers one record (any JSON-serialisable object). Returns at once; never throws for I/O. */
  append(record: object): void {
    if (this.#closed) return;
    this.appendLine(JSON.stringify(record));
  }

  /** Buffers one record already serialised as a single JSON line (no newline). */
  appendLine(line: string): void {
    if (this.#closed) return;
    if (this.#bytes > this.#maxBuffered) {
      this.#drop();
      return;
    }
    if (this.#count === 0) this.#oldestAt = performance.now();
    this.#chunks.push(line);
    this.#bytes += line.length + 1;
    this.#count++;
    this.#appended++;
    // Checked on every append, not only by a timer: a loop that never yields never runs timers.
    if (
      !this.#inFlight &&
      (this.#bytes >= this.#maxBatch || performance.now() - this.#oldestAt >= this.#flushMs)
    ) {
      void this.flush();
    } else if (!this.#timer) {
      this.#schedule();
    }
  }

  /**
   * True when the producer should wait: a write is in flight (its completion needs the event loop to turn)
   * while a full batch, or a record older than the flush interval, waits behind it. Await {@link drain}.
   */
  get backlogged(): boolean {
    return (
      this.#inFlight !== undefined &&
      this.#count > 0 &&
      (this.#bytes >= this.#maxBatch || performance.now() - this.#oldestAt >= this.#flushMs)
    );
  }

  /** Waits for the write in flight and writes what is buffered: backpressure for {@link backlogged}. */
  drain(): Promise<void> {
    return this.flush();
  }

  #drop(): void {
    this.#dropped++;
    this.#lastDropAt = performance.now();
    if (this.#dropReported) return;
    this.#dropReported = true;
    const persist = persistError(
      this.#file ?? this.#folder,
      new Error(
        `the write buffer is full (${this.#maxBuffered} bytes): records are produced faster than the disk ` +
          "takes them, or the producer never lets the event loop turn (await the writer's drain())",
      ),
    );
    this.#lastError = persist.message;
    this.#onError?.(persist);
  }

  /** A full batch goes out now (unless a write is in flight: it reschedules when done); else a timer. */
  #schedule(): void {
    if (this.#count === 0 || this.#closed) return;
    if (this.#bytes >= this.#maxBatch || performance.now() - this.#oldestAt >= this.#flushMs) {
      if (!this.#inFlight) void this.flush();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#flushMs);
      this.#timer.unref();
    }
  }

  /**
   * Writes what is buffered now (after a write in flight). Records appended meanwhile are left to the next
   * flush, so a steady producer cannot keep a caller waiting forever. Never rejects.
   */
  async flush(): Promise<void> {
    const target = this.#appended;
    while (this.#settled < target) {
      if (this.#inFlight) {
        await this.#inFlight;
        continue;
      }
      if (this.#count === 0) return;
      const { data, count } = this.#take();
      this.#inFlight = this.#writeAsync(data, count).finally(() => {
        this.#inFlight = undefined;
        this.#schedule(); // what was appended meanwhile
      });
    }
  }

  /** Writes everything buffered synchronously (for dispose and `process.on("exit")`). */
  flushSync(): void {
    while (this.#count > 0) this.#flushOneSync();
  }

  #flushOneSync(): void {
    const { data, count } = this.#take();
    try {
      const buffer = Buffer.from(data);
      const fd = this.#open(buffer.length);
      writeAll(fd, buffer);
      this.#done(buffer.length, count);
    } catch (error) {
      this.#fail(error, count);
    }
  }

  /** Flushes, closes the file and stops the timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true; // no new records, no new timers
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    while (this.#inFlight) await this.#inFlight;
    this.flushSync();
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {}
      this.#fd = undefined;
    }
  }

  /** Counters and state. */
  get stats(): JsonlWriterStats {
    return {
      written: this.#written,
      dropped: this.#dropped,
      flushes: this.#flushes,
      degraded:
        this.#degraded ||
        (this.#lastDropAt !== undefined && performance.now() - this.#lastDropAt < DROP_DEGRADED_MS),
      lastError: this.#lastError,
      file: this.#file,
    };
  }

  /**
   * Takes whole records from the buffer for one write(): everything buffered when a backlog built up (so a
   * writer that fell behind catches up in a few large writes), but never more than 4 MiB nor than a file's size.
   */
  #take(): { data: string; count: number } {
    const limit = Math.min(this.#maxFile, WRITE_MAX);
    let n = 0;
    let bytes = 0;
    while (n < this.#chunks.length) {
      const next = bytes + this.#chunks[n]!.length + 1;
      if (n > 0 && next > limit) break;
      bytes = next;
      n++;
    }
    const taken = n === this.#chunks.length ? this.#chunks : this.#chunks.slice(0, n);
    this.#chunks = n === this.#chunks.length ? [] : this.#chunks.slice(n);
    this.#bytes -= bytes;
    this.#count -= n;
    if (this.#count === 0 && this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    return { data: taken.join("\n") + "\n", count: n };
  }

  async #writeAsync(data: string, count: number): Promise<void> {
    const buffer = Buffer.from(data);
    try {
      const fd = this.#open(buffer.length);
      let offset = 0;
      // One write() for the whole batch; a short write (only on a full disk) continues where it stopped.
      while (offset < buffer.length) {
        offset += await new Promise<number>((resolve, reject) =>
          write(fd, buffer, offset, buffer.length - offset, null, (error, n) =>
            error ? reject(error) : resolve(n),
          ),
        );
      }
      this.#done(buffer.length, count);
    } catch (error) {
      this.#fail(error, count);
    }
  }

  #done(bytes: number, count: number): void {
    this.#settled += count;
    this.#size += bytes;
    this.#written += count;
    this.#flushes++;
    this.#dropReported = false;
    if (this.#degraded) {
      this.#degraded = false;
      this.#lastError = undefined;
      this.#onRecover?.();
    }
  }

  #fail(error: unknown, count: number): void {
    this.#settled += count;
    this.#dropped += count;
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {}
      this.#fd = undefined;
    }
    if (this.#degraded) return; // reported once; the next flush interval tries again
    this.#degraded = true;
    const persist = persistError(this.#file ?? this.#folder, error);
    this.#lastError = persist.message;
    this.#onError?.(persist);
  }

  /** The fd to append `bytes` to, rotating by day and size first. Throws on I/O errors. */
  #open(bytes: number): number {
    const day = dayOf(this.#now());
    if (
      this.#fd !== undefined &&
      day === this.#day &&
      (this.#size === 0 || this.#size + bytes <= this.#maxFile)
    ) {
      return this.#fd;
    }
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (day !== this.#day) {
      this.#day = day;
      this.#index = 0;
      this.#prune(day);
    } else if (this.#size > 0) {
      this.#index++;
    }
    mkdirSync(this.#folder, { recursive: true });
    for (;;) {
      const path = join(this.#folder, fileName(day, this.#index));
      const fd = openSync(path, "a+", 0o644);
      let size = fstatSync(fd).size;
      if (size > 0 && size + bytes > this.#maxFile) {
        closeSync(fd);
        this.#index++;
        continue;
      }
      // A `kill -9` may have left a torn last line: start on a fresh one, so the first record stays whole.
      if (size > 0 && !endsWithNewline(fd, size)) {
        try {
          size += writeSync(fd, "\n");
        } catch (error) {
          closeSync(fd);
          throw error;
        }
      }
      this.#fd = fd;
      this.#size = size;
      this.#file = path;
      return fd;
    }
  }

  #prune(today: string): void {
    if (this.#retention <= 0) return;
    const cutoff = dayOf(Date.parse(`${today}T00:00:00Z`) - this.#retention * 86_400_000);
    listJsonlFiles(this.#folder).then(
      (files) => {
        for (const f of files) if (f.day < cutoff) unlink(f.path, () => {});
      },
      () => {},
    );
  }
}

/** Largest single write(): big enough to catch up with any producer, small enough to stay one syscall. */
const WRITE_MAX = 4 * 1024 * 1024;

function endsWithNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
}

function writeAll(fd: number, buffer: Buffer): void {
  let offset = 0;
  while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
}
