import { decodeThrottleMask, parseThrottleMask, type ThrottleReason } from "./throttle.ts";

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

const MIB = 1024 * 1024;

/** A numeric cell, or undefined for `[N/A]`, `[Not Supported]`, `N/A`, an empty cell or anything non-numeric. */
export function parseNumber(cell: string): number | undefined {
  if (cell.length === 0 || cell.charCodeAt(0) === 91 /* [ */) return undefined;
  const n = Number(cell);
  return Number.isFinite(n) ? n : undefined;
}

function parseText(cell: string): string | undefined {
  if (cell.length === 0 || cell.charCodeAt(0) === 91 || cell === "N/A") return undefined;
  return cell;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Parses one `--format=csv,noheader,nounits` line for the given field order. Returns undefined for a line
 * that is not a reading (an error message, a torn line, no index or uuid).
 */
export function parseGpuLine(line: string, fields: readonly string[]): GpuReading | undefined {
  const cells = line.split(",");
  if (cells.length < fields.length) return undefined;
  if (cells.length > fields.length) {
    // A product name with a comma in it: glue the extra cells back into the name.
    const at = fields.indexOf("name");
    if (at < 0) return undefined;
    const extra = cells.length - fields.length;
    cells.splice(at, extra + 1, cells.slice(at, at + extra + 1).join(","));
  }
  const r: Partial<Mutable<GpuReading>> = {};
  for (let i = 0; i < fields.length; i++) {
    const cell = cells[i]!.trim();
    switch (fields[i]) {
      case "index":
        r.index = parseNumber(cell);
        break;
      case "uuid":
        r.uuid = parseText(cell);
        break;
      case "name":
        r.name = parseText(cell) ?? "";
        break;
      case "utilization.gpu":
        setRatio(r, "utilization", cell);
        break;
      case "utilization.memory":
        setRatio(r, "memoryUtilization", cell);
        break;
      case "memory.used":
        setScaled(r, "memoryUsedBytes", cell, MIB);
        break;
      case "memory.total":
        setScaled(r, "memoryTotalBytes", cell, MIB);
        break;
      case "temperature.gpu":
        setScaled(r, "temperatureCelsius", cell, 1);
        break;
      case "power.draw":
        setScaled(r, "powerDrawWatts", cell, 1);
        break;
      case "power.limit":
        setScaled(r, "powerLimitWatts", cell, 1);
        break;
      case "clocks.current.sm":
        setScaled(r, "smClockHz", cell, 1e6);
        break;
      case "clocks.current.memory":
        setScaled(r, "memoryClockHz", cell, 1e6);
        break;
      case "pstate": {
        const p = parseText(cell);
        if (p !== undefined) r.pstate = p;
        break;
      }
      case "clocks_throttle_reasons.active": {
        const mask = parseThrottleMask(cell);
        if (mask !== undefined) {
          r.throttleMask = mask;
          r.throttleReasons = decodeThrottleMask(mask);
        }
        break;
      }
      case "persistence_mode":
        if (cell === "Enabled") r.persistenceMode = true;
        else if (cell === "Disabled") r.persistenceMode = false;
        break;
    }
  }
  if (r.index === undefined || !Number.isInteger(r.index) || r.uuid === undefined) return undefined;
  r.name ??= "";
  return r as GpuReading;
}

function setRatio(r: Partial<Mutable<GpuReading>>, key: "utilization" | "memoryUtilization", cell: string) {
  const n = parseNumber(cell);
  if (n !== undefined) r[key] = n / 100;
}

function setScaled(
  r: Partial<Mutable<GpuReading>>,
  key:
    | "memoryUsedBytes"
    | "memoryTotalBytes"
    | "temperatureCelsius"
    | "powerDrawWatts"
    | "powerLimitWatts"
    | "smClockHz"
    | "memoryClockHz",
  cell: string,
  scale: number,
) {
  const n = parseNumber(cell);
  if (n !== undefined) r[key] = n * scale;
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
