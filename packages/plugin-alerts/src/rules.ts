import type { AlertLevel, OptionIssue } from "@tapline/core";
import { checkOptions, prefixOptionIssues } from "@tapline/core/kit";
import { type Duration, parseDuration } from "./duration.ts";
import {
  type AnomalyDirection,
  LEVELS,
  type NoDataState,
  type RegressionCompare,
  type RuleKind,
  type RuleScope,
  type ThresholdOp,
} from "./kinds.ts";
import { type LabelMatcher, type MatcherInput, toMatchers } from "./matchers.ts";
import { RulesSchema } from "./schemas.ts";
import type { Aggregation } from "./window.ts";

/**
 * One level of a rule: it is entered when the value crosses `threshold` and left only when the value is
 * back past `clear` (hysteresis; defaults to `threshold`). A bare number is `{ threshold: n }`.
 */
export type LevelInput = number | { readonly threshold: number; readonly clear?: number };

/** What happens when a series stops sending samples (Grafana's NoData states). */
export interface NoDataInput {
  /** How long without a sample before the series counts as having no data. Default: the window plus 5m. */
  readonly after?: Duration;
  /** `ok` (default): resolve the alert and forget the series; `alerting`: fire at `level`; `keepLast`: keep the state. */
  readonly state?: NoDataState;
  /** Level of the no-data alert when `state` is `alerting`. Default `warning`. */
  readonly level?: AlertLevel;
}

/**
 * Flap suppression: an instance that started firing `count` times within `period` is flapping; it then stays
 * firing (one notification) until its condition has been clear for a whole `period`.
 */
export interface FlapInput {
  /** The period within which `count` firings make a flap. */
  readonly period: Duration;
  /** Firings within `period` that make a flap. Default 3. */
  readonly count?: number;
}

/**
 * An alert rule, as a TypeScript object or an entry of a YAML/JSON rule file.
 *
 * @example
 * const rule: AlertRuleInput = {
 *   name: "TtsSlow", metric: "tapline_step_duration_seconds", match: { step: "tts" }, by: ["pipeline", "step"],
 *   aggregate: "p95", window: "15m", for: "1m",
 *   levels: { warning: { threshold: 20, clear: 15 }, critical: { threshold: 60, clear: 45 } },
 *   message: "step {{labels.step}} p95 {{value}} over {{window}}", unit: "seconds",
 * };
 */
export interface AlertRuleInput {
  /** The alert's name (`alertname` label). Unique among the rules. */
  readonly name: string;
  /**
   * `threshold` (default) compares an aggregate of samples; `stuck-step` fires when a step runs longer than
   * `after`; `regression` compares a step's recent durations with its persisted baseline; `anomaly` judges each
   * sample's robust z-score; `predict` extrapolates a linear trend `horizon` ahead.
   */
  readonly kind?: RuleKind;
  /** Name of the metric samples the rule reads (threshold rules). */
  readonly metric?: string;
  /** Label matchers a sample must satisfy (for stuck-step rules: matched against `{pipeline, step, ...labels}`). */
  readonly match?: MatcherInput;
  /**
   * Labels that identify an alert instance; samples sharing them share one window. Default: every label of the
   * sample (one instance per series).
   */
  readonly by?: readonly string[];
  /** How the window's samples reduce to one value. Default `last`. */
  readonly aggregate?: Aggregation;
  /** Length of the sliding window. Default `0` for `last`, `5m` for the others. */
  readonly window?: Duration;
  /** Divide the aggregate by the last value of this metric with the same instance labels (e.g. memory used / total). */
  readonly divideBy?: string;
  /** Comparison against thresholds. Default `>`. */
  readonly op?: ThresholdOp;
  /** Thresholds per level; one instance moves between them (escalation and de-escalation). */
  readonly levels?: Partial<Readonly<Record<AlertLevel, LevelInput>>>;
  /** For stuck-step rules: how long a step may run. */
  readonly after?: Duration;
  /** For stuck-step rules: the level to fire at. Default `warning`. */
  readonly level?: AlertLevel;
  /** How long the condition must hold before the alert fires (pending meanwhile). Default 0. */
  readonly for?: Duration;
  /** How long the alert keeps firing after the condition last held. Default 0. */
  readonly keepFiringFor?: Duration;
  /** Fewer samples than this in the window never fire (a single failure is not a 100% failure rate). Default 1. */
  readonly minSamples?: number;
  /** What happens when a matched series stops arriving. */
  readonly noData?: NoDataInput;
  /** `run`: one instance per run, resolved when the run ends. Default `series`. */
  readonly scope?: RuleScope;
  /** Extra labels on the alert (routing, team). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Extra annotations; `{{...}}` placeholders as in `message`. */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * The human message. Placeholders: `{{value}}` (formatted with `unit`), `{{threshold}}`, `{{level}}`,
   * `{{window}}`, `{{rule}}`, `{{labels.NAME}}`.
   */
  readonly message?: string;
  /** Unit of the value, for messages: `ratio` prints 0.62 as 62%; `seconds`, `bytes`, `celsius`... */
  readonly unit?: string;
  /** Flap suppression (every kind but stuck-step). */
  readonly flap?: FlapInput;
  /** Anomaly rules: which side of normal fires. Default `up`. */
  readonly direction?: AnomalyDirection;
  /** Anomaly rules: a series is not judged before it is this old (its first minutes never fire). Default: `window`. */
  readonly warmup?: Duration;
  /** Predict rules: how far ahead the trend is read; the alert fires when the crossing is within it. */
  readonly horizon?: Duration;
  /** Regression rules: baseline samples kept per (pipeline, step), the oldest dropped first. Default 200. */
  readonly baseline?: number;
  /**
   * Regression rules: the recent side as the newest N runs (≤ 1000) instead of a time span, so a step that
   * runs a few times a day is judged on its last N runs, and an alert fires within a known number of slow runs.
   * Without `window` the runs may be of any age; with it, both limits apply.
   */
  readonly recent?: number;
  /** Regression rules: levels are a `ratio` (default) of medians, or `mads` (robust standard deviations). */
  readonly compare?: RegressionCompare;
  /**
   * Regression rules: divide each duration by the size the step reported with `ctx.annotate("size", { value })`
   * (seconds of audio, frames, tokens); steps that report none are left out. Default false.
   */
  readonly normalize?: boolean;
}

/** @internal One level, normalised. */
export interface NormalLevel {
  readonly level: AlertLevel;
  readonly rank: number;
  readonly threshold: number;
  readonly clear: number;
}

/** @internal A rule after validation, with defaults applied and durations in ms. */
export interface NormalRule {
  readonly name: string;
  readonly kind: RuleKind;
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
  readonly by: readonly string[] | undefined;
  readonly aggregate: Aggregation;
  readonly windowMs: number;
  readonly divideBy: string | undefined;
  readonly op: ThresholdOp;
  /** Most severe first. */
  readonly levels: readonly NormalLevel[];
  readonly afterMs: number;
  /** Level of stuck-step alerts. */
  readonly level: AlertLevel;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly minSamples: number;
  readonly noData: {
    readonly afterMs: number;
    readonly state: NoDataState;
    readonly level: AlertLevel;
  };
  readonly scope: RuleScope;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly message: string | undefined;
  readonly unit: string | undefined;
  /** `Infinity` without flap suppression. */
  readonly flapPeriodMs: number;
  readonly flapCount: number;
  readonly direction: AnomalyDirection;
  readonly warmupMs: number;
  readonly horizonMs: number;
  readonly baseline: number;
  /** Regression rules: at most this many recent runs (undefined: as many as the window holds, ≤ 1000). */
  readonly recent: number | undefined;
  readonly compare: RegressionCompare;
  readonly normalize: boolean;
}

/** Default windows: `last` 0, other aggregates 5m; anomaly 15m, predict 30m, regression 1h. */
const KIND_WINDOW: Partial<Record<RuleKind, number>> = {
  anomaly: 900_000,
  predict: 1_800_000,
  regression: 3_600_000,
};
/** Default minSamples per kind. */
const KIND_MIN_SAMPLES: Partial<Record<RuleKind, number>> = { anomaly: 20, predict: 5, regression: 5 };

/** @internal Normalises rules that passed {@link RulesSchema} (which checks everything about them). */
export function normalizeRules(input: readonly AlertRuleInput[] | undefined): NormalRule[] {
  return (input ?? []).map(normalizeRule);
}

function normalizeRule(r: AlertRuleInput): NormalRule {
  const kind = r.kind ?? "threshold";
  const aggregate = r.aggregate ?? "last";
  // A regression rule counting its recent runs has no time limit unless a window is given too.
  const byCount = kind === "regression" && r.recent !== undefined;
  const windowMs = ms(
    r.window,
    byCount ? Number.POSITIVE_INFINITY : (KIND_WINDOW[kind] ?? (aggregate === "last" ? 0 : 300_000)),
  );
  return {
    name: r.name,
    kind,
    metric: r.metric ?? "",
    matchers: toMatchers(r.match),
    by: r.by ? [...r.by] : kind === "regression" ? ["pipeline", "step"] : undefined,
    aggregate,
    windowMs,
    divideBy: r.divideBy,
    op: kind === "anomaly" || kind === "regression" ? ">" : (r.op ?? ">"),
    levels: kind === "stuck-step" ? [] : normalizeLevels(r.levels ?? {}),
    afterMs: ms(r.after, 0),
    level: r.level ?? "warning",
    forMs: ms(r.for, 0),
    keepFiringForMs: ms(r.keepFiringFor, 0),
    minSamples: r.minSamples ?? KIND_MIN_SAMPLES[kind] ?? 1,
    noData: {
      // A regression's series is a step that may run once a day: silence is normal, its baseline is kept.
      afterMs: kind === "regression" ? Number.POSITIVE_INFINITY : ms(r.noData?.after, windowMs + 300_000),
      state: r.noData?.state ?? "ok",
      level: r.noData?.level ?? "warning",
    },
    scope: r.scope ?? (kind === "stuck-step" ? "run" : "series"),
    labels: { ...r.labels },
    annotations: { ...r.annotations },
    message: r.message,
    unit: r.unit,
    flapPeriodMs: r.flap ? ms(r.flap.period, 0) : Number.POSITIVE_INFINITY,
    flapCount: r.flap?.count ?? 3,
    direction: r.direction ?? "up",
    warmupMs: ms(r.warmup, windowMs),
    horizonMs: ms(r.horizon, 0),
    baseline: r.baseline ?? 200,
    recent: r.recent,
    compare: r.compare ?? "ratio",
    normalize: r.normalize ?? false,
  };
}

/** Levels that passed the schema (which checks hysteresis and order), most severe first. */
function normalizeLevels(raw: NonNullable<AlertRuleInput["levels"]>): NormalLevel[] {
  const out: NormalLevel[] = [];
  for (const level of LEVELS) {
    const value = raw[level];
    if (value === undefined) continue;
    const spec = typeof value === "number" ? { threshold: value } : value;
    out.push({
      level,
      rank: LEVELS.indexOf(level),
      threshold: spec.threshold,
      clear: spec.clear ?? spec.threshold,
    });
  }
  return out.sort((a, b) => b.rank - a.rank);
}

/**
 * @internal Checks a list of rules with the schema, then what needs several fields, and normalises them:
 * every issue has its path under `path` (`rules[1].levels.warning.threshold`).
 */
export function checkRules(input: unknown, path = "rules"): { rules: NormalRule[]; issues: OptionIssue[] } {
  const shape = checkOptions(RulesSchema, input);
  if (shape.issues) return { rules: [], issues: prefixOptionIssues(path, shape.issues) };
  return { rules: normalizeRules(shape.value as AlertRuleInput[]), issues: [] };
}

/** @internal A duration that passed the schema, in ms (`fallback` when absent). */
export function ms(value: Duration | undefined, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}
