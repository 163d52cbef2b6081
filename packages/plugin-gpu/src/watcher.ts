import { execa, type ResultPromise } from "execa";
import { type GpuProcess, queryComputeApps } from "./compute-apps.ts";
import { GpuUnavailableError, missingBinary, NvidiaSmiExitedError } from "./errors.ts";
import { executableExists } from "./find-executable.ts";
import { LineSplitter } from "./line-splitter.ts";
import type { NormalizedWatchOptions, WatchGpusOptions } from "./options.ts";
import { type ColumnPlan, columnPlan, parseGpuRange } from "./parse-line.ts";
import { processTree } from "./process-tree.ts";
import {
  GPU_QUERY_FIELDS,
  type GpuReading,
  type GpuSnapshot,
  loopArgs,
  REQUIRED_FIELDS,
  rejectedField,
} from "./reading.ts";
import { normalizeWatchOptions } from "./schemas.ts";

/** Where a watcher stands. */
export type GpuWatcherState = "starting" | "running" | "restarting" | "unavailable" | "closed";

/** A watcher's health, for status displays. */
export interface GpuWatcherStatus {
  readonly state: GpuWatcherState;
  /** Why it is `unavailable` (or why it is restarting). */
  readonly reason?: string;
  /** The error behind `unavailable`. */
  readonly error?: GpuUnavailableError;
  /** Restarts after the process died. */
  readonly restarts: number;
  /** Snapshots delivered. */
  readonly samples: number;
  /** Lines that were not readings (torn lines, messages). */
  readonly badLines: number;
  /** Epoch ms of the last snapshot. */
  readonly lastSampleAt?: number;
  /** PID of the running nvidia-smi. */
  readonly pid?: number;
  /** Fields dropped because the driver rejected them. */
  readonly droppedFields: readonly string[];
}

/** GPU memory of the watched process tree, from the slower per-process query. */
export interface GpuProcessSnapshot {
  readonly time: number;
  /** Only processes of the watched tree (`rootPid` and its descendants). */
  readonly processes: readonly GpuProcess[];
  /** Total bytes per GPU UUID for the tree. */
  readonly memoryByGpu: ReadonlyMap<string, number>;
}

/** Callbacks of {@link watchGpus} besides the sample callback. */
export interface GpuWatcherHandlers {
  /** Per-process memory of this process tree, every `processInterval`. */
  onProcesses?: (snapshot: GpuProcessSnapshot) => void;
  /** A state change (running, restarting, unavailable, closed). */
  onStatus?: (status: GpuWatcherStatus) => void;
  /** Something went wrong that the watcher recovers from (nvidia-smi died; a per-process query failed). */
  onError?: (error: Error) => void;
}

/** A running GPU watcher: one long-lived nvidia-smi. */
export interface GpuWatcher extends AsyncDisposable {
  /** Current health. */
  readonly status: GpuWatcherStatus;
  /** The last snapshot, if any. */
  latest(): GpuSnapshot | undefined;
  /** The last per-process snapshot, if any. */
  latestProcesses(): GpuProcessSnapshot | undefined;
  /** Stops nvidia-smi and every timer; resolves when the child process has exited. Idempotent. */
  close(): Promise<void>;
}

const TAIL = 2048;

/**
 * Starts one long-lived `nvidia-smi --query-gpu=... --format=csv,noheader,nounits -lms <interval>` and calls
 * `onSample` with a snapshot of every GPU each interval, parsing lines as they arrive. If the process dies it is
 * restarted with backoff (reported through `onError`); if nvidia-smi is missing, finds no GPU or keeps dying,
 * the watcher goes `unavailable` once (reported through `onStatus`) and stays quiet. Never throws after
 * creation; bad options throw a `GpuOptionsError` at once.
 *
 * @example
 * const watcher = watchGpus({ interval: 500 }, (s) => console.log(s.gpus.map((g) => g.utilization)));
 * // ...
 * await watcher.close();
 */
export function watchGpus(
  options: WatchGpusOptions | undefined,
  onSample: (snapshot: GpuSnapshot) => void,
  handlers: GpuWatcherHandlers = {},
): GpuWatcher {
  if (typeof onSample !== "function") {
    throw new TypeError("watchGpus(options, onSample): onSample must be a function");
  }
  const opts = normalizeWatchOptions(options, handlers.onProcesses !== undefined);
  const watcher = new Watcher(opts, onSample, handlers);
  const signal = options?.signal;
  if (signal) {
    if (signal.aborted) void watcher.close();
    else watcher.closeOn(signal);
  }
  watcher.start();
  return watcher;
}

class Watcher implements GpuWatcher {
  #state: GpuWatcherState = "starting";
  #reason: string | undefined;
  #error: GpuUnavailableError | undefined;
  #restarts = 0;
  #samples = 0;
  #badLines = 0;
  #lastSampleAt: number | undefined;
  #fields: string[] = [...GPU_QUERY_FIELDS];
  #dropped: string[] = [];
  #child: ResultPromise | undefined;
  #childDone: Promise<unknown> | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #processTimer: NodeJS.Timeout | undefined;
  #processQuery: Promise<void> | undefined;
  #failuresInRow = 0;
  #latest: GpuSnapshot | undefined;
  #latestProcesses: GpuProcessSnapshot | undefined;
  #batch: GpuReading[] = [];
  #plan: ColumnPlan | undefined;
  #expected = 0;
  #closing: Promise<void> | undefined;
  /** Removes the abort listener from the caller's signal (a long-lived signal must not keep the watcher). */
  #detach: (() => void) | undefined;

  private readonly opts: NormalizedWatchOptions;
  private readonly onSample: (snapshot: GpuSnapshot) => void;
  private readonly handlers: GpuWatcherHandlers;

  constructor(
    opts: NormalizedWatchOptions,
    onSample: (snapshot: GpuSnapshot) => void,
    handlers: GpuWatcherHandlers,
  ) {
    this.opts = opts;
    this.onSample = onSample;
    this.handlers = handlers;
  }

  get status(): GpuWatcherStatus {
    return {
      state: this.#state,
      ...(this.#reason !== undefined && { reason: this.#reason }),
      ...(this.#error !== undefined && { error: this.#error }),
      restarts: this.#restarts,
      samples: this.#samples,
      badLines: this.#badLines,
      ...(this.#lastSampleAt !== undefined && { lastSampleAt: this.#lastSampleAt }),
      ...(this.#child?.pid !== undefined && { pid: this.#child.pid }),
      droppedFields: [...this.#dropped],
    };
  }

  latest(): GpuSnapshot | undefined {
    return this.#latest;
  }

  latestProcesses(): GpuProcessSnapshot | undefined {
    return this.#latestProcesses;
  }

  start(): void {
    if (this.#closing) return;
    this.#restartTimer = undefined;
    if (this.#samples === 0 && !executableExists(this.opts.binary)) {
      // No GPU tooling on this machine: say so now rather than "starting" until the spawn fails.
      this.#unavailable(missingBinary(this.opts.binary, "ENOENT"));
      return;
    }
    const child = execa(this.opts.binary, loopArgs(this.#fields, this.opts.interval), {
      reject: false,
      buffer: false,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      cleanup: true,
      forceKillAfterDelay: 2000,
      windowsHide: true,
    });
    this.#child = child;
    let samplesAtStart = this.#samples;
    let output = "";
    const keep = (text: string) => {
      output = (output + text).slice(-TAIL);
    };
    if (this.#plan?.fields !== this.#fields) this.#plan = columnPlan(this.#fields);
    const plan = this.#plan;
    // Raw bytes, split on newlines and decoded once per chunk; each line is parsed in place.
    const lines = new LineSplitter((text, from, to) => {
      if (!this.#line(text, from, to, plan)) keep(`${text.slice(from, to)}\n`);
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      lines.push(chunk);
      this.#scheduleFlush();
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", keep);
    this.#childDone = child.then((result) => {
      if (this.#child === child) this.#child = undefined;
      this.#flush();
      if (this.#closing) return;
      if (lines.torn) this.#badLines++; // a torn last line: dropped, never parsed half-way
      const produced = this.#samples > samplesAtStart;
      samplesAtStart = this.#samples;
      this.#exited(result, produced, output.trim());
    });
    if (!this.#processTimer && this.opts.processInterval > 0) this.#scheduleProcesses();
  }

  /** Returns false for a line that is not a reading (a blank line is neither kept nor counted). */
  #line(text: string, from: number, to: number, plan: ColumnPlan): boolean {
    const reading = parseGpuRange(text, from, to, plan);
    if (!reading) {
      for (let i = from; i < to; i++) {
        if (text.charCodeAt(i) > 32) {
          this.#badLines++;
          return false;
        }
      }
      return true;
    }
    const batch = this.#batch;
    // A GPU index seen again: the previous loop iteration is complete (a linear scan: a handful of GPUs).
    for (let i = 0; i < batch.length; i++) {
      if (batch[i]!.index === reading.index) {
        this.#flush();
        break;
      }
    }
    this.#batch.push(reading);
    if (this.#expected > 0 && this.#batch.length >= this.#expected) this.#flush();
    return true;
  }

  #scheduleFlush(): void {
    if (this.#batch.length === 0 || this.#flushTimer) return;
    // Lines of one iteration arrive together; if the GPU count is not known yet, wait a moment for the rest.
    this.#flushTimer = setTimeout(() => this.#flush(), Math.min(50, this.opts.interval / 2));
    this.#flushTimer.unref();
  }

  #flush(): void {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#batch.length === 0 || this.#closing) return;
    const gpus = this.#batch;
    this.#batch = [];
    this.#expected = Math.max(this.#expected, gpus.length);
    const snapshot: GpuSnapshot = { time: Date.now(), gpus };
    this.#latest = snapshot;
    this.#samples++;
    this.#lastSampleAt = snapshot.time;
    this.#failuresInRow = 0;
    if (this.#state !== "running") this.#setState("running", undefined);
    try {
      this.onSample(snapshot);
    } catch (error) {
      this.#report(error);
    }
  }

  #exited(
    result: { exitCode?: number; signal?: string; code?: string; failed: boolean },
    produced: boolean,
    output: string,
  ): void {
    const binary = this.opts.binary;
    if (result.code === "ENOENT" || result.code === "EACCES") {
      this.#unavailable(missingBinary(binary, result.code));
      return;
    }
    const field = produced ? undefined : rejectedField(output);
    if (field !== undefined && !REQUIRED_FIELDS.has(field) && this.#fields.includes(field)) {
      // An older driver without this field: drop it and go on with the rest.
      this.#fields = this.#fields.filter((f) => f !== field);
      this.#dropped.push(field);
      this.start();
      return;
    }
    if (!produced && this.#samples === 0) {
      const noGpu =
        /No devices were found|couldn't communicate with the NVIDIA driver|NVIDIA-SMI has failed/i.test(
          output,
        );
      const firstLine =
        output.split("\n").find((l) => l.trim()) ?? `exited with code ${String(result.exitCode)}`;
      this.#unavailable(
        new GpuUnavailableError({
          reason: noGpu ? "no-gpu" : "rejected",
          binary,
          detail: `nvidia-smi cannot sample GPUs here: ${firstLine.trim()}`,
          output,
        }),
      );
      return;
    }
    this.#failuresInRow = produced ? 1 : this.#failuresInRow + 1;
    if (this.#failuresInRow > this.opts.maxAttempts) {
      this.#unavailable(
        new GpuUnavailableError({
          reason: "gave-up",
          binary,
          detail: `nvidia-smi died ${this.#failuresInRow} times in a row without a sample; gave up (last: ${output.split("\n").at(-1) || `code ${String(result.exitCode)}`})`,
          output,
        }),
      );
      return;
    }
    const base = Math.min(this.opts.maxDelay, this.opts.initialDelay * 2 ** (this.#failuresInRow - 1));
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.#restarts++;
    const error = new NvidiaSmiExitedError({
      exitCode: result.exitCode,
      signal: result.signal,
      stderr: output,
      restartInMs: delay,
      attempt: this.#failuresInRow,
    });
    this.#setState("restarting", error.message);
    this.#report(error);
    this.#restartTimer = setTimeout(() => this.start(), delay);
    this.#restartTimer.unref(); // like every other timer: a pending restart never keeps the process alive
  }

  #unavailable(error: GpuUnavailableError): void {
    this.#error = error;
    this.#clearProcessTimer();
    this.#setState("unavailable", error.message);
  }

  #setState(state: GpuWatcherState, reason: string | undefined): void {
    this.#state = state;
    this.#reason = reason;
    try {
      this.handlers.onStatus?.(this.status);
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    try {
      this.handlers.onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // A throwing error handler must not break sampling.
    }
  }

  #scheduleProcesses(): void {
    this.#processTimer = setInterval(() => {
      if (this.#processQuery || this.#state === "unavailable") return; // never overlap
      this.#processQuery = this.#queryProcesses().finally(() => {
        this.#processQuery = undefined;
      });
    }, this.opts.processInterval);
    this.#processTimer.unref();
  }

  #clearProcessTimer(): void {
    if (this.#processTimer) clearInterval(this.#processTimer);
    this.#processTimer = undefined;
  }

  async #queryProcesses(): Promise<void> {
    try {
      const all = await queryComputeApps(this.opts.binary, Math.max(5000, this.opts.processInterval));
      const tree = all.length > 0 ? await processTree(this.opts.rootPid) : new Set<number>();
      if (this.#closing) return;
      const processes = all.filter((p) => tree.has(p.pid));
      const memoryByGpu = new Map<string, number>();
      for (const p of processes) {
        memoryByGpu.set(p.uuid, (memoryByGpu.get(p.uuid) ?? 0) + (p.memoryUsedBytes ?? 0));
      }
      const snapshot = { time: Date.now(), processes, memoryByGpu };
      this.#latestProcesses = snapshot;
      this.handlers.onProcesses?.(snapshot);
    } catch (error) {
      if (!this.#closing) this.#report(error);
    }
  }

  /** Closes the watcher when `signal` aborts; the listener is removed when the watcher closes. */
  closeOn(signal: AbortSignal): void {
    const onAbort = () => void this.close();
    signal.addEventListener("abort", onAbort, { once: true });
    this.#detach = () => signal.removeEventListener("abort", onAbort);
  }

  close(): Promise<void> {
    this.#detach?.();
    this.#detach = undefined;
    this.#closing ??= (async () => {
      if (this.#restartTimer) clearTimeout(this.#restartTimer);
      if (this.#flushTimer) clearTimeout(this.#flushTimer);
      this.#clearProcessTimer();
      this.#child?.kill("SIGTERM");
      await Promise.allSettled([this.#childDone, this.#processQuery]);
      this.#child = undefined;
      this.#setState("closed", undefined);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
