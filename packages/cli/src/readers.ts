import type { AppStatus, Finding } from "@tapline/core";
import { CliError } from "./errors.ts";

/**
 * The readers the CLI calls, loaded lazily: a command pays only for the plugin it needs (`tapline status`
 * never loads ffprobe wrappers), and a missing package is a clear error rather than a crash at start-up.
 * The types are the structural subset of each plugin's API the CLI relies on (the cross-package contract).
 */

/** Totals of one operation, from `@tapline/plugin-metrics`' `summarize`. Durations in ms. */
export interface OperationSummary {
  readonly kind: string;
  readonly name: string;
  readonly count: number;
  readonly successes: number;
  readonly failures: number;
  readonly successRate: number;
  readonly failureRate: number;
  readonly avgMs: number;
  readonly p95Ms: number;
  readonly topErrors: readonly { readonly message: string; readonly count: number }[];
}

/** What `summarize(dir, options)` returns. */
export interface MetricsSummary {
  readonly from: number;
  readonly to: number;
  readonly records: number;
  readonly skippedLines?: number;
  readonly runs?: {
    readonly count: number;
    readonly successes: number;
    readonly failures: number;
    readonly successRate: number;
    readonly failureRate: number;
  };
  readonly operations: readonly OperationSummary[];
  readonly topErrors: readonly {
    readonly operation?: string;
    readonly message: string;
    readonly count: number;
  }[];
}

/** One alert transition from `readAlertHistory`. */
export interface AlertEntry {
  readonly time: number;
  readonly fingerprint?: string;
  readonly rule: string;
  readonly level: string;
  readonly state: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly message: string;
  readonly value?: number;
  readonly startsAt?: number;
  readonly source?: string;
}

/** What `validateFile` returns. */
export interface FileValidation {
  readonly file: string;
  readonly kind: string;
  readonly valid: boolean;
  readonly findings: readonly Finding[];
  readonly metrics?: unknown;
}

interface MetricsModule {
  summarize(
    dir: string,
    options?: { since?: number; until?: number; pipeline?: string; onWarning?: (w: unknown) => void },
  ): Promise<MetricsSummary>;
  readStatus(dir: string): Promise<AppStatus | undefined>;
}
interface AlertsModule {
  readAlertHistory(
    dir: string,
    options?: { active?: boolean; since?: number; onWarning?: (w: unknown) => void },
  ): Promise<AlertEntry[]>;
}
interface ValidateModule {
  validateFile(path: string, options?: { profile?: string; thorough?: boolean }): Promise<FileValidation>;
}

async function load<T>(pkg: string, needs: readonly string[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(
      "TAPLINE_ERR_CLI_MODULE",
      `this command needs ${pkg}, which could not be loaded: ${(error as Error).message} (npm install ${pkg})`,
      {
        cause: error,
      },
    );
  }
  for (const name of needs) {
    if (typeof mod[name] !== "function") {
      throw new CliError(
        "TAPLINE_ERR_CLI_MODULE",
        `${pkg} has no function "${name}"; install a version compatible with @tapline/cli`,
      );
    }
  }
  return mod as T;
}

/** `@tapline/plugin-metrics`: `summarize`, `readStatus`. */
export const loadMetrics = () => load<MetricsModule>("@tapline/plugin-metrics", ["summarize", "readStatus"]);
/** `@tapline/plugin-alerts`: `readAlertHistory`. */
export const loadAlerts = () => load<AlertsModule>("@tapline/plugin-alerts", ["readAlertHistory"]);
/** `@tapline/plugin-validate`: `validateFile`. */
export const loadValidate = () => load<ValidateModule>("@tapline/plugin-validate", ["validateFile"]);
