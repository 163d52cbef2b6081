import type { AlertLevel } from "@tapline/core";
import { type Duration, parseDuration } from "./duration.ts";
import type { AlertConfigIssue } from "./errors.ts";
import { type LabelMatcher, type MatcherInput, parseMatchers } from "./matchers.ts";
import { AGGREGATIONS, type Aggregation } from "./window.ts";

/** Alert levels, least severe first. */
export const LEVELS: readonly AlertLevel[] = ["info", "warning", "error", "critical"];

/** Comparison of a rule's value against a level's threshold. */
export type ThresholdOp = ">" | ">=" | "<" | "<=";

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
  readonly state?: "ok" | "alerting" | "keepLast";
  /** Level of the no-data alert when `state` is `alerting`. Default `warning`. */
  readonly level?: AlertLevel;
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
  /** `threshold` (default) compares an aggregate of samples; `stuck-step` fires when a step runs longer than `after`. */
  readonly kind?: "threshold" | "stuck-step";
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
  readonly scope?: "series" | "run";
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
  readonly kind: "threshold" | "stuck-step";
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
    readonly state: "ok" | "alerting" | "keepLast";
    readonly level: AlertLevel;
  };
  readonly scope: "series" | "run";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly message: string | undefined;
  readonly unit: string | undefined;
}

const RULE_KEYS = new Set([
  "name",
  "kind",
  "metric",
  "match",
  "by",
  "aggregate",
  "window",
  "divideBy",
  "op",
  "levels",
  "after",
  "level",
  "for",
  "keepFiringFor",
  "minSamples",
  "noData",
  "scope",
  "labels",
  "annotations",
  "message",
  "unit",
]);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** @internal Validates a list of rules; pushes every problem (with its path) to `issues`. */
export function normalizeRules(input: unknown, path: string, issues: AlertConfigIssue[]): NormalRule[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) {
    issues.push({ path, message: "expected a list of rules" });
    return [];
  }
  const out: NormalRule[] = [];
  const seen = new Map<string, number>();
  input.forEach((raw, i) => {
    const rule = normalizeRule(raw, `${path}[${i}]`, issues);
    const name = (raw as { name?: unknown } | null)?.name;
    if (typeof name === "string" && name !== "") {
      const before = seen.get(name);
      if (before !== undefined)
        issues.push({
          path: `${path}[${i}].name`,
          message: `duplicate rule name "${name}" (also ${path}[${before}])`,
        });
      else seen.set(name, i);
    }
    if (rule) out.push(rule);
  });
  return out;
}

function normalizeRule(raw: unknown, path: string, issues: AlertConfigIssue[]): NormalRule | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    issues.push({ path, message: "expected a rule object" });
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const start = issues.length;
  for (const key of Object.keys(r)) {
    if (!RULE_KEYS.has(key))
      issues.push({ path: `${path}.${key}`, message: `unknown field (known: ${[...RULE_KEYS].join(", ")})` });
  }
  const name = r.name;
  if (typeof name !== "string" || name === "")
    issues.push({ path: `${path}.name`, message: "required: a non-empty string" });
  const kind = r.kind ?? "threshold";
  if (kind !== "threshold" && kind !== "stuck-step")
    issues.push({
      path: `${path}.kind`,
      message: `expected "threshold" or "stuck-step", got ${JSON.stringify(kind)}`,
    });
  const metric = r.metric;
  if (kind === "threshold" && (typeof metric !== "string" || !METRIC_NAME.test(metric))) {
    issues.push({
      path: `${path}.metric`,
      message: `required for threshold rules: a metric name like "tapline_step_duration_seconds", got ${JSON.stringify(metric)}`,
    });
  }
  const matchers = parseMatchers(r.match, `${path}.match`, issues);
  let by: string[] | undefined;
  if (r.by !== undefined) {
    if (!Array.isArray(r.by)) issues.push({ path: `${path}.by`, message: "expected a list of label names" });
    else {
      by = [];
      r.by.forEach((l, j) => {
        if (typeof l === "string" && LABEL_NAME.test(l)) by!.push(l);
        else
          issues.push({
            path: `${path}.by[${j}]`,
            message: `expected a label name, got ${JSON.stringify(l)}`,
          });
      });
    }
  }
  const aggregate = (r.aggregate ?? "last") as Aggregation;
  if (!AGGREGATIONS.includes(aggregate))
    issues.push({
      path: `${path}.aggregate`,
      message: `expected one of ${AGGREGATIONS.join(", ")}, got ${JSON.stringify(r.aggregate)}`,
    });
  const windowMs = duration(r.window, aggregate === "last" ? 0 : 300_000, `${path}.window`, issues);
  if (r.divideBy !== undefined && (typeof r.divideBy !== "string" || !METRIC_NAME.test(r.divideBy))) {
    issues.push({ path: `${path}.divideBy`, message: "expected a metric name" });
  }
  const op = (r.op ?? ">") as ThresholdOp;
  if (![">", ">=", "<", "<="].includes(op))
    issues.push({
      path: `${path}.op`,
      message: `expected ">", ">=", "<" or "<=", got ${JSON.stringify(r.op)}`,
    });
  const levels = kind === "threshold" ? normalizeLevels(r.levels, op, `${path}.levels`, issues) : [];
  const level = (r.level ?? "warning") as AlertLevel;
  if (!LEVELS.includes(level))
    issues.push({ path: `${path}.level`, message: `expected one of ${LEVELS.join(", ")}` });
  const afterMs = duration(r.after, kind === "stuck-step" ? Number.NaN : 0, `${path}.after`, issues);
  const minSamples = r.minSamples ?? 1;
  if (typeof minSamples !== "number" || !Number.isInteger(minSamples) || minSamples < 1) {
    issues.push({ path: `${path}.minSamples`, message: "expected an integer ≥ 1" });
  }
  const noData = normalizeNoData(r.noData, windowMs, `${path}.noData`, issues);
  const scope = r.scope ?? (kind === "stuck-step" ? "run" : "series");
  if (scope !== "series" && scope !== "run")
    issues.push({ path: `${path}.scope`, message: `expected "series" or "run"` });
  const labels = stringRecord(r.labels, `${path}.labels`, issues, true);
  const annotations = stringRecord(r.annotations, `${path}.annotations`, issues, false);
  if (r.message !== undefined && typeof r.message !== "string")
    issues.push({ path: `${path}.message`, message: "expected a string" });
  if (r.unit !== undefined && typeof r.unit !== "string")
    issues.push({ path: `${path}.unit`, message: "expected a string" });
  const forMs = duration(r.for, 0, `${path}.for`, issues);
  const keepFiringForMs = duration(r.keepFiringFor, 0, `${path}.keepFiringFor`, issues);
  if (issues.length > start) return undefined;
  return {
    name: name as string,
    kind: kind as "threshold" | "stuck-step",
    metric: (metric as string | undefined) ?? "",
    matchers,
    by,
    aggregate,
    windowMs,
    divideBy: r.divideBy as string | undefined,
    op,
    levels,
    afterMs,
    level,
    forMs,
    keepFiringForMs,
    minSamples: minSamples as number,
    noData,
    scope: scope as "series" | "run",
    labels,
    annotations,
    message: r.message as string | undefined,
    unit: r.unit as string | undefined,
  };
}

function normalizeLevels(
  raw: unknown,
  op: ThresholdOp,
  path: string,
  issues: AlertConfigIssue[],
): NormalLevel[] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    issues.push({
      path,
      message: `required: at least one of ${LEVELS.join(", ")} with a threshold, e.g. { warning: 0.2, critical: { threshold: 0.5, clear: 0.4 } }`,
    });
    return [];
  }
  const above = op === ">" || op === ">=";
  const out: NormalLevel[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const rank = LEVELS.indexOf(key as AlertLevel);
    if (rank < 0) {
      issues.push({ path: `${path}.${key}`, message: `unknown level (expected ${LEVELS.join(", ")})` });
      continue;
    }
    const spec = typeof value === "number" ? { threshold: value } : (value as Record<string, unknown> | null);
    if (typeof spec !== "object" || spec === null) {
      issues.push({ path: `${path}.${key}`, message: "expected a number or { threshold, clear? }" });
      continue;
    }
    const threshold = spec.threshold;
    if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
      issues.push({
        path: `${path}.${key}.threshold`,
        message: `required: a finite number, got ${JSON.stringify(threshold)}`,
      });
      continue;
    }
    const clear = spec.clear ?? threshold;
    if (typeof clear !== "number" || !Number.isFinite(clear)) {
      issues.push({ path: `${path}.${key}.clear`, message: "expected a finite number" });
      continue;
    }
    if (above ? clear > threshold : clear < threshold) {
      issues.push({
        path: `${path}.${key}.clear`,
        message: `with op "${op}" the clear threshold must be ${above ? "≤" : "≥"} the threshold (${threshold}), got ${clear}`,
      });
      continue;
    }
    out.push({ level: key as AlertLevel, rank, threshold, clear });
  }
  out.sort((a, b) => b.rank - a.rank);
  for (let i = 1; i < out.length; i++) {
    const higher = out[i - 1]!;
    const lower = out[i]!;
    if (above ? higher.threshold < lower.threshold : higher.threshold > lower.threshold) {
      issues.push({
        path: `${path}.${higher.level}.threshold`,
        message: `must be ${above ? "≥" : "≤"} the ${lower.level} threshold (${lower.threshold}) with op "${op}"`,
      });
    }
  }
  return out;
}

function normalizeNoData(
  raw: unknown,
  windowMs: number,
  path: string,
  issues: AlertConfigIssue[],
): NormalRule["noData"] {
  const fallback = { afterMs: windowMs + 300_000, state: "ok" as const, level: "warning" as const };
  if (raw === undefined) return fallback;
  if (typeof raw !== "object" || raw === null) {
    issues.push({ path, message: "expected { after?, state?, level? }" });
    return fallback;
  }
  const r = raw as Record<string, unknown>;
  const state = r.state ?? "ok";
  if (state !== "ok" && state !== "alerting" && state !== "keepLast")
    issues.push({ path: `${path}.state`, message: `expected "ok", "alerting" or "keepLast"` });
  const level = r.level ?? "warning";
  if (!LEVELS.includes(level as AlertLevel))
    issues.push({ path: `${path}.level`, message: `expected one of ${LEVELS.join(", ")}` });
  return {
    afterMs: duration(r.after, fallback.afterMs, `${path}.after`, issues),
    state: state as "ok",
    level: level as AlertLevel,
  };
}

/** @internal Parses an optional duration field, reporting a bad one at `path`; NaN fallback = required. */
export function duration(raw: unknown, fallback: number, path: string, issues: AlertConfigIssue[]): number {
  if (raw === undefined) {
    if (Number.isNaN(fallback))
      issues.push({ path, message: 'required: a duration such as "30s", "10m" or a number of ms' });
    return fallback;
  }
  const ms = parseDuration(raw);
  if (ms === undefined) {
    issues.push({
      path,
      message: `expected a duration such as "30s", "10m", "1h30m" or a number of ms ≥ 0, got ${JSON.stringify(raw)}`,
    });
    return 0;
  }
  return ms;
}

/** @internal Parses an optional `Record<string, string>`; label names are checked when `labelNames`. */
export function stringRecord(
  raw: unknown,
  path: string,
  issues: AlertConfigIssue[],
  labelNames: boolean,
): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    issues.push({ path, message: "expected an object of strings" });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (labelNames && !LABEL_NAME.test(k))
      issues.push({ path: `${path}.${k}`, message: "invalid label name" });
    else if (typeof v !== "string")
      issues.push({ path: `${path}.${k}`, message: `expected a string, got ${typeof v}` });
    else out[k] = v;
  }
  return out;
}
