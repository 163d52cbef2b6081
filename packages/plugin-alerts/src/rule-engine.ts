import type { AlertEvent, AlertLevel, Labels, MetricSample } from "@tapline/core";
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
}

interface Series {
  readonly labels: Labels;
  readonly id: string;
  readonly runId: string | undefined;
  readonly window: SampleWindow;
  divisor: number | undefined;
  instance: Instance | undefined;
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
    let series = this.#series.get(key);
    if (series) return series;
    if (this.#series.size >= this.#maxSeries) {
      if (!this.#droppedReported) {
        this.#droppedReported = true;
        this.#sink.dropped(rule.name, this.#maxSeries);
      }
      return undefined;
    }
    const alertLabels = { alertname: rule.name, ...labels, ...rule.labels };
    series = {
      labels: alertLabels,
      id: labelKey(runId === undefined ? alertLabels : { ...alertLabels, run_id: runId }),
      runId,
      window: new SampleWindow(rule.windowMs, this.#maxSamples),
      divisor: undefined,
      instance: undefined,
    };
    this.#series.set(key, series);
    return series;
  }

  #value(series: Series): number | undefined {
    if (series.window.size < this.rule.minSamples) return undefined;
    const v = series.window.aggregate(this.rule.aggregate);
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
    const value = this.#value(series);
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
        };
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
    if (now - inst.lastTrueAt >= rule.keepFiringForMs) this.#resolve(series, now, undefined);
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
      : this.#message(series.labels, level, value, inst.level, why);
    const annotations: Record<string, string> = { summary: message };
    for (const [k, v] of Object.entries(rule.annotations))
      annotations[k] = renderTemplate(v, this.#vars(level, value, inst.level), series.labels);
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

  #vars(level: AlertLevel, value: number | undefined, spec: NormalLevel | undefined): Record<string, string> {
    const rule = this.rule;
    return {
      value: formatValue(value, rule.unit),
      threshold: spec ? formatValue(spec.threshold, rule.unit) : "",
      level,
      window: formatDuration(rule.windowMs),
      rule: rule.name,
      aggregate: rule.aggregate,
    };
  }

  #message(
    labels: Labels,
    level: AlertLevel,
    value: number | undefined,
    spec: NormalLevel | undefined,
    why: string | undefined,
  ): string {
    const rule = this.rule;
    const base = rule.message
      ? renderTemplate(rule.message, this.#vars(level, value, spec), labels)
      : `${rule.name}: ${rule.aggregate}${rule.windowMs > 0 ? ` over ${formatDuration(rule.windowMs)}` : ""} ${formatValue(value, rule.unit)} ${rule.op} ${spec ? formatValue(spec.threshold, rule.unit) : "?"} ${describeLabels(labels)}`.trim();
    return why ? `${base} (${why})` : base;
  }
}

function describeLabels(labels: Labels): string {
  const parts = Object.entries(labels)
    .filter(([k]) => k !== "alertname")
    .map(([k, v]) => `${k}=${v}`);
  return parts.length ? `(${parts.join(", ")})` : "";
}
