import type { AlertLevel } from "@tapline/core";

/**
 * The closed sets plugin-alerts is configured with, each written once: the schemas check against these lists
 * and the public types are derived from them, so a new kind is one edit here that the compiler follows
 * everywhere (schemas, normalisation, types).
 */

/** A list that names every member of `T` (a compile error names the missing ones). */
type Complete<T extends string, L extends readonly T[]> = [Exclude<T, L[number]>] extends [never]
  ? L
  : { readonly missing: Exclude<T, L[number]> };

const levels = ["info", "warning", "error", "critical"] as const satisfies readonly AlertLevel[];
/** Alert levels (core's `AlertLevel`), least severe first. */
export const LEVELS: Complete<AlertLevel, typeof levels> = levels;

/** Comparisons of a rule's value against a level's threshold. */
export const THRESHOLD_OPS = [">", ">=", "<", "<="] as const;
/** Comparison of a rule's value against a level's threshold. */
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

/** What a series that stopped sending samples does (Grafana's NoData states). */
export const NO_DATA_STATES = ["ok", "alerting", "keepLast"] as const;
/** `ok`: resolve the alert and forget the series; `alerting`: fire at the no-data level; `keepLast`: keep the state. */
export type NoDataState = (typeof NO_DATA_STATES)[number];

/** How a rule's alerts are scoped. */
export const RULE_SCOPES = ["series", "run"] as const;
/** `series`: one instance per label set; `run`: one per run, resolved when the run ends. */
export type RuleScope = (typeof RULE_SCOPES)[number];

/** Output formats of `consoleHandler()`. */
export const CONSOLE_FORMATS = ["text", "json"] as const;
/** `text`: one readable line per alert; `json`: the notification as one JSON line. */
export type ConsoleFormat = (typeof CONSOLE_FORMATS)[number];

/** The kinds of alert rule. */
export const RULE_KINDS = ["threshold", "stuck-step", "regression", "anomaly", "predict"] as const;
/**
 * `threshold`: an aggregate against levels; `stuck-step`: a step running too long; `regression`: a step's recent
 * durations against its persisted baseline; `anomaly`: a robust z-score; `predict`: a linear trend's value ahead.
 */
export type RuleKind = (typeof RULE_KINDS)[number];

/** Which side of normal an anomaly rule watches. */
export const ANOMALY_DIRECTIONS = ["up", "down", "both"] as const;
/** `up`: values above normal; `down`: below; `both`: either (the z-score's absolute value). */
export type AnomalyDirection = (typeof ANOMALY_DIRECTIONS)[number];

/** How a regression rule's value is expressed. */
export const REGRESSION_COMPARES = ["ratio", "mads"] as const;
/** `ratio`: median(recent) / median(baseline); `mads`: their difference in robust standard deviations (1.4826 × MAD). */
export type RegressionCompare = (typeof REGRESSION_COMPARES)[number];
