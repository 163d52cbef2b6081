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
