import type { AlertEvent, AlertLevel, Labels, MetricSample } from "@tapline/core";
import { AnomalyModel, PredictModel, RegressionModel, type SeriesModel } from "./detectors.ts";
import { formatDuration } from "./duration.ts";
import { labelKey } from "./fingerprint.ts";
import { formatValue, renderTemplate } from "./format.ts";
import { compileMatchers } from "./matchers.ts";
import type { NormalLevel, NormalRule } from "./rules.ts";
import { SampleWindow } from "./window.ts";

/**
 * An alert transition as the engine emits it: core's `AlertEvent` plus the instance's identity, which stays the
 * same across level changes (the public fingerprint, over the labels with `severity`, does not).
 */
export interface Transition extends AlertEvent {
  readonly id: string;
  readonly startsAt: number;
  /** Set on `resolved`. */
  readonly endsAt?: number;
}

/** @internal Where the engine sends transitions and cardinality warnings. */
export interface EngineSink {
  emit(t: Transition): void;
  dropped(rule: string, limit: number): void;
  inactive(id: string, time: number): void;
}

interface Instance {
  state: "pending" | "firing";
  level: NormalLevel | undefined;
  noData: boolean;
  activeAt: number;
  startsAt: number;
  lastTrueAt: number;
  value: number | undefined;
  /** Set while the instance flaps: it resolves only once clear for a whole flap period. */
  flapping: boolean;
}

interface Series {
  readonly labels: Labels;
  readonly id: string;
  readonly runId: string | undefined;
  /** A threshold rule's window, or another kind's model. */
  readonly window: SampleWindow | SeriesModel;
  divisor: number | undefined;
  instance: Instance | undefined;
  /** Epoch ms of the last firings (at most the rule's flap count), for flap suppression. */
  fired: number[] | undefined;
}

/** A persisted regression series: its labels and its model's state. */
export interface SavedSeries {
  readonly key: string;
  readonly labels: Labels;
  readonly state: ReturnType<RegressionModel["save"]>;
}

/**
 * @internal
 * One threshold rule and its series: matches samples, keeps a window per instance label set, and runs the
 * state machine inactive → pending (`for`) → firing (levels with hysteresis, `keepFiringFor`) → resolved.
 */
export class CompiledRule {
  readonly rule: NormalRule;
  readonly matches: (labels: Labels) => boolean;
  readonly #series = new Map<string, Series>();
  readonly #sink: EngineSink;
  readonly #maxSeries: number;
  readonly #maxSamples: number;
  #droppedReported = false;

  constructor(rule: NormalRule, sink: EngineSink, maxSeries: number, maxSamples: number) {
    this.rule = rule;
    this.matches = compileMatchers(rule.matchers);
    this.#sink = sink;
    this.#maxSeries = maxSeries;
    this.#maxSamples = maxSamples;
  }

  get seriesCount(): number {
    return this.#series.size;
  }

  /** Regression rules: the series whose state changed since the last save (all with `all`), and marks them saved. */
  save(all = false): SavedSeries[] | undefined {
    if (this.rule.kind !== "regression") return undefined;
    let dirty = all;
    for (const s of this.#series.values()) if ((s.window as RegressionModel).dirty) dirty = true;
    if (!dirty) return undefined;
    const out: SavedSeries[] = [];
    for (const [key, s] of this.#series) {
      const model = s.window as RegressionModel;
      model.dirty = false;
      const { alertname: _a, ...labels } = s.labels as Record<string, string>;
      for (const k of Object.keys(this.rule.labels)) delete labels[k];
      out.push({ key, labels, state: model.save() });
    }
    return out;
  }

  /** Regression rules: restores persisted series (up to the series cap). */
  load(saved: readonly SavedSeries[]): void {
    for (const entry of saved) {
      const series = this.#newSeries(entry.key, entry.labels, undefined);
      if (series) (series.window as RegressionModel).load(entry.state);
    }
  }

  #model(): SampleWindow | SeriesModel {
    const r = this.rule;
    switch (r.kind) {
      case "anomaly":
        return new AnomalyModel(r.windowMs, this.#maxSamples, r.minSamples, r.warmupMs, r.direction);
      case "predict":
        return new PredictModel(r.windowMs, r.horizonMs, this.#maxSamples, r.minSamples);
      case "regression":
        return new RegressionModel(
          r.windowMs,
          r.recent ?? Math.min(this.#maxSamples, 1000),
          r.baseline,
          r.minSamples,
          r.compare,
        );
      default:
        return new SampleWindow(r.windowMs, this.#maxSamples);
    }
  }

  /** Feeds one matching sample; `key` is the sample's label key when the rule has no `by` (shared across rules). */
  observe(sample: MetricSample, now: number, fullKey: string | undefined): void {
    const series = this.#seriesFor(sample, fullKey);
    if (!series) return;
    if (sample.name === this.rule.divideBy && sample.name !== this.rule.metric) {
      series.divisor = sample.value;
      this.#evaluate(series, now);
      return;
    }
    series.window.push(sample.time, sample.value);
    this.#evaluate(series, now);
  }

  /** Re-evaluates every series at `now`: windows age, `for` elapses, `keepFiringFor` runs out, data goes missing. */
  tick(now: number): void {
    for (const [key, series] of this.#series) {
      series.window.evict(now);
      const silentFor = now - series.window.lastTime;
      if (silentFor >= this.rule.noData.afterMs) {
        if (this.#noData(series, now)) this.#series.delete(key);
        continue;
      }
      this.#evaluate(series, now);
      // An idle series is forgotten, unless the no-data policy still has to watch it.
      if (!series.instance && series.window.size === 0 && this.rule.noData.state !== "alerting")
        this.#series.delete(key);
    }
  }

  /** Resolves and forgets every instance of a run (run-scoped rules). */
  endRun(runId: string, now: number): void {
    for (const [key, series] of this.#series) {
      if (series.runId !== runId) continue;
      this.#resolve(series, now, "run ended");
      this.#series.delete(key);
    }
  }

  /** Resolves every firing instance (the manager is closing or the rule was removed). */
  resolveAll(now: number): void {
    for (const series of this.#series.values()) this.#resolve(series, now, undefined);
    this.#series.clear();
  }

  #seriesFor(sample: MetricSample, fullKey: string | undefined): Series | undefined {
    const rule = this.rule;
    let labels: Labels;
    let key: string;
    if (rule.by) {
      const picked: Record<string, string> = {};
      key = "";
      for (const name of rule.by) {
        const v = sample.labels[name];
        if (v !== undefined) picked[name] = v;
        key += `${v ?? ""}\u0001`;
      }
      labels = picked;
    } else {
      labels = sample.labels;
      key = fullKey ?? labelKey(sample.labels);
    }
    const runId = rule.scope === "run" ? sample.runId : undefined;
    if (runId !== undefined) key += `\u0002${runId}`;
    return this.#series.get(key) ?? this.#newSeries(key, labels, runId);
  }

  #newSeries(key: string, labels: Labels, runId: string | undefined): Series | undefined {
    const rule = this.rule;
    if (this.#series.size >= this.#maxSeries) {
      if (!this.#droppedReported) {
        this.#droppedReported = true;
        this.#sink.dropped(rule.name, this.#maxSeries);
      }
      return undefined;
    }
    const alertLabels = { alertname: rule.name, ...labels, ...rule.labels };
    const series: Series = {
      labels: alertLabels,
      id: labelKey(runId === undefined ? alertLabels : { ...alertLabels, run_id: runId }),
      runId,
      window: this.#model(),
      divisor: undefined,
      instance: undefined,
      fired: undefined,
    };
    this.#series.set(key, series);
    return series;
  }

  #value(series: Series, now: number): number | undefined {
    const window = series.window;
    if (!(window instanceof SampleWindow)) return window.value(now);
    if (window.size < this.rule.minSamples) return undefined;
    const v = window.aggregate(this.rule.aggregate);
    if (v === undefined || this.rule.divideBy === undefined) return v;
    return series.divisor ? v / series.divisor : undefined;
  }

  /** The most severe level whose condition holds; a level already reached holds until its clear threshold. */
  #levelFor(value: number, current: NormalLevel | undefined): NormalLevel | undefined {
    const op = this.rule.op;
    for (const level of this.rule.levels) {
      const held = current !== undefined && current.rank >= level.rank;
      const limit = held ? level.clear : level.threshold;
      const ok =
        op === ">"
          ? value > limit
          : op === ">="
            ? value >= limit
            : op === "<"
              ? value < limit
              : value <= limit;
      if (ok) return level;
    }
    return undefined;
  }

  #evaluate(series: Series, now: number): void {
    const value = this.#value(series, now);
    const inst = series.instance;
    const level =
      value === undefined ? undefined : this.#levelFor(value, inst?.noData ? undefined : inst?.level);
    const rule = this.rule;
    if (level) {
      if (!inst) {
        const firing = rule.forMs === 0;
        series.instance = {
          state: firing ? "firing" : "pending",
          level,
          noData: false,
          activeAt: now,
          startsAt: now,
          lastTrueAt: now,
          value,
          flapping: false,
        };
        if (firing) this.#firedAt(series, now);
        this.#emit(series, firing ? "firing" : "pending", now);
        return;
      }
      const changed = inst.level !== level || inst.noData;
      inst.level = level;
      inst.noData = false;
      inst.value = value;
      inst.lastTrueAt = now;
      if (inst.state === "pending") {
        if (now - inst.activeAt >= rule.forMs) {
          inst.state = "firing";
          inst.startsAt = now;
          this.#firedAt(series, now);
          this.#emit(series, "firing", now);
        }
      } else if (changed) this.#emit(series, "firing", now);
      return;
    }
    if (!inst) return;
    if (inst.noData) {
      if (series.window.size > 0) this.#resolve(series, now, "data is back");
      return;
    }
    if (value !== undefined) inst.value = value;
    if (inst.state === "pending") {
      series.instance = undefined; // never fired: back to inactive, nothing to notify
      this.#emit(series, "inactive", now, inst);
      return;
    }
    // A flapping instance holds until its condition has been clear for a whole flap period.
    const hold = inst.flapping ? Math.max(rule.keepFiringForMs, rule.flapPeriodMs) : rule.keepFiringForMs;
    if (now - inst.lastTrueAt >= hold) this.#resolve(series, now, inst.flapping ? "stable again" : undefined);
  }

  /** Records a firing; `count` of them within the flap period mark the instance as flapping. */
  #firedAt(series: Series, now: number): void {
    const rule = this.rule;
    if (rule.flapPeriodMs === Number.POSITIVE_INFINITY) return;
    series.fired ??= [];
    const fired = series.fired;
    fired.push(now);
    if (fired.length > rule.flapCount) fired.shift();
    if (fired.length >= rule.flapCount && now - fired[0]! <= rule.flapPeriodMs)
      series.instance!.flapping = true;
  }

  /** Applies the no-data policy; returns true when the series may be forgotten. */
  #noData(series: Series, now: number): boolean {
    const policy = this.rule.noData;
    if (policy.state === "keepLast") return series.instance === undefined;
    if (policy.state === "ok") {
      this.#resolve(series, now, "no data");
      return true;
    }
    const inst = series.instance;
    if (inst?.noData) return false;
    const level: NormalLevel = { level: policy.level, rank: 0, threshold: Number.NaN, clear: Number.NaN };
    if (inst) {
      inst.noData = true;
      inst.level = level;
      inst.state = "firing";
    } else {
      series.instance = {
        state: "firing",
        level,
        noData: true,
        activeAt: now,
        startsAt: now,
        lastTrueAt: now,
        value: undefined,
        flapping: false,
      };
    }
    this.#emit(series, "firing", now);
    return false;
  }

  #resolve(series: Series, now: number, why: string | undefined): void {
    const inst = series.instance;
    if (!inst) return;
    series.instance = undefined;
    if (inst.state === "pending") this.#emit(series, "inactive", now, inst, why);
    else this.#emit(series, "resolved", now, inst, why);
  }

  #emit(
    series: Series,
    state: "pending" | "firing" | "resolved" | "inactive",
    now: number,
    gone?: Instance,
    why?: string,
  ): void {
    const inst = (gone ?? series.instance)!;
    if (state === "inactive") {
      // A pending instance that never fired: Prometheus drops it without a notification; so do we.
      this.#sink.inactive(series.id, now);
      return;
    }
    const rule = this.rule;
    const level = inst.level?.level ?? "warning";
    const value = inst.value;
    const message = inst.noData
      ? `${rule.name}: no data for ${formatDuration(rule.noData.afterMs)} ${describeLabels(series.labels)}`.trim()
      : this.#message(series, now, level, value, inst.level, why);
    const annotations: Record<string, string> = { summary: message };
    if (inst.flapping) annotations.flapping = "true";
    for (const [k, v] of Object.entries(rule.annotations))
      annotations[k] = renderTemplate(v, this.#vars(series, now, level, value, inst.level), series.labels);
    this.#sink.emit({
      rule: rule.name,
      level,
      state,
      labels: series.labels,
      message,
      ...(value !== undefined && { value }),
      time: now,
      startsAt: inst.startsAt,
      ...(state === "resolved" && { endsAt: now }),
      ...(series.runId !== undefined && { runId: series.runId }),
      annotations,
      id: series.id,
    });
  }

  #vars(
    series: Series,
    now: number,
    level: AlertLevel,
    value: number | undefined,
    spec: NormalLevel | undefined,
  ): Record<string, string> {
    const rule = this.rule;
    const window = series.window;
    const kindUnit = rule.kind === "anomaly" || rule.kind === "regression" ? undefined : rule.unit;
    const vars: Record<string, string> = {
      value: formatValue(value, kindUnit),
      threshold: spec ? formatValue(spec.threshold, kindUnit) : "",
      level,
      window: formatDuration(rule.windowMs),
      rule: rule.name,
      aggregate: rule.aggregate,
    };
    if (window instanceof SampleWindow) return vars;
    Object.assign(vars, window.vars(now));
    if (window instanceof PredictModel) {
      vars.horizon = formatDuration(rule.horizonMs);
      if (vars.slope !== "n/a") vars.slope = `${formatValue(Number(vars.slope), rule.unit)}/h`;
      const at = spec ? window.crossing(spec.threshold, now) : undefined;
      vars.crossesAt = at === undefined ? "n/a" : new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
      vars.crossesIn = at === undefined ? "n/a" : formatDuration(Math.max(0, at - now));
    }
    if (window instanceof RegressionModel) {
      for (const k of ["recent", "baseline"])
        if (vars[k] !== "n/a")
          vars[k] = formatValue(Number(vars[k]), rule.unit ?? (rule.normalize ? undefined : "seconds"));
    }
    return vars;
  }

  #message(
    series: Series,
    now: number,
    level: AlertLevel,
    value: number | undefined,
    spec: NormalLevel | undefined,
    why: string | undefined,
  ): string {
    const rule = this.rule;
    const labels = series.labels;
    const vars = this.#vars(series, now, level, value, spec);
    const where = describeLabels(labels);
    let base: string;
    if (rule.message) base = renderTemplate(rule.message, vars, labels);
    else if (rule.kind === "regression")
      base =
        rule.compare === "ratio"
          ? `${rule.name}: ${vars.ratio} slower ${where}: median ${vars.recent} over the last ${vars.recentSamples} runs (since ${vars.recentSince}) against a baseline median of ${vars.baseline} (${vars.baselineSamples} runs since ${vars.baselineSince})`
          : `${rule.name}: median ${vars.recent} over the last ${vars.recentSamples} runs (since ${vars.recentSince}) is ${vars.value} MADs above the baseline median of ${vars.baseline} (${vars.baselineSamples} runs since ${vars.baselineSince}) ${where}`;
    else if (rule.kind === "anomaly")
      base = `${rule.name}: ${formatValue(Number(vars.sample), rule.unit)} is ${vars.value} robust σ ${rule.direction === "down" ? "below" : rule.direction === "up" ? "above" : "from"} the median ${formatValue(Number(vars.median), rule.unit)} of ${vars.samples} samples over ${vars.window} ${where}`;
    else if (rule.kind === "predict")
      base = `${rule.name}: at ${vars.slope}, the trend over ${vars.window} reaches ${vars.threshold} at ${vars.crossesAt} (in ${vars.crossesIn}, within ${vars.horizon}) ${where}`;
    else
      base = `${rule.name}: ${rule.aggregate}${rule.windowMs > 0 ? ` over ${formatDuration(rule.windowMs)}` : ""} ${formatValue(value, rule.unit)} ${rule.op} ${spec ? formatValue(spec.threshold, rule.unit) : "?"} ${where}`;
    base = base.trim();
    return why ? `${base} (${why})` : base;
  }
}

function describeLabels(labels: Labels): string {
  const parts = Object.entries(labels)
    .filter(([k]) => k !== "alertname")
    .map(([k, v]) => `${k}=${v}`);
  return parts.length ? `(${parts.join(", ")})` : "";
}
