import type { AlertLevel, Labels, MetricSample } from "@tapline/core";
import type { Duration } from "./duration.ts";
import type { RuleKind } from "./kinds.ts";
import { createPreparedManager, prepare } from "./manager.ts";
import type { AlertRuleInput } from "./rules.ts";

/** A finished step, as `<dir>/runs` records it (`t: "step"`): replayed as `stepStart` and `stepEnd`. */
export interface BacktestStepRecord {
  readonly t: "step";
  /** Epoch ms when the step ended (it started `durationMs` before). */
  readonly time: number;
  readonly runId: string;
  readonly pipeline: string;
  /** The definition path (`scenes[]`), the `step` label. */
  readonly step: string;
  /** The unit's path with indexes (`scenes[3]`), when it differs from `step`. */
  readonly path?: string;
  readonly status: "success" | "failed" | "cancelled" | "skipped";
  readonly durationMs: number;
  /** The unit's size (`ctx.annotate("size", ...)`), for normalised regression rules, when recorded. */
  readonly size?: number;
  /** The run's labels, when recorded. */
  readonly labels?: Labels;
}

/** A finished run, as `<dir>/runs` records it (`t: "run"`): run-scoped alerts of the run resolve. */
export interface BacktestRunRecord {
  readonly t: "run";
  readonly time: number;
  readonly runId: string;
}

/**
 * One recorded line a backtest replays: a metric sample (a line of `<dir>/metrics`) or a step or run record (a
 * line of `<dir>/runs`). Other records (`t: "op"`, anything unrecognised) are skipped and counted.
 */
export type BacktestRecord = MetricSample | BacktestStepRecord | BacktestRunRecord;

/** Options of {@link backtest}. */
export interface BacktestOptions {
  /**
   * The rules, or the path of a YAML/JSON rule file (as for `createAlertManager`; its `route`, `inhibit` and
   * `silences` play no part: a backtest reports rule transitions, not notifications).
   */
  readonly rules: readonly AlertRuleInput[] | string;
  /** The recorded history, in any order: it is replayed by recorded time (records of one time keep their order). */
  readonly records: Iterable<unknown> | AsyncIterable<unknown>;
  /** Replay only records from this epoch ms on. */
  readonly since?: number;
  /** How often the replay evaluates between records, as the live manager's `evaluationInterval`. Default `1s`. */
  readonly evaluationInterval?: Duration;
}

/** One transition a rule would have made: an alert firing (or changing level) or resolving. */
export interface BacktestEvent {
  /** Epoch ms (recorded time). */
  readonly time: number;
  readonly state: "firing" | "resolved";
  readonly level: AlertLevel;
  /** The alert's labels (with `alertname`). */
  readonly labels: Labels;
  readonly fingerprint: string;
  readonly value?: number;
  readonly message: string;
  readonly runId?: string;
}

/** What one rule would have done over the replayed history. */
export interface BacktestRuleResult {
  readonly rule: string;
  readonly kind: RuleKind;
  /** Its transitions in time order; empty when it never fired. */
  readonly events: readonly BacktestEvent[];
  /** Alerts of this rule still firing when the history ends. */
  readonly firingAtEnd: number;
}

/** What {@link backtest} found. */
export interface BacktestResult {
  /** Epoch ms of the first and last replayed record (absent when nothing was replayed). */
  readonly from?: number;
  readonly to?: number;
  /** Records replayed: samples, steps, runs. */
  readonly records: { readonly samples: number; readonly steps: number; readonly runs: number };
  /** Records skipped: other kinds (`t: "op"`) and lines that are none of the replayed shapes. */
  readonly skipped: number;
  /** One per rule, in the rules' order. */
  readonly rules: readonly BacktestRuleResult[];
  /** What the manager reported while replaying (a rule reaching its series cap, ...). */
  readonly warnings: readonly string[];
}

type Replayed =
  | { at: number; kind: "sample"; sample: MetricSample }
  | { at: number; kind: "stepStart"; step: BacktestStepRecord }
  | { at: number; kind: "stepEnd"; step: BacktestStepRecord }
  | { at: number; kind: "run"; runId: string };

const finite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n);

/** The record's replayed events, or undefined when it is not one of the replayed shapes. */
function classify(record: unknown): Replayed[] | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const r = record as Record<string, unknown>;
  if (!finite(r.time)) return undefined;
  if (r.t === "step") {
    const s = r as unknown as BacktestStepRecord;
    if (typeof s.runId !== "string" || typeof s.pipeline !== "string" || typeof s.step !== "string")
      return undefined;
    if (!finite(s.durationMs) || typeof s.status !== "string") return undefined;
    return [
      { at: s.time - Math.max(0, s.durationMs), kind: "stepStart", step: s },
      { at: s.time, kind: "stepEnd", step: s },
    ];
  }
  if (r.t === "run") return typeof r.runId === "string" ? [{ at: r.time, kind: "run", runId: r.runId }] : [];
  if (r.t !== undefined) return [];
  if (typeof r.name !== "string" || typeof r.value !== "number" || typeof r.labels !== "object")
    return undefined;
  return [{ at: r.time, kind: "sample", sample: r as unknown as MetricSample }];
}

/**
 * Replays recorded history through rules with the live manager's own evaluation code, its clock set to the
 * recorded times (no second implementation): each metric sample is observed, each step record starts and ends a
 * step (`stepStart` at `time − durationMs`), each run record ends its run, and between records the manager
 * evaluates every `evaluationInterval` (windows age, `for` and `keepFiringFor` elapse, stuck steps are seen).
 * Resolves to each rule's transitions: when it would have fired and resolved, at what level, value and message.
 * Nothing is written and no handler is called; rule problems throw the same `AlertConfigError` as
 * `createAlertManager` (naming the rule file).
 *
 * The history is sorted in memory; pass `since` to bound a large data folder. Regression rules start from an
 * empty baseline, as on the first day of the history.
 *
 * @example
 * import { readJsonl } from "@tapline/plugin-metrics/files";
 * async function* recorded() { yield* readJsonl(".tapline/metrics"); yield* readJsonl(".tapline/runs"); }
 * const result = await backtest({ rules: "alerts.yaml", records: recorded() });
 * for (const r of result.rules) console.log(r.rule, r.events.map((e) => `${new Date(e.time).toISOString()} ${e.state}`));
 */
export async function backtest(options: BacktestOptions): Promise<BacktestResult> {
  const prepared = prepare(
    {
      rules: options.rules,
      ...(options.evaluationInterval !== undefined && { evaluationInterval: options.evaluationInterval }),
    },
    "backtest()",
  );
  const replayed: Replayed[] = [];
  const counts = { samples: 0, steps: 0, runs: 0 };
  let skipped = 0;
  let sized = 0;
  for await (const record of options.records as AsyncIterable<unknown>) {
    const events = classify(record);
    if (events === undefined || events.length === 0) {
      skipped++;
      continue;
    }
    const last = events[events.length - 1]!;
    if (options.since !== undefined && last.at < options.since) continue;
    if (last.kind === "sample") counts.samples++;
    else if (last.kind === "run") counts.runs++;
    else {
      counts.steps++;
      const size = (last as { step: BacktestStepRecord }).step.size;
      if (finite(size) && size > 0) sized++;
    }
    for (const e of events) replayed.push(e);
  }
  // Stable: records of one time keep their recorded order (a step's start before its end).
  replayed.sort((a, b) => a.at - b.at);

  let now = replayed[0]?.at ?? 0;
  const events = new Map<string, BacktestEvent[]>();
  const firing = new Map<string, string>(); // instance fingerprint → rule, while it fires
  const warnings: string[] = [];
  const manager = createPreparedManager(
    {
      onTransition(t) {
        if (t.state === "pending") return;
        const list = events.get(t.rule) ?? [];
        list.push({
          time: t.time,
          state: t.state === "resolved" ? "resolved" : "firing",
          level: t.level,
          labels: t.labels,
          fingerprint: t.fingerprint,
          ...(t.value !== undefined && { value: t.value }),
          message: t.message,
          ...(t.runId !== undefined && { runId: t.runId }),
        });
        events.set(t.rule, list);
      },
      onError(error) {
        warnings.push(error instanceof Error ? error.message : String(error));
      },
    },
    prepared,
    { now: () => now },
  );
  const evalMs = prepared.evalMs;
  // After the last record, evaluations change nothing once every time-driven part of every rule has run out
  // (windows, `for`, `keepFiringFor`, no-data, flap periods, warmups, stuck-step limits): long gaps between
  // runs skip to the next record instead of evaluating a night of silence second by second.
  const settle =
    Math.max(
      0,
      ...prepared.rules.flatMap((r) =>
        [
          r.windowMs,
          r.forMs,
          r.keepFiringForMs,
          r.noData.afterMs,
          r.flapPeriodMs,
          r.warmupMs,
          r.afterMs,
        ].filter(Number.isFinite),
      ),
    ) +
    2 * evalMs;
  // Gaps between records are replayed as if the app ran through them (no-data and keepFiringFor play out).
  let nextTick = now + evalMs;
  let lastRecord = now;
  for (const e of replayed) {
    if (e.at - lastRecord > settle) {
      for (; nextTick <= lastRecord + settle; nextTick += evalMs) tickAt(nextTick);
      // Skip the silent evaluations, keeping the grid: the next one is the last grid time before the record.
      const skip = Math.floor((e.at - nextTick) / evalMs);
      if (skip > 0) nextTick += skip * evalMs;
    }
    for (; nextTick <= e.at; nextTick += evalMs) tickAt(nextTick);
    now = e.at;
    lastRecord = e.at;
    apply(e);
  }
  // The history ends at its last record: what would happen after it (a `for` elapsing, no data) is not known.
  for (const alert of manager.active())
    if (alert.state === "firing") firing.set(alert.fingerprint, alert.rule);
  await manager.close();

  function tickAt(time: number): void {
    now = time;
    manager.tick();
  }
  function apply(e: Replayed): void {
    switch (e.kind) {
      case "sample":
        manager.observe(e.sample);
        return;
      case "stepStart":
        manager.stepStarted(stepObservation(e.step, e.at));
        return;
      case "stepEnd":
        manager.stepEnded({
          ...stepObservation(e.step, e.at),
          status: e.step.status,
          durationMs: e.step.durationMs,
          ...(finite(e.step.size) && { size: e.step.size }),
        });
        return;
      case "run":
        manager.endRun(e.runId);
        return;
    }
  }

  // A normalised regression rule divides by the step's size: without one it is given nothing to judge.
  if (counts.steps > 0 && sized === 0)
    for (const r of prepared.rules)
      if (r.kind === "regression" && r.normalize)
        warnings.push(
          `rule "${r.name}" (normalize: true) saw ${counts.steps} steps, none with a size: it never judged (its step records carry no size: record them with a plugin-metrics that writes sizes, from steps that annotate one)`,
        );
  const atEnd = new Map<string, number>();
  for (const rule of firing.values()) atEnd.set(rule, (atEnd.get(rule) ?? 0) + 1);
  return {
    ...(replayed.length > 0 && { from: replayed[0]!.at, to: lastRecord }),
    records: counts,
    skipped,
    rules: prepared.rules.map((r) => ({
      rule: r.name,
      kind: r.kind,
      events: events.get(r.name) ?? [],
      firingAtEnd: atEnd.get(r.name) ?? 0,
    })),
    warnings,
  };
}

function stepObservation(step: BacktestStepRecord, time: number) {
  return {
    runId: step.runId,
    pipeline: step.pipeline,
    step: step.step,
    ...(step.path !== undefined && { path: step.path }),
    ...(step.labels !== undefined && { labels: step.labels }),
    time,
  };
}
