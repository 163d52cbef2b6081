import { join } from "node:path";
import { redactSecrets } from "@tapline/core";
import { redactFields } from "@tapline/core/kit";
import { fileUnit, newExecutions, type RunExecutions } from "./executions.ts";
import { definitionPathOf, QUALITY } from "./model.ts";
import { quantile } from "./ring.ts";
import { FolderTail } from "./tail.ts";

/** @internal Distribution of a set of values. */
export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  /** Sorted values (at most 5000, evenly sampled), for histograms. */
  readonly values: readonly number[];
}

/** @internal What a quality report shows, gathered from a data folder over a period. */
export interface ReportData {
  readonly dir: string;
  readonly from: number;
  readonly to: number;
  readonly generated: number;
  readonly runs: {
    readonly count: number;
    readonly successes: number;
    readonly failures: number;
    readonly cancelled: number;
    /** Waiting for approval (durable runs): neither a success nor a failure. */
    readonly suspended: number;
    /** Runs executed more than once (resumed, `@tapline/plugin-durable`): counted once, by their last outcome. */
    readonly resumed: number;
  };
  readonly pipelines: readonly {
    readonly pipeline: string;
    readonly count: number;
    readonly successes: number;
  }[];
  readonly steps: readonly {
    readonly pipeline: string;
    readonly step: string;
    readonly failures: number;
    readonly retries: number;
    /** Units that succeeded after more than one attempt. */
    readonly healed: number;
    /** Units replayed by a durable store (not executed): not in the durations or the failure rate. */
    readonly replayed: number;
    readonly durations: Distribution;
  }[];
  readonly failures: readonly {
    readonly pipeline: string;
    readonly step: string;
    readonly error: string;
    readonly count: number;
  }[];
  /** Findings per file, from records that carry them. */
  readonly findingsByFile: readonly {
    readonly file: string;
    readonly severity: string;
    readonly check: string;
    readonly message: string;
    readonly count: number;
  }[];
  /** Findings counted by check and severity (tapline_validation_findings_total). */
  readonly findingsByCheck: readonly {
    readonly check: string;
    readonly severity: string;
    readonly count: number;
  }[];
  /** Quality sample distributions: loudness, true peak, bitrate, coverage... by metric name. */
  readonly quality: readonly {
    readonly name: string;
    readonly unit?: string;
    readonly values: Distribution;
  }[];
  readonly gpuEnergy: {
    readonly runs: number;
    readonly totalJoules: number;
    readonly perRun: readonly { readonly runId: string; readonly joules: number }[];
  };
  readonly alerts: readonly { readonly rule: string; readonly level: string; readonly firings: number }[];
}

const JSONL = /^(\d{4}-\d{2}-\d{2})\.\d+\.jsonl$/;
const ALERTS = /^alerts-(\d{4}-\d{2}-\d{2})(?:\.\d+)?\.jsonl$/;
const MAX_VALUES = 20_000;

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Only the files of the days the period touches. */
function daysMatch(pattern: RegExp, from: number, to: number): { test(name: string): boolean } {
  const lo = day(Math.max(0, from));
  const hi = day(Math.min(to, 8.64e15));
  return {
    test: (name: string) => {
      const m = pattern.exec(name);
      return !!m && m[1]! >= lo && m[1]! <= hi;
    },
  };
}

/** A bounded sample of values (reservoir), then its distribution. */
class Values {
  readonly #values: number[] = [];
  #seen = 0;
  add(v: number): void {
    this.#seen++;
    if (this.#values.length < MAX_VALUES) this.#values.push(v);
    else {
      const i = Math.floor(Math.random() * this.#seen);
      if (i < MAX_VALUES) this.#values[i] = v;
    }
  }
  distribution(): Distribution {
    const s = this.#values.slice().sort((a, b) => a - b);
    const step = Math.max(1, Math.floor(s.length / 5000));
    return {
      count: this.#seen,
      min: s[0] ?? 0,
      p50: quantile(s, 0.5),
      p95: quantile(s, 0.95),
      max: s[s.length - 1] ?? 0,
      values: s.filter((_, i) => i % step === 0),
    };
  }
}

/** @internal Reads the folder's records of the period (streaming, bounded memory) into a report's figures. */
export async function gatherReport(dir: string, from: number, to: number): Promise<ReportData> {
  const inPeriod = (t: unknown) => typeof t === "number" && t >= from && t < to;
  // A resumed run has a run record per execution: each run is counted once, by its last outcome.
  const ended = new Map<string, { pipeline: string; status: string; executions: number }>();
  // Executions in progress, to tell a replayed shape (all its units replayed) from an executed one.
  // (their records until their run record: a run's current execution, nothing older)
  const executing = new Map<string, { exec: RunExecutions; units: Record<string, unknown>[] }>();
  const steps = new Map<
    string,
    {
      pipeline: string;
      step: string;
      failures: number;
      retries: number;
      healed: number;
      replayed: number;
      d: Values;
    }
  >();
  const failures = new Map<string, { pipeline: string; step: string; error: string; count: number }>();
  const findingsByFile = new Map<
    string,
    { file: string; severity: string; check: string; message: string; count: number }
  >();
  await new FolderTail(join(dir, "runs"), daysMatch(JSONL, from, to)).poll((r) => {
    if (!inPeriod(r.time)) return;
    const pipeline = str(r.pipeline) ?? "?";
    if (r.t === "run") {
      const runId = str(r.runId) ?? "?";
      const before = ended.get(runId);
      ended.set(runId, {
        pipeline,
        status: str(r.status) ?? "failed",
        executions: (before?.executions ?? 0) + 1,
      });
      executing.delete(runId);
      return;
    }
    if (r.t !== "step") return;
    const runId = str(r.runId) ?? "?";
    let run = executing.get(runId);
    if (!run) {
      run = { exec: newExecutions(), units: [] };
      executing.set(runId, run);
    }
    const replayed = fileUnit(run.exec, r, run.units);
    run.units.push(r);
    const step = str(r.definitionPath) ?? definitionPathOf(str(r.path) ?? str(r.step) ?? "?");
    const key = `${pipeline}\u0000${step}`;
    let s = steps.get(key);
    if (!s) {
      s = { pipeline, step, failures: 0, retries: 0, healed: 0, replayed: 0, d: new Values() };
      steps.set(key, s);
    }
    if (replayed) {
      s.replayed++;
      return;
    }
    const attempts = num(r.attempts) ?? 1;
    s.d.add(num(r.durationMs) ?? 0);
    s.retries += Math.max(0, attempts - 1);
    if (r.status === "success" && attempts > 1) s.healed++;
    if (r.status === "failed") {
      s.failures++;
      const error = redactSecrets((str(r.error) ?? "(no message)").slice(0, 300));
      const fk = `${key}\u0000${error}`;
      const f = failures.get(fk) ?? { pipeline, step, error, count: 0 };
      f.count++;
      if (f.count > 1 || failures.size < 500) failures.set(fk, f);
    }
    if (Array.isArray(r.findings)) {
      for (const raw of r.findings as Record<string, unknown>[]) {
        const f = redactFields(raw);
        const file = str(f.file) ?? "(no file)";
        const check = str(f.check) ?? "?";
        const severity = str(f.severity) ?? "error";
        const message = str(f.message) ?? "";
        const k = `${file}\u0000${check}\u0000${severity}\u0000${message}`;
        const e = findingsByFile.get(k) ?? { file, check, severity, message, count: 0 };
        e.count++;
        if (e.count > 1 || findingsByFile.size < 2000) findingsByFile.set(k, e);
      }
    }
  });

  const byCheck = new Map<string, { check: string; severity: string; count: number }>();
  const quality = new Map<string, { name: string; unit?: string; v: Values }>();
  const energy = new Map<string, number>();
  await new FolderTail(join(dir, "metrics"), daysMatch(JSONL, from, to)).poll((r) => {
    if (!inPeriod(r.time)) return;
    const name = str(r.name);
    const value = num(r.value);
    if (!name || value === undefined) return;
    const labels = (r.labels ?? {}) as Record<string, unknown>;
    if (name === "tapline_validation_findings_total") {
      const check = str(labels.check) ?? "?";
      const severity = str(labels.severity) ?? "?";
      const k = `${check}\u0000${severity}`;
      const e = byCheck.get(k) ?? { check, severity, count: 0 };
      e.count += value;
      byCheck.set(k, e);
    } else if (name === "tapline_step_gpu_energy_joules_total") {
      const runId = str(r.runId) ?? "(no run)";
      energy.set(runId, (energy.get(runId) ?? 0) + value);
    } else if (QUALITY.test(name)) {
      let q = quality.get(name);
      if (!q) {
        q = { name, ...(str(r.unit) && { unit: str(r.unit) }), v: new Values() };
        quality.set(name, q);
      }
      q.v.add(value);
    }
  });

  const alerts = new Map<string, { rule: string; level: string; firings: number }>();
  await new FolderTail(join(dir, "alerts"), daysMatch(ALERTS, from, to)).poll((r) => {
    if (!inPeriod(r.time) || r.state !== "firing") return;
    const rule = str(r.rule) ?? "?";
    const level = str(r.level) ?? "?";
    const k = `${rule}\u0000${level}`;
    const a = alerts.get(k) ?? { rule, level, firings: 0 };
    a.firings++;
    alerts.set(k, a);
  });

  const runs = { count: 0, successes: 0, failures: 0, cancelled: 0, suspended: 0, resumed: 0 };
  const pipelines = new Map<string, { count: number; successes: number }>();
  for (const run of ended.values()) {
    runs.count++;
    if (run.executions > 1) runs.resumed++;
    const p = pipelines.get(run.pipeline) ?? { count: 0, successes: 0 };
    p.count++;
    if (run.status === "success") {
      runs.successes++;
      p.successes++;
    } else if (run.status === "cancelled") runs.cancelled++;
    else if (run.status === "suspended") runs.suspended++;
    else runs.failures++;
    pipelines.set(run.pipeline, p);
  }
  const perRun = [...energy]
    .map(([runId, joules]) => ({ runId, joules }))
    .sort((a, b) => b.joules - a.joules);
  return {
    dir,
    from,
    to,
    generated: Date.now(),
    runs,
    pipelines: [...pipelines].map(([pipeline, p]) => ({ pipeline, ...p })).sort((a, b) => b.count - a.count),
    steps: [...steps.values()].map(({ d, ...s }) => ({ ...s, durations: d.distribution() })),
    failures: [...failures.values()].sort((a, b) => b.count - a.count).slice(0, 50),
    findingsByFile: [...findingsByFile.values()].sort(
      (a, b) => a.file.localeCompare(b.file) || b.count - a.count,
    ),
    findingsByCheck: [...byCheck.values()].sort((a, b) => b.count - a.count),
    quality: [...quality.values()].map(({ v, ...q }) => ({ ...q, values: v.distribution() })),
    gpuEnergy: {
      runs: perRun.length,
      totalJoules: perRun.reduce((a, b) => a + b.joules, 0),
      perRun: perRun.slice(0, 50),
    },
    alerts: [...alerts.values()].sort((a, b) => b.firings - a.firings),
  };
}
