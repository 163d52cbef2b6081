import { redactSecrets } from "@tapline/core";
import { redactFields } from "@tapline/core/kit";
import type {
  AlertsView,
  AlertView,
  Overview,
  RunSummary,
  SeriesView,
  StatusPartView,
  StepStats,
  UnitView,
} from "./api-types.ts";
import {
  beganExecution,
  endExecution,
  executionCount,
  fileUnit,
  newExecutions,
  type RunExecutions,
  replayedOf,
} from "./executions.ts";
import { quantile, Ring } from "./ring.ts";

/** @internal A step (unit) record as read from `runs/*.jsonl`, redacted. */
export type UnitRecord = Record<string, unknown> & {
  readonly runId: string;
  readonly pipeline: string;
  readonly step: string;
  readonly time: number;
};

/** @internal One run the model keeps. */
export interface RunEntry {
  runId: string;
  pipeline: string;
  status: string;
  time: number;
  startTime: number;
  durationMs: number;
  failedStep?: string;
  error?: string;
  /** From the run records (every execution's, summed). */
  cost?: Record<string, number>;
  units: UnitRecord[];
  /** Its executions (more than one when it was resumed) and its replayed units. */
  exec: RunExecutions;
  /** The status its totals count it under, once it ended. */
  counted?: string;
  /** Resumed: the ended executions' durations together, and when the current one began. */
  endedMs?: number;
  execStart?: number;
  /** The minute (epoch s) it first ended: where runs per minute count it. */
  minute?: number;
}

/** @internal A run entry with no record yet. */
export const newRunEntry = (runId: string, pipeline: string, time: number): RunEntry => ({
  runId,
  pipeline,
  status: "running",
  time,
  startTime: time,
  durationMs: 0,
  units: [],
  exec: newExecutions(),
});

interface StepAggregate {
  readonly pipeline: string;
  readonly step: string;
  count: number;
  failures: number;
  retries: number;
  /** Units replayed (not executed): kept out of count, durations and failures. */
  replayed: number;
  readonly durations: Ring;
  readonly errors: Map<string, number>;
  /** minute (epoch s) → [durations, failures] */
  readonly minutes: Map<number, { d: number[]; f: number }>;
}

interface SeriesEntry {
  readonly name: string;
  readonly labels: string;
  readonly unit: string | undefined;
  readonly points: [number, number][];
}

/** @internal Quality measures of a run's outputs, charted on the Steps page. */
export const QUALITY = /^tapline_(audio|video|subtitle)_|bitrate|loudness|lufs/;
const MINUTES_KEPT = 24 * 60;
const STEP_MINUTES_KEPT = 180;
const POINTS_PER_SERIES = 720;
const MAX_SERIES = 400;
const MAX_ERRORS_PER_STEP = 50;
const ALERT_HISTORY = 1000;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown, d = 0): number => (typeof v === "number" && Number.isFinite(v) ? v : d);

/** @internal A record's `cost` (`{ usd: 0.02 }`), finite numbers only; undefined when there is none. */
export function costOf(v: unknown): Record<string, number> | undefined {
  if (!v || typeof v !== "object") return undefined;
  const out: Record<string, number> = {};
  let any = false;
  for (const [unit, n] of Object.entries(v)) {
    if (typeof n !== "number" || !Number.isFinite(n)) continue;
    out[unit] = n;
    any = true;
  }
  return any ? out : undefined;
}
function addCost(into: Record<string, number>, cost: Readonly<Record<string, number>>): void {
  for (const [unit, n] of Object.entries(cost)) into[unit] = (into[unit] ?? 0) + n;
}

/** @internal `scenes[3].tts` → `scenes[].tts`: the label a unit's statistics are kept under. */
export const definitionPathOf = (path: string): string => path.replace(/\[\d+\]/g, "[]");

/** @internal `scenes[3].tts` → `scenes[3]`; `scenes[3]` → `scenes`; `media.voice` → `media`; `script` → undefined. */
export function parentPathOf(path: string): string | undefined {
  const m = /^(.*)(?:\.[^.[\]]+|\[\d+\])$/.exec(path);
  return m?.[1] ? m[1] : undefined;
}

/**
 * @internal Everything the pages show, built incrementally from the records as they are read: aggregates
 * (counts per minute, per-step durations and errors, metric series, alerts) plus the last `keepRuns` runs with
 * their units. Memory is bounded whatever the history's length.
 */
export class DashboardModel {
  readonly dir: string;
  readonly keepRuns: number;
  readonly #runs = new Map<string, RunEntry>();
  /** Runs dropped from memory (their records stay in the files). */
  evicted = 0;
  totals = { runs: 0, successes: 0, failures: 0, suspended: 0 };
  /** Runs `@tapline/plugin-durable`'s store holds as running with an expired lease (their process died). */
  #interrupted: ReadonlySet<string> = new Set();
  durable: Overview["durable"];
  readonly #minutes = new Map<number, [number, number]>();
  /** What finished runs cost: in all, and per minute (epoch s) for the last 24 hours. */
  readonly #spend: Record<string, number> = {};
  readonly #spendMinutes = new Map<number, Record<string, number>>();
  readonly #steps = new Map<string, StepAggregate>();
  readonly #series = new Map<string, SeriesEntry>();
  readonly #alertHistory: AlertView[] = [];
  readonly #firing = new Map<string, AlertView>();
  status: Overview["status"];
  warnings = 0;
  readonly pipelines = new Set<string>();
  /** Runs changed since {@link takeChanged}. */
  readonly #changed = new Set<string>();
  seriesChanged = false;
  alertsChanged = false;
  statusChanged = false;

  constructor(dir: string, keepRuns: number) {
    this.dir = dir;
    this.keepRuns = keepRuns;
  }

  /** A record of the runs stream (run, step, op). */
  addActivity(raw: Record<string, unknown>): void {
    const t = raw.t;
    if (t !== "run" && t !== "step") return;
    const runId = str(raw.runId);
    const pipeline = str(raw.pipeline);
    if (!runId || !pipeline) return;
    // Kept as read; what leaves the server is redacted on the way out (summaries, unit trees, errors), so
    // the cost is paid per record shown, not per record read.
    const record = raw as UnitRecord;
    const time = num(record.time, Date.now());
    this.pipelines.add(pipeline);
    let run = this.#runs.get(runId);
    if (!run) {
      run = newRunEntry(runId, pipeline, time);
      this.#runs.set(runId, run);
    }
    this.#changed.add(runId);
    if (t === "step") {
      const replayed = fileUnit(run.exec, record, run.units);
      const began = beganExecution(run.exec, run.units.length);
      run.units.push(record);
      const startedAt = time - num(record.durationMs);
      // A unit after the run ended: the run was resumed and runs again.
      if (run.counted !== undefined && began) {
        run.status = "running";
        run.execStart = startedAt;
      }
      run.time = Math.max(run.time, time);
      run.startTime = Math.min(run.startTime, startedAt);
      if (run.execStart !== undefined) run.execStart = Math.min(run.execStart, startedAt);
      if (run.status === "running")
        run.durationMs =
          run.execStart === undefined
            ? run.time - run.startTime
            : (run.endedMs ?? 0) + run.time - run.execStart;
      this.#addStep(record, time, replayed);
      return;
    }
    const status = str(record.status) ?? "failed";
    const firstEnd = run.counted === undefined;
    run.status = status;
    run.time = time;
    const failedStep = str(record.failedStep);
    run.failedStep = failedStep === undefined ? undefined : redactSecrets(failedStep);
    const error = str(record.error);
    run.error = error === undefined ? undefined : redactSecrets(error);
    endExecution(
      run.exec,
      {
        status,
        time,
        durationMs: num(record.durationMs),
        ...(run.failedStep !== undefined && { failedStep: run.failedStep }),
        ...(run.error !== undefined && { error: run.error }),
      },
      run.units.length,
    );
    // A resumed run's executions each add their duration and their cost.
    run.endedMs = (run.endedMs ?? 0) + num(record.durationMs);
    run.durationMs = run.endedMs;
    run.execStart = undefined;
    if (firstEnd) run.startTime = time - run.durationMs;
    const cost = costOf(record.cost);
    if (cost) {
      run.cost = run.cost && !firstEnd ? { ...run.cost } : {};
      addCost(run.cost, cost);
      addCost(this.#spend, cost);
      const minute = Math.floor(time / 60_000) * 60;
      const spent = this.#spendMinutes.get(minute) ?? {};
      addCost(spent, cost);
      this.#spendMinutes.set(minute, spent);
      if (this.#spendMinutes.size > MINUTES_KEPT)
        this.#spendMinutes.delete(this.#spendMinutes.keys().next().value!);
    }
    this.#count(run.counted, -1);
    this.#count(status, 1);
    // Runs per minute: under the minute it first ended, with its latest outcome (a suspended run is neither).
    const minute = firstEnd ? Math.floor(time / 60_000) * 60 : run.minute!;
    const bucket = this.#minutes.get(minute) ?? [0, 0];
    if (!firstEnd && run.counted !== "suspended") bucket[run.counted === "success" ? 0 : 1]--;
    if (status !== "suspended") bucket[status === "success" ? 0 : 1]++;
    run.counted = status;
    run.minute = minute;
    if (!firstEnd) {
      if (this.#minutes.has(minute)) this.#minutes.set(minute, bucket);
      return;
    }
    // Keep finished runs in end order: re-insert at the tail.
    this.#runs.delete(runId);
    this.#runs.set(runId, run);
    this.totals.runs++;
    this.#minutes.set(minute, bucket);
    if (this.#minutes.size > MINUTES_KEPT) this.#minutes.delete(this.#minutes.keys().next().value!);
    this.#evict();
  }

  /** A resumed run counts under its latest status: success, suspended, or a failure. */
  #count(status: string | undefined, by: 1 | -1): void {
    if (status === undefined) return;
    if (status === "success") this.totals.successes += by;
    else if (status === "suspended") this.totals.suspended += by;
    else this.totals.failures += by;
  }

  /** What `@tapline/plugin-durable`'s store says (waiting and interrupted runs), read by the server. */
  setDurable(view: Overview["durable"], interrupted: ReadonlySet<string>): void {
    const before = this.#interrupted;
    this.#interrupted = interrupted;
    for (const id of new Set([...before, ...interrupted]))
      if (before.has(id) !== interrupted.has(id) && this.#runs.has(id)) this.#changed.add(id);
    if (JSON.stringify(view) !== JSON.stringify(this.durable)) this.statusChanged = true;
    this.durable = view;
  }

  get interrupted(): ReadonlySet<string> {
    return this.#interrupted;
  }

  /** A run as the pages show it (`interrupted` when the store says its process died). */
  summary(run: RunEntry): RunSummary {
    return summarize(run, this.#interrupted);
  }

  #evict(): void {
    if (this.#runs.size <= this.keepRuns * 1.1 + 10) return;
    // Oldest finished runs first; a run still in progress goes only when those alone are too many.
    for (const pass of ["finished", "running"]) {
      for (const [id, run] of this.#runs) {
        if (this.#runs.size <= this.keepRuns) return;
        if ((run.status === "running") !== (pass === "running")) continue;
        this.#runs.delete(id);
        this.evicted++;
      }
    }
  }

  #addStep(record: UnitRecord, time: number, replayed: boolean): void {
    const path = str(record.path) ?? record.step;
    const def = str(record.definitionPath) ?? definitionPathOf(path);
    const key = `${record.pipeline}\u0000${def}`;
    let agg = this.#steps.get(key);
    if (!agg) {
      agg = {
        pipeline: record.pipeline,
        step: def,
        count: 0,
        failures: 0,
        retries: 0,
        replayed: 0,
        durations: new Ring(2048),
        errors: new Map(),
        minutes: new Map(),
      };
      this.#steps.set(key, agg);
    }
    if (replayed) {
      // Not executed: no duration, no attempt, no failure (a replay is never a 0 ms execution).
      agg.replayed++;
      return;
    }
    const duration = num(record.durationMs);
    const failed = record.status === "failed";
    agg.count++;
    agg.retries += Math.max(0, num(record.attempts, 1) - 1);
    agg.durations.push(duration);
    if (failed) {
      agg.failures++;
      const message = redactSecrets((str(record.error) ?? "(no message)").slice(0, 300));
      if (agg.errors.has(message) || agg.errors.size < MAX_ERRORS_PER_STEP)
        agg.errors.set(message, (agg.errors.get(message) ?? 0) + 1);
    }
    const minute = Math.floor(time / 60_000) * 60;
    let bucket = agg.minutes.get(minute);
    if (!bucket) {
      bucket = { d: [], f: 0 };
      agg.minutes.set(minute, bucket);
      if (agg.minutes.size > STEP_MINUTES_KEPT) agg.minutes.delete(agg.minutes.keys().next().value!);
    }
    if (bucket.d.length < 1000) bucket.d.push(duration);
    if (failed) bucket.f++;
  }

  /** A metric sample of the metrics stream. */
  addSample(raw: Record<string, unknown>): void {
    const name = str(raw.name);
    const value = raw.value;
    if (!name || typeof value !== "number" || !Number.isFinite(value)) return;
    // Per-run counters and step durations are already in the run records; the pages chart the process-wide
    // samples and, of a run's samples, the quality measures (loudness, true peak, bitrate, coverage...).
    if (name === "tapline_step_duration_seconds") return;
    if (raw.runId !== undefined && (raw.type === "counter" || !QUALITY.test(name))) return;
    const labels =
      raw.labels && typeof raw.labels === "object" ? (raw.labels as Record<string, unknown>) : {};
    const keys = Object.keys(labels).sort();
    const key = `${name}{${keys.map((k) => `${k}=${String(labels[k])}`).join(",")}}`;
    let series = this.#series.get(key);
    if (!series) {
      if (this.#series.size >= MAX_SERIES) return;
      const safe = redactFields(labels) as Record<string, unknown>;
      const labelText = keys.map((k) => `${k}=${String(safe[k])}`).join(",");
      series = { name, labels: labelText, unit: str(raw.unit), points: [] };
      this.#series.set(key, series);
    }
    series.points.push([Math.round(num(raw.time, Date.now())) / 1000, value]);
    if (series.points.length > POINTS_PER_SERIES * 1.25)
      series.points.splice(0, series.points.length - POINTS_PER_SERIES);
    this.seriesChanged = true;
  }

  /** An alert history entry. */
  addAlert(raw: Record<string, unknown>): void {
    if (typeof raw.time !== "number" || typeof raw.state !== "string") return;
    const r = redactFields(raw) as Record<string, unknown>;
    const labels = (r.labels && typeof r.labels === "object" ? r.labels : {}) as Record<string, string>;
    const alert: AlertView = {
      time: num(r.time),
      rule: str(r.rule) ?? "?",
      level: str(r.level) ?? "?",
      state: str(r.state) ?? "?",
      message: str(r.message) ?? "",
      labels,
      fingerprint: str(r.fingerprint) ?? "",
      ...(str(r.muted) && { muted: str(r.muted) }),
      ...(str(r.runId) && { runId: str(r.runId) }),
    };
    this.#alertHistory.push(alert);
    if (this.#alertHistory.length > ALERT_HISTORY * 1.25)
      this.#alertHistory.splice(0, this.#alertHistory.length - ALERT_HISTORY);
    const identity = `${Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(",")}\u0002${alert.rule}\u0002${alert.runId ?? ""}`;
    if (alert.state === "resolved") this.#firing.delete(identity);
    else this.#firing.set(identity, alert);
    this.alertsChanged = true;
  }

  /** The app's `status.json`. */
  setStatus(raw: unknown): void {
    const s = redactFields(raw) as Record<string, unknown> | undefined;
    if (!s || typeof s !== "object" || !Array.isArray(s.parts)) return;
    this.status = {
      level: str(s.level) ?? "unknown",
      message: str(s.message) ?? "",
      time: num(s.time),
      parts: (s.parts as Record<string, unknown>[]).map((p) => ({
        component: str(p.component) ?? "?",
        level: str(p.level) ?? "unknown",
        message: str(p.message) ?? "",
        ...(p.details && typeof p.details === "object"
          ? { details: p.details as Record<string, unknown> }
          : {}),
      })) as StatusPartView[],
    };
    this.statusChanged = true;
  }

  /** The runs changed since the last call, and clears the change flags. */
  takeChanged(): { runs: RunSummary[]; series: boolean; alerts: boolean; status: boolean } {
    const runs: RunSummary[] = [];
    for (const id of this.#changed) {
      const run = this.#runs.get(id);
      if (run) runs.push(this.summary(run));
    }
    const out = { runs, series: this.seriesChanged, alerts: this.alertsChanged, status: this.statusChanged };
    this.#changed.clear();
    this.seriesChanged = this.alertsChanged = this.statusChanged = false;
    return out;
  }

  get hasChanges(): boolean {
    return this.#changed.size > 0 || this.seriesChanged || this.alertsChanged || this.statusChanged;
  }

  overview(now = Date.now()): Overview {
    const minuteNow = Math.floor(now / 60_000) * 60;
    const perMinute: [number, number, number][] = [];
    for (let m = minuteNow - 59 * 60; m <= minuteNow; m += 60) {
      const b = this.#minutes.get(m);
      perMinute.push([m, b?.[0] ?? 0, b?.[1] ?? 0]);
    }
    let running = 0;
    for (const run of this.#runs.values()) if (run.status === "running") running++;
    const retry = this.status?.parts.find((p) => p.component === "retry");
    const breakers = (retry?.details?.breakers ?? {}) as Record<string, Record<string, string>>;
    const lastHour: Record<string, number> = {};
    const last24h: Record<string, number> = {};
    for (const [m, cost] of this.#spendMinutes) {
      if (m > minuteNow - 24 * 3600) addCost(last24h, cost);
      if (m > minuteNow - 3600) addCost(lastHour, cost);
    }
    const budget = this.status?.parts.find((p) => p.component === "limits")?.details?.budget;
    const windows =
      budget && typeof budget === "object" ? (budget as Overview["spend"]["windows"]) : undefined;
    return {
      dir: this.dir,
      now,
      ...(this.status && { status: this.status }),
      totals: { ...this.totals, running },
      perMinute,
      steps: [...this.#steps.values()].map((a) => ({
        pipeline: a.pipeline,
        step: a.step,
        p95Ms: quantile(a.durations.sorted(), 0.95),
        count: a.count,
        failures: a.failures,
        ...(a.replayed > 0 && { replayed: a.replayed }),
      })),
      firing: [...this.#firing.values()].filter((a) => a.state === "firing"),
      spend: { total: { ...this.#spend }, lastHour, last24h, ...(windows && { windows }) },
      breakers,
      ...(this.durable && { durable: this.durable }),
      pipelines: [...this.pipelines].sort(),
      warnings: this.warnings,
    };
  }

  /** The runs in memory matching a filter, newest first. */
  runs(filter: RunFilter): { runs: RunSummary[]; complete: boolean } {
    const out: RunSummary[] = [];
    const all = [...this.#runs.values()];
    for (let i = all.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const run = all[i]!;
      const summary = this.summary(run);
      if (matches(summary, filter)) out.push(summary);
    }
    out.sort((a, b) => b.time - a.time);
    return { runs: out, complete: out.length >= filter.limit || this.evicted === 0 };
  }

  run(runId: string): RunEntry | undefined {
    return this.#runs.get(runId);
  }

  steps(): StepStats[] {
    return [...this.#steps.values()].map((a) => {
      const sorted = a.durations.sorted();
      return {
        pipeline: a.pipeline,
        step: a.step,
        count: a.count,
        failures: a.failures,
        retries: a.retries,
        ...(a.replayed > 0 && { replayed: a.replayed }),
        p50Ms: quantile(sorted, 0.5),
        p95Ms: quantile(sorted, 0.95),
        topErrors: [...a.errors]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 5)
          .map(([message, count]) => ({ message, count })),
        series: [...a.minutes].map(([m, b]) => {
          const s = b.d.slice().sort((x, y) => x - y);
          return [m, quantile(s, 0.5), quantile(s, 0.95), b.f] as const;
        }),
      };
    });
  }

  series(prefix?: string): SeriesView[] {
    const out: SeriesView[] = [];
    for (const s of this.#series.values()) {
      if (prefix && !prefix.split(",").some((p) => s.name.startsWith(p))) continue;
      out.push({
        name: s.name,
        labels: s.labels,
        ...(s.unit && { unit: s.unit }),
        points: s.points.slice(-POINTS_PER_SERIES),
      });
    }
    return out;
  }

  alerts(): AlertsView {
    const part = this.status?.parts.find((p) => p.component === "alerts");
    const silences = Array.isArray(part?.details?.silences) ? (part.details.silences as unknown[]) : [];
    return {
      firing: [...this.#firing.values()],
      history: this.#alertHistory.slice(-200).reverse(),
      silences,
    };
  }
}

/** @internal Filters of the Runs page. */
export interface RunFilter {
  readonly status?: string;
  readonly pipeline?: string;
  /** Text in the run id, failed step or error. */
  readonly q?: string;
  /** Only runs that ended before this epoch ms (paging). */
  readonly before?: number;
  readonly limit: number;
}

/** @internal */
export function matches(
  run: { status: string; pipeline: string; time: number; runId: string; failedStep?: string; error?: string },
  f: RunFilter,
): boolean {
  if (f.status && run.status !== f.status) return false;
  if (f.pipeline && run.pipeline !== f.pipeline) return false;
  if (f.before !== undefined && run.time >= f.before) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (![run.runId, run.failedStep ?? "", run.error ?? ""].some((s) => s.toLowerCase().includes(q)))
      return false;
  }
  return true;
}

/** @internal */
export function summarize(run: RunEntry, interrupted?: ReadonlySet<string>): RunSummary {
  let attempts = 0;
  for (const u of run.units) attempts += num(u.attempts, 1);
  let cost = run.cost;
  if (!cost && run.status === "running") {
    // Not ended yet: what its finished top-level steps cost (a shape's record includes its units').
    const sum: Record<string, number> = {};
    for (const u of run.units) {
      const c = parentPathOf(str(u.path) ?? u.step) === undefined ? costOf(u.cost) : undefined;
      if (c) addCost(sum, c);
    }
    if (Object.keys(sum).length > 0) cost = sum;
  }
  const executions = executionCount(run.exec, run.units.length);
  const resumed = executions > 1 || replayedOf(run.exec).size > 0;
  let replayed = 0;
  for (const u of replayedOf(run.exec)) if ((u as UnitRecord).replayed === true) replayed++;
  return {
    runId: run.runId,
    pipeline: run.pipeline,
    status: run.status === "running" && interrupted?.has(run.runId) ? "interrupted" : run.status,
    time: run.time,
    startTime: run.startTime,
    durationMs: run.durationMs,
    attempts,
    steps: run.units.length,
    ...(run.failedStep !== undefined && { failedStep: run.failedStep }),
    ...(run.error !== undefined && { error: run.error }),
    ...(cost && { cost }),
    ...(resumed && { resumed: true, executions, replayed }),
  };
}

/**
 * @internal The unit tree of a run: records nest by path (`scenes[3]` under `scenes`), or carry their own
 * `children` (a report-shaped record); siblings keep their end order.
 */
export function unitTree(
  records: readonly UnitRecord[],
  artifactUrl: (path: string) => string | undefined,
  replayed: ReadonlySet<object> = new Set(),
): UnitView[] {
  // Records are kept as read: redacted here, on the way out.
  const units = records.map((r) => redactFields(r) as UnitRecord);
  const view = (u: Record<string, unknown>, i?: number): UnitView & { children: UnitView[] } => {
    const path = str(u.path) ?? str(u.step) ?? "?";
    const kids = Array.isArray(u.children) ? (u.children as Record<string, unknown>[]).map(view) : [];
    const findings = Array.isArray(u.findings)
      ? (u.findings as Record<string, unknown>[]).map((f) => ({
          severity: str(f.severity) ?? "error",
          message: str(f.message) ?? JSON.stringify(f),
          ...(str(f.file) && { file: str(f.file) }),
          ...(str(f.check) && { check: str(f.check) }),
          ...(typeof f.attempt === "number" && { attempt: f.attempt }),
        }))
      : undefined;
    const artifacts = Array.isArray(u.artifacts)
      ? (u.artifacts as Record<string, unknown>[])
          .filter((a) => typeof a.path === "string")
          .map((a) => {
            const url = artifactUrl(a.path as string);
            return {
              path: a.path as string,
              ...(str(a.kind) && { kind: str(a.kind) }),
              ...(typeof a.size === "number" && Number.isFinite(a.size) && { size: a.size }),
              ...(url && { url }),
            };
          })
      : undefined;
    // A replayed unit's record carries, as `cost`, what its first execution cost: what the replay saved.
    const wasReplayed = i !== undefined && replayed.has(records[i]!);
    const cost = costOf(u.cost);
    return {
      path,
      step: str(u.step) ?? path,
      status: str(u.status) ?? "?",
      time: num(u.time),
      durationMs: num(u.durationMs),
      attempts: num(u.attempts, 1),
      ...(Array.isArray(u.attemptsMs) && { attemptsMs: u.attemptsMs as number[] }),
      ...(str(u.error) && { error: str(u.error) }),
      ...(wasReplayed && { replayed: true as const }),
      ...(cost && (wasReplayed ? { savedCost: cost } : { cost })),
      ...(findings && { findings }),
      ...(artifacts && { artifacts }),
      children: kids,
    };
  };
  const byPath = new Map<string, UnitView & { children: UnitView[] }>();
  const roots: (UnitView & { children: UnitView[] })[] = [];
  const views = units.map((u, i) => view(u, i));
  for (const v of views) byPath.set(v.path, v);
  for (const v of views) {
    let parent: string | undefined = parentPathOf(v.path);
    let host: (UnitView & { children: UnitView[] }) | undefined;
    while (parent && !host) {
      host = byPath.get(parent);
      parent = parentPathOf(parent);
    }
    if (host && host !== v) {
      if (!host.children.some((c) => c.path === v.path)) host.children.push(v);
    } else roots.push(v);
  }
  // A replayed shape's record has no cost of its own: it saved what its units did.
  const saved = (v: UnitView & { children: UnitView[] }): UnitView => {
    const children = v.children.map((c) => saved(c as UnitView & { children: UnitView[] }));
    if (!v.replayed || v.savedCost || children.length === 0) return { ...v, children };
    const sum: Record<string, number> = {};
    for (const c of children) if (c.savedCost) addCost(sum, c.savedCost);
    return { ...v, children, ...(Object.keys(sum).length > 0 && { savedCost: sum }) };
  };
  return roots.map(saved);
}
