import type { Finding, FindingSeverity } from "@tapline/core";

/** What a validator looked at. */
export type FileKind = "audio" | "video" | "text" | "subtitles";

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
}

/** @internal Collects findings for one file, applying severity overrides. */
export class FindingList {
  readonly items: Finding[] = [];
  readonly #file: string | undefined;
  readonly #overrides: SeverityOverrides | undefined;
  constructor(file: string | undefined, overrides: SeverityOverrides | undefined) {
    this.#file = file;
    this.#overrides = overrides;
  }
  add(
    check: string,
    severity: FindingSeverity,
    message: string,
    extra?: { value?: unknown; limit?: unknown },
  ): void {
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

/** @internal Builds a result from collected findings. */
export function result<M extends object>(
  kind: FileKind,
  file: string | undefined,
  list: FindingList,
  metrics: M,
): ValidationResult<M> {
  return { ...(file !== undefined && { file }), kind, valid: !list.hasErrors, findings: list.items, metrics };
}

/** @internal Rounds for messages and metrics. */
export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
