/**
 * The hot path of the loop: one `--format=csv,noheader,nounits` line to a {@link GpuReading}. A column plan is
 * compiled once per field list (cell position → kind), and each line is scanned in place: no `split`, no
 * `trim`, no substring per numeric cell (digits are accumulated by hand), so a line allocates only the reading,
 * its uuid/name/pstate strings and nothing else.
 */
import type { GpuReading } from "./reading.ts";
import { decodeThrottleMask } from "./throttle.ts";

const Kind = {
  Skip: 0,
  Index: 1,
  Uuid: 2,
  Name: 3,
  Utilization: 4,
  MemoryUtilization: 5,
  MemoryUsed: 6,
  MemoryTotal: 7,
  Temperature: 8,
  PowerDraw: 9,
  PowerLimit: 10,
  SmClock: 11,
  MemoryClock: 12,
  Pstate: 13,
  Throttle: 14,
  Persistence: 15,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_OF: Readonly<Record<string, Kind>> = {
  index: Kind.Index,
  uuid: Kind.Uuid,
  name: Kind.Name,
  "utilization.gpu": Kind.Utilization,
  "utilization.memory": Kind.MemoryUtilization,
  "memory.used": Kind.MemoryUsed,
  "memory.total": Kind.MemoryTotal,
  "temperature.gpu": Kind.Temperature,
  "power.draw": Kind.PowerDraw,
  "power.limit": Kind.PowerLimit,
  "clocks.current.sm": Kind.SmClock,
  "clocks.current.memory": Kind.MemoryClock,
  pstate: Kind.Pstate,
  "clocks_throttle_reasons.active": Kind.Throttle,
  persistence_mode: Kind.Persistence,
};

/** @internal A field list compiled once: the kind of every cell, where the (comma-tolerant) name is. */
export interface ColumnPlan {
  readonly fields: readonly string[];
  readonly kinds: Uint8Array;
  /** Position of `name` (the one cell that may contain commas), or -1. */
  readonly nameAt: number;
}

/** @internal Compiles a field list into a plan (unknown fields are skipped). */
export function columnPlan(fields: readonly string[]): ColumnPlan {
  const kinds = new Uint8Array(fields.length);
  for (let i = 0; i < fields.length; i++) kinds[i] = KIND_OF[fields[i]!] ?? Kind.Skip;
  return { fields, kinds, nameAt: fields.indexOf("name") };
}

const plans = new WeakMap<readonly string[], ColumnPlan>();

const MIB = 1024 * 1024;
const OPEN_BRACKET = 91;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Cell bounds of the line being parsed: starts[i]..ends[i] (trimmed). Grown on demand, reused (no re-entrancy:
// parsing is synchronous).
let starts = new Int32Array(32);
let ends = new Int32Array(32);
/** Numeric cells by kind; NaN = absent (numberAt never yields NaN). */
const values = new Float64Array(Kind.Persistence + 1);

/** Whitespace around a cell: space, tab, CR, LF (and anything below space). */
const isSpace = (c: number) => c <= 32;

/**
 * Parses one `--format=csv,noheader,nounits` line for the given field order. Returns undefined for a line
 * that is not a reading (an error message, a torn line, no index or uuid). `[N/A]`, `[Not Supported]` and any
 * other bracketed value, `N/A`, an empty cell or a non-numeric value in a numeric column leave the field absent.
 * Spaces, tabs and a trailing CR around cells are ignored.
 */
export function parseGpuLine(line: string, fields: readonly string[]): GpuReading | undefined {
  let plan = plans.get(fields);
  if (plan === undefined) {
    plan = columnPlan(fields);
    plans.set(fields, plan);
  }
  return parseGpuRange(line, 0, line.length, plan);
}

/**
 * @internal Parses `text[from, to)` (one line, without its newline) with a compiled plan. Used by the watcher on
 * the decoded chunk directly, so a line is never copied out of it.
 */
export function parseGpuRange(
  text: string,
  from: number,
  to: number,
  plan: ColumnPlan,
): GpuReading | undefined {
  const n = plan.kinds.length;
  // Cells: find every comma (at most n - 1 + a few in a product name).
  let cells = 0;
  let at = from;
  for (;;) {
    const comma = text.indexOf(",", at);
    const end = comma < 0 || comma >= to ? to : comma;
    if (cells === starts.length) grow();
    starts[cells] = at;
    ends[cells] = end;
    cells++;
    if (end === to) break;
    at = end + 1;
  }
  if (cells < n) return undefined;
  if (cells > n) {
    // A product name with a comma in it: its cell runs over the extra commas.
    const nameAt = plan.nameAt;
    if (nameAt < 0) return undefined;
    const extra = cells - n;
    ends[nameAt] = ends[nameAt + extra]!;
    for (let i = nameAt + 1; i < n; i++) {
      starts[i] = starts[i + extra]!;
      ends[i] = ends[i + extra]!;
    }
  }
  const kinds = plan.kinds;
  const v = values;
  v.fill(Number.NaN);
  let index: number | undefined;
  let uuid: string | undefined;
  let name = "";
  let pstate: string | undefined;
  let mask: number | undefined;
  let persistence: boolean | undefined;
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]! as Kind;
    if (kind === Kind.Skip) continue;
    let s = starts[i]!;
    let e = ends[i]!;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    switch (kind) {
      case Kind.Index: {
        const x = numberAt(text, s, e);
        if (x !== undefined && Number.isInteger(x)) index = x;
        break;
      }
      case Kind.Uuid:
        uuid = textAt(text, s, e);
        break;
      case Kind.Name:
        name = textAt(text, s, e) ?? "";
        break;
      case Kind.Pstate:
        pstate = textAt(text, s, e);
        break;
      case Kind.Throttle:
        mask = hexMaskAt(text, s, e);
        break;
      case Kind.Persistence:
        if (e - s === 7 && text.startsWith("Enabled", s)) persistence = true;
        else if (e - s === 8 && text.startsWith("Disabled", s)) persistence = false;
        break;
      default: {
        const x = numberAt(text, s, e);
        if (x !== undefined) v[kind] = x;
      }
    }
  }
  if (index === undefined || uuid === undefined) return undefined;
  // Always the same property order (index, uuid, name, then the fields present), whatever the column order.
  const r: Mutable<GpuReading> = { index, uuid, name };
  let x = v[Kind.Utilization]!;
  if (!Number.isNaN(x)) r.utilization = x / 100;
  x = v[Kind.MemoryUtilization]!;
  if (!Number.isNaN(x)) r.memoryUtilization = x / 100;
  x = v[Kind.MemoryUsed]!;
  if (!Number.isNaN(x)) r.memoryUsedBytes = x * MIB;
  x = v[Kind.MemoryTotal]!;
  if (!Number.isNaN(x)) r.memoryTotalBytes = x * MIB;
  x = v[Kind.Temperature]!;
  if (!Number.isNaN(x)) r.temperatureCelsius = x;
  x = v[Kind.PowerDraw]!;
  if (!Number.isNaN(x)) r.powerDrawWatts = x;
  x = v[Kind.PowerLimit]!;
  if (!Number.isNaN(x)) r.powerLimitWatts = x;
  x = v[Kind.SmClock]!;
  if (!Number.isNaN(x)) r.smClockHz = x * 1e6;
  x = v[Kind.MemoryClock]!;
  if (!Number.isNaN(x)) r.memoryClockHz = x * 1e6;
  if (pstate !== undefined) r.pstate = pstate;
  if (mask !== undefined) {
    r.throttleMask = mask;
    r.throttleReasons = decodeThrottleMask(mask);
  }
  if (persistence !== undefined) r.persistenceMode = persistence;
  return r;
}

function grow(): void {
  const s = new Int32Array(starts.length * 2);
  const e = new Int32Array(ends.length * 2);
  s.set(starts);
  e.set(ends);
  starts = s;
  ends = e;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The number in `text[s, e)` (already trimmed), or undefined for an empty cell, a bracketed value (`[N/A]`) or
 * anything `Number()` does not read as finite. Plain decimals (`-?digits[.digits]`, ≤ 15 digits) are read
 * without a substring: the digits form an exact integer and one division by an exact power of ten is
 * correctly rounded, so the result is bit-identical to `Number(cell)`. Anything else goes through `Number()`.
 */
export function numberAt(text: string, s: number, e: number): number | undefined {
  if (s >= e) return undefined;
  let i = s;
  let c = text.charCodeAt(i);
  if (c === OPEN_BRACKET) return undefined;
  const negative = c === 45; /* - */
  if (negative) i++;
  let digits = 0;
  let fraction = -1;
  let v = 0;
  for (; i < e; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
    } else if (c === 46 /* . */ && fraction < 0) {
      fraction = i;
    } else {
      break;
    }
  }
  if (i === e && digits > 0 && digits <= 15) {
    if (fraction >= 0) v /= POW10[e - fraction - 1]!;
    return negative ? -v : v;
  }
  const n = Number(text.slice(s, e));
  return Number.isFinite(n) ? n : undefined;
}

/** Text in `text[s, e)`, or undefined for an empty cell, a bracketed value or `N/A`. */
function textAt(text: string, s: number, e: number): string | undefined {
  if (s >= e || text.charCodeAt(s) === OPEN_BRACKET) return undefined;
  if (e - s === 3 && text.startsWith("N/A", s)) return undefined;
  return text.slice(s, e);
}

/** nvidia-smi's hex mask (`0x0000000000000041`) in `text[s, e)`; only the low 32 bits carry defined reasons. */
function hexMaskAt(text: string, s: number, e: number): number | undefined {
  const len = e - s;
  if (len < 3 || len > 18 || text.charCodeAt(s) !== 48 || (text.charCodeAt(s + 1) | 32) !== 120 /* x */) {
    return undefined;
  }
  let v = 0;
  const low = Math.max(s + 2, e - 8);
  for (let i = s + 2; i < e; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
    else return undefined;
    if (i >= low) v = v * 16 + d;
  }
  return v >>> 0;
}
