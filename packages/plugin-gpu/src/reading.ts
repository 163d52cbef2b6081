import type { ThrottleReason } from "./throttle.ts";

export { parseGpuLine } from "./parse-line.ts";

/**
 * One GPU at one moment, in base units. A field nvidia-smi reported as `[N/A]`, `[Not Supported]`,
 * `[Unknown Error]` (or any other bracketed value) is absent, never `NaN`.
 */
export interface GpuReading {
  /** nvidia-smi's zero-based index (it can change across reboots; prefer `uuid` to track a board). */
  readonly index: number;
  /** `GPU-xxxxxxxx-...`, stable across reboots. */
  readonly uuid: string;
  /** Product name, e.g. `NVIDIA H100 80GB HBM3`. */
  readonly name: string;
  /** Share of time a kernel was running over the driver's sample period, 0..1. */
  readonly utilization?: number;
  /** Share of time device memory was read or written, 0..1. */
  readonly memoryUtilization?: number;
  readonly memoryUsedBytes?: number;
  readonly memoryTotalBytes?: number;
  readonly temperatureCelsius?: number;
  readonly powerDrawWatts?: number;
  readonly powerLimitWatts?: number;
  /** SM clock in Hz. */
  readonly smClockHz?: number;
  /** Memory clock in Hz. */
  readonly memoryClockHz?: number;
  /** Performance state, `P0` (max) to `P12` (min). */
  readonly pstate?: string;
  /** The raw `clocks_throttle_reasons.active` bitmask. */
  readonly throttleMask?: number;
  /** Active clock event reasons, decoded from the mask. */
  readonly throttleReasons?: readonly ThrottleReason[];
  /** Whether the driver stays loaded without clients (Linux); off means slow nvidia-smi starts. */
  readonly persistenceMode?: boolean;
}

/** Every GPU at one moment: one line per GPU from one nvidia-smi loop iteration. */
export interface GpuSnapshot {
  /** Epoch ms when the snapshot arrived. */
  readonly time: number;
  readonly gpus: readonly GpuReading[];
}

/**
 * The `--query-gpu` fields we ask for, in order. Names valid on old and new drivers alike
 * (`clocks_throttle_reasons.*` is still accepted by drivers that renamed it `clocks_event_reasons.*`).
 */
export const GPU_QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "memory.total",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "clocks.current.sm",
  "clocks.current.memory",
  "pstate",
  "clocks_throttle_reasons.active",
  "persistence_mode",
] as const;

/** A `--query-gpu` field this package understands. */
export type GpuQueryField = (typeof GPU_QUERY_FIELDS)[number];

/** Fields that cannot be dropped when an old driver rejects one: without them a line means nothing. */
export const REQUIRED_FIELDS: ReadonlySet<string> = new Set(["index", "uuid"]);

/** A numeric cell, or undefined for `[N/A]`, `[Not Supported]`, `N/A`, an empty cell or anything non-numeric. */
export function parseNumber(cell: string): number | undefined {
  if (cell.length === 0 || cell.charCodeAt(0) === 91 /* [ */) return undefined;
  const n = Number(cell);
  return Number.isFinite(n) ? n : undefined;
}

/** The arguments of the long-lived loop: `--query-gpu=<fields> --format=csv,noheader,nounits -lms <interval>`. */
export function loopArgs(fields: readonly string[], intervalMs?: number): string[] {
  const args = [`--query-gpu=${fields.join(",")}`, "--format=csv,noheader,nounits"];
  if (intervalMs !== undefined) args.push("-lms", String(intervalMs));
  return args;
}

/** The field an old driver rejected, from `Field "x" is not a valid field to query.` */
export function rejectedField(output: string): string | undefined {
  return /Field "([^"]+)" is not a valid field to query/.exec(output)?.[1];
}
