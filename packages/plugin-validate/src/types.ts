import type { Finding, FindingSeverity } from "@tapline/core";
import type { Check, CheckInputs, FindingDetails, FindingReporter } from "./define-check.ts";

/** What a validator looked at. */
export type FileKind = "audio" | "video" | "text" | "subtitles";

// A record over the union: a kind added to FileKind and not here (or the reverse) fails to compile.
const KIND_SET = { audio: true, video: true, text: true, subtitles: true } satisfies Record<FileKind, true>;
/** Every file kind, derived from {@link FileKind}. */
export const KINDS = Object.keys(KIND_SET) as readonly FileKind[];

const SEVERITY_SET = { error: true, warning: true, info: true } satisfies Record<FindingSeverity, true>;
/** Every finding severity, plus `off` (an override that drops a check's findings). */
export const SEVERITY_OVERRIDES = [...Object.keys(SEVERITY_SET), "off"] as readonly (
  | FindingSeverity
  | "off"
)[];

/**
 * Per-check severity overrides, keyed by check id (`audio.loudness`, `video.faststart`...). `"off"` drops the
 * check's findings. Profiles use it to turn recommendations into warnings.
 */
export type SeverityOverrides = Readonly<Record<string, FindingSeverity | "off">>;

/** The outcome of one validator. Bad media gives `valid: false` with findings; it never throws. */
export interface ValidationResult<TMetrics extends object = object> {
  /** The file checked (absent when `validateText` got a string). */
  readonly file?: string;
  readonly kind: FileKind;
  /** True when no finding has severity `error`. */
  readonly valid: boolean;
  readonly findings: readonly Finding[];
  /** Measurements (durations in seconds, loudness in LUFS, ratios 0..1); present only when measured. */
  readonly metrics: TMetrics;
}

/** Options every validator call accepts besides its expectations. */
export interface CallOptions {
  /** Cancels the subprocesses of this call; the call then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Checks made with `defineCheck()` to run too, on the files of their kind (beside the validator's own). */
  readonly checks?: readonly Check[];
}

/** Collects findings for one file, applying severity overrides. */
export class FindingList {
  readonly items: Finding[] = [];
  readonly #file: string | undefined;
  readonly #overrides: SeverityOverrides | undefined;
  constructor(file: string | undefined, overrides: SeverityOverrides | undefined) {
    this.#file = file;
    this.#overrides = overrides;
  }
  add(check: string, severity: FindingSeverity, message: string, extra?: FindingDetails): void {
    const override = this.#overrides?.[check];
    if (override === "off") return;
    this.items.push({
      check,
      severity: override ?? severity,
      message,
      ...(extra && "value" in extra && { value: extra.value }),
      ...(extra && "limit" in extra && { limit: extra.limit }),
      ...(this.#file !== undefined && { file: this.#file }),
    });
  }
  error(check: string, message: string, extra?: { value?: unknown; limit?: unknown }): void {
    this.add(check, "error", message, extra);
  }
  warn(check: string, message: string, extra?: { value?: unknown; limit?: unknown }): void {
    this.add(check, "warning", message, extra);
  }
  info(check: string, message: string, extra?: { value?: unknown; limit?: unknown }): void {
    this.add(check, "info", message, extra);
  }
  get hasErrors(): boolean {
    return this.items.some((f) => f.severity === "error");
  }
}

/** Adds findings of one check (its id) to a {@link FindingList}; methods on the prototype, one small object per check run. */
class CheckReporter implements FindingReporter {
  readonly #list: FindingList;
  readonly #id: string;
  constructor(list: FindingList, id: string) {
    this.#list = list;
    this.#id = id;
  }
  add(severity: FindingSeverity, message: string, details?: FindingDetails): void {
    this.#list.add(this.#id, severity, message, details);
  }
  error(message: string, details?: FindingDetails): void {
    this.#list.add(this.#id, "error", message, details);
  }
  warn(message: string, details?: FindingDetails): void {
    this.#list.add(this.#id, "warning", message, details);
  }
  info(message: string, details?: FindingDetails): void {
    this.#list.add(this.#id, "info", message, details);
  }
}

/** Builds a result from collected findings. */
export function result<M extends object>(
  kind: FileKind,
  file: string | undefined,
  list: FindingList,
  metrics: M,
): ValidationResult<M> {
  return { ...(file !== undefined && { file }), kind, valid: !list.hasErrors, findings: list.items, metrics };
}

/** Rounds for messages and metrics. */
export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/**
 * Runs the checks of one kind on one file's facts, in order, each with a reporter of its id. A check whose
 * findings are all turned off (`severity: { id: "off" }`) is skipped; a check that throws gives an error
 * finding under its id instead of failing the call.
 */
export async function runChecks<K extends FileKind>(
  checks: readonly Check[],
  kind: K,
  list: FindingList,
  facts: Omit<CheckInputs[K], "report">,
  overrides: SeverityOverrides | undefined,
): Promise<void> {
  // One input object for all the checks of the file; only its reporter changes between checks, which run
  // one after the other.
  const input = { ...facts, report: undefined as unknown as FindingReporter } as CheckInputs[K];
  for (const check of checks) {
    if (check.kind !== kind || overrides?.[check.id] === "off") continue;
    const report = new CheckReporter(list, check.id);
    (input as { report: FindingReporter }).report = report;
    try {
      const done = (check as Check<K>).run(input);
      if (done) await done;
    } catch (error) {
      if (facts.signal?.aborted) throw facts.signal.reason;
      report.error(`the check failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
