import { join, resolve } from "node:path";
import {
  type AppStatus,
  type Finding,
  isTaplineError,
  type MetricSample,
  type Redactor,
  redactSecrets,
} from "@tapline/core";
import { redactFields } from "@tapline/core/kit";
import { type PersistError, persistError } from "./errors.ts";
import { JsonlWriter, type JsonlWriterStats } from "./jsonl-writer.ts";
import {
  type ActivityRecord,
  type ArtifactRecord,
  type FindingRecord,
  RECORD_LIMITS,
  type RunRecord,
  type StepRecord,
} from "./records.ts";
import { STATUS_FILE, writeStatus } from "./status-file.ts";
import type { OperationEntry, OperationSink } from "./timing.ts";
import { errorMessage, type PerformanceTracker, type TrackerSnapshot } from "./tracker.ts";

/** Options of {@link createMetricsStore}. */
export interface MetricsStoreOptions {
  /** The data directory (the app's `dir`); streams go to `<dir>/runs`, `<dir>/metrics`, `<dir>/snapshots`. */
  dir: string;
  /** Default 1000 ms: what `kill -9` can lose at most. */
  flushIntervalMs?: number;
  /** Size rotation per file. Default 64 MiB. */
  maxFileBytes?: number;
  /** Days of files kept. Default 14; 0 keeps all. */
  retentionDays?: number;
  /** Persist every `metric` hook sample to `<dir>/metrics`. Default true. */
  persistSamples?: boolean;
  /** The tracker operations are also counted in (optional). */
  tracker?: PerformanceTracker;
  /** Clock (epoch ms) deciding which day's file a record goes to. Default `Date.now`. */
  now?: () => number;
  /**
   * Applied to every error message, operation subject and label persisted (runs, steps, operations).
   * Default: core's built-in redaction; the plugin passes the app's redactor (`api.redact`).
   */
  redact?: Redactor;
  /** Called once per failing stream when writes start failing (and once when `status.json` starts failing). */
  onError?: (error: PersistError) => void;
}

/** A finished step, as {@link MetricsStore.recordStep} takes it (core's step report has this shape). */
export interface StepEntry {
  readonly runId: string;
  readonly pipeline: string;
  /** The definition path (`scenes[]`). */
  readonly step: string;
  /** The unit's path (`scenes[3]`), kept in the record when it differs from `step`. */
  readonly path?: string;
  readonly status: StepRecord["status"];
  readonly durationMs: number;
  /**
   * Every attempt; their durations are kept when there was more than one, and the findings of every attempt
   * but the last (a rejected output a retry replaced) with their attempt number.
   */
  readonly attempts: readonly { readonly durationMs: number; readonly findings?: readonly Finding[] }[];
  /** The step's findings (core's step report: the last attempt's and those recorded outside attempts). */
  readonly findings?: readonly Finding[];
  /** The files the step declared; `size` in bytes when known. Relative paths are resolved from the cwd. */
  readonly artifacts?: readonly { readonly path: string; readonly kind?: string; readonly size?: number }[];
  /** The error, when the step did not succeed. */
  readonly error?: unknown;
  /** What the unit cost, by cost unit. */
  readonly cost?: Readonly<Record<string, number>>;
  /** A replayed unit (durable runs): recorded as such, never as an execution. */
  readonly replayed?: boolean;
  /** The unit's size (seconds of audio, frames...), when it reported one. */
  readonly size?: number;
  /** The unit's labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Epoch ms when it ended. Default now. */
  readonly time?: number;
}

/** A finished run, as {@link MetricsStore.recordRun} takes it. */
export interface RunEntry {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: RunRecord["status"];
  readonly durationMs: number;
  readonly failedStep?: string;
  /** The error, when the run did not succeed. */
  readonly error?: unknown;
  /** What the run cost, by cost unit. */
  readonly cost?: Readonly<Record<string, number>>;
  /** Epoch ms when it ended. Default now. */
  readonly time?: number;
}

/**
 * Persistence of runs, steps, operations, metric samples and tracker snapshots as batched, append-only,
 * rotated JSON lines under a directory. Usable without a pipeline: `createMetricsStore({ dir }).logOperation(...)`.
 */
export class MetricsStore implements OperationSink {
  readonly dir: string;
  readonly #runs: JsonlWriter;
  readonly #metrics: JsonlWriter;
  readonly #snapshots: JsonlWriter;
  readonly #persistSamples: boolean;
  readonly #tracker: PerformanceTracker | undefined;
  readonly #redact: Redactor;
  readonly #onError: ((error: PersistError) => void) | undefined;
  #statusError: PersistError | undefined;
  #checkpoint: Promise<void> = Promise.resolve();

  constructor(options: MetricsStoreOptions) {
    this.dir = options.dir;
    const common = {
      ...(options.flushIntervalMs !== undefined && { flushIntervalMs: options.flushIntervalMs }),
      ...(options.maxFileBytes !== undefined && { maxFileBytes: options.maxFileBytes }),
      ...(options.retentionDays !== undefined && { retentionDays: options.retentionDays }),
      ...(options.onError && { onError: options.onError }),
      ...(options.now && { now: options.now }),
    };
    this.#runs = new JsonlWriter({ folder: join(options.dir, "runs"), ...common });
    this.#metrics = new JsonlWriter({ folder: join(options.dir, "metrics"), ...common });
    this.#snapshots = new JsonlWriter({ folder: join(options.dir, "snapshots"), ...common });
    this.#persistSamples = options.persistSamples ?? true;
    this.#tracker = options.tracker;
    this.#redact = options.redact ?? DEFAULT_REDACTOR;
    this.#onError = options.onError;
  }

  /** Appends a run, step or operation record; its `error` message is redacted first. */
  record(record: ActivityRecord): void {
    const error = (record as { error?: unknown }).error;
    this.#runs.append(typeof error === "string" ? { ...record, error: this.#redact.text(error) } : record);
  }

  /** Appends a step record: durations to the microsecond, the error as a short redacted message. */
  recordStep(e: StepEntry): void {
    const ok = e.status === "success";
    this.#runs.append({
      t: "step",
      time: e.time ?? Date.now(),
      runId: e.runId,
      pipeline: e.pipeline,
      step: e.step,
      ...(e.path !== undefined && e.path !== e.step && { path: e.path }),
      status: e.status,
      durationMs: round(e.durationMs),
      attempts: e.attempts.length,
      ...(e.attempts.length > 1 && { attemptsMs: e.attempts.map((a) => round(a.durationMs)) }),
      ...(!ok && e.error !== undefined && { error: errorMessage(e.error, this.#redact.text) }),
      ...(e.cost && Object.keys(e.cost).length > 0 && { cost: e.cost }),
      ...(e.replayed && { replayed: true as const }),
      ...(typeof e.size === "number" && Number.isFinite(e.size) && { size: e.size }),
      ...(e.labels &&
        Object.keys(e.labels).length > 0 && {
          labels: this.#redact.fields(e.labels) as Record<string, string>,
        }),
      ...this.#evidence(e),
    } satisfies StepRecord);
  }

  /** The findings and artifacts of a step record: redacted, bounded ({@link RECORD_LIMITS}). */
  #evidence(e: StepEntry): Pick<StepRecord, "findings" | "artifacts" | "omitted"> {
    const text = this.#redact.text;
    const finding = (f: Finding, attempt?: number): FindingRecord => {
      const message = text(String(f.message));
      return {
        check: text(String(f.check)),
        severity: f.severity === "warning" || f.severity === "info" ? f.severity : "error",
        message:
          message.length > RECORD_LIMITS.message
            ? `${message.slice(0, RECORD_LIMITS.message - 1)}…`
            : message,
        ...(typeof f.file === "string" && { file: text(f.file) }),
        ...(attempt !== undefined && { attempt }),
      };
    };
    // The step's own findings first, then the earlier attempts', latest first: what ended the step matters most.
    const last = (e.findings ?? []).slice(0, RECORD_LIMITS.findings).map((f) => finding(f));
    let total = e.findings?.length ?? 0;
    const earlier: FindingRecord[] = [];
    for (let i = e.attempts.length - 2; i >= 0; i--) {
      const list = e.attempts[i]!.findings ?? [];
      total += list.length;
      for (const f of list)
        if (last.length + earlier.length < RECORD_LIMITS.findings) earlier.push(finding(f, i + 1));
    }
    earlier.sort((a, b) => a.attempt! - b.attempt!);
    const findings = [...earlier, ...last];
    const artifacts = (e.artifacts ?? []).slice(0, RECORD_LIMITS.artifacts).map(
      (a): ArtifactRecord => ({
        path: text(resolve(a.path)),
        ...(typeof a.kind === "string" && { kind: a.kind }),
        ...(typeof a.size === "number" && { size: a.size }),
      }),
    );
    const omittedFindings = total - findings.length;
    const omittedArtifacts = (e.artifacts?.length ?? 0) - artifacts.length;
    return {
      ...(findings.length > 0 && { findings }),
      ...(artifacts.length > 0 && { artifacts }),
      ...((omittedFindings > 0 || omittedArtifacts > 0) && {
        omitted: {
          ...(omittedFindings > 0 && { findings: omittedFindings }),
          ...(omittedArtifacts > 0 && { artifacts: omittedArtifacts }),
        },
      }),
    };
  }

  /** Appends a run record: duration to the microsecond, the error as a short redacted message. */
  recordRun(e: RunEntry): void {
    this.#runs.append({
      t: "run",
      time: e.time ?? Date.now(),
      runId: e.runId,
      pipeline: e.pipeline,
      status: e.status,
      durationMs: round(e.durationMs),
      ...(e.failedStep !== undefined && { failedStep: e.failedStep }),
      ...(e.status !== "success" &&
        e.error !== undefined && { error: errorMessage(e.error, this.#redact.text) }),
      ...(e.cost && Object.keys(e.cost).length > 0 && { cost: e.cost }),
    } satisfies RunRecord);
  }

  /** Records a standalone operation: persisted, and counted in the tracker when there is one. */
  logOperation(entry: OperationEntry): void {
    this.#tracker?.record(
      "operation",
      entry.operation,
      undefined,
      entry.duration,
      entry.success,
      entry.error,
    );
    this.#runs.append({
      t: "op",
      time: entry.time ?? Date.now(),
      operation: entry.operation,
      ...(entry.subject !== undefined && { subject: this.#redact.text(String(entry.subject)) }),
      durationMs: round(entry.duration),
      success: entry.success,
      ...(!entry.success && { error: errorMessage(entry.error, this.#redact.text) }),
      ...(entry.labels && { labels: this.#redact.fields(entry.labels) }),
      ...(entry.metrics && { metrics: entry.metrics }),
    });
  }

  /** Appends a metric sample (`{ name, value, labels, time, ... }`). */
  sample(sample: MetricSample): void {
    if (this.#persistSamples) this.#metrics.append(sample);
  }

  /** Appends a tracker snapshot. */
  snapshot(snapshot: TrackerSnapshot): void {
    this.#snapshots.append(snapshot);
  }

  /**
   * Writes `status` (redacted) to `<dir>/status.json` atomically. Never throws: a failure makes the store
   * `degraded` and is given to `onError` once (as a {@link PersistError}), until a write succeeds again.
   */
  async writeStatus(status: AppStatus): Promise<void> {
    try {
      await writeStatus(this.dir, this.#redact.fields(status));
      this.#statusError = undefined;
    } catch (error) {
      if (this.#statusError) return;
      this.#statusError = isTaplineError(error, "TAPLINE_ERR_METRICS_PERSIST")
        ? error
        : persistError(join(this.dir, STATUS_FILE), error);
      this.#onError?.(this.#statusError);
    }
  }

  /**
   * A checkpoint: appends `snapshot`, flushes every stream, then writes `status()` to `status.json`.
   * Checkpoints never overlap: one asked for while another is being written waits for it.
   */
  checkpoint(snapshot: TrackerSnapshot, status?: () => AppStatus): Promise<void> {
    const run = this.#checkpoint.then(async () => {
      this.snapshot(snapshot);
      await this.flush();
      if (status) await this.writeStatus(status());
    });
    this.#checkpoint = run.catch(() => {});
    return run;
  }

  /**
   * True when a stream has a write in flight and a full batch (or a record older than the flush interval)
   * waiting behind it: a producer in a loop that never yields should await {@link drain} now.
   */
  get backlogged(): boolean {
    return this.#runs.backlogged || this.#metrics.backlogged || this.#snapshots.backlogged;
  }

  /** Backpressure: waits for the writes in flight and writes what is buffered. */
  drain(): Promise<void> {
    return this.flush();
  }

  /** Writes everything buffered. */
  async flush(): Promise<void> {
    await Promise.all([this.#runs.flush(), this.#metrics.flush(), this.#snapshots.flush()]);
  }

  /** Writes everything buffered, synchronously (for `process.on("exit")`). */
  flushSync(): void {
    this.#runs.flushSync();
    this.#metrics.flushSync();
    this.#snapshots.flushSync();
  }

  /** Flushes and closes every file. */
  async close(): Promise<void> {
    await Promise.all([this.#runs.close(), this.#metrics.close(), this.#snapshots.close()]);
  }

  /** True while any stream (or `status.json`) cannot be written. */
  get degraded(): boolean {
    return (
      this.#statusError !== undefined ||
      this.#runs.stats.degraded ||
      this.#metrics.stats.degraded ||
      this.#snapshots.stats.degraded
    );
  }

  /** The message of the latest write failure still in effect, if any. */
  get lastError(): string | undefined {
    return (
      this.#runs.stats.lastError ??
      this.#metrics.stats.lastError ??
      this.#snapshots.stats.lastError ??
      this.#statusError?.message
    );
  }

  /** Counters of each stream. */
  get stats(): { runs: JsonlWriterStats; metrics: JsonlWriterStats; snapshots: JsonlWriterStats } {
    return { runs: this.#runs.stats, metrics: this.#metrics.stats, snapshots: this.#snapshots.stats };
  }
}

const DEFAULT_REDACTOR: Redactor = { text: redactSecrets, fields: redactFields };

/** Creates a {@link MetricsStore}. */
export function createMetricsStore(options: MetricsStoreOptions): MetricsStore {
  return new MetricsStore(options);
}

/** Durations are persisted to the microsecond. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
