import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BudgetExceededError } from "@tapline/core/kit";
import type { Costs } from "./options.ts";

/** The calendar windows an app budget can count over. */
export type SpendWindow = "hourly" | "daily" | "monthly";

/**
 * An app's spend limits per calendar window (`daily: { usd: 20 }`), counted from every run's `ctx.cost()` and
 * kept across restarts under the app's data dir.
 *
 * @example
 * limits({ budget: { daily: { usd: 20 }, monthly: { usd: 300 } } })
 */
export interface SpendBudgetOptions {
  /** Most the app may spend in one clock hour, by cost unit. */
  hourly?: Costs;
  /** Most the app may spend in one calendar day, by cost unit (`{ usd: 20 }`). */
  daily?: Costs;
  /** Most the app may spend in one calendar month, by cost unit. */
  monthly?: Costs;
  /** IANA time zone in which windows start and end (`"Europe/Paris"`). Default `"UTC"`. */
  timeZone?: string;
}

/** Files kept per window kind (the current period and the ones before it); older ones are deleted. */
const KEEP = 31;
/**
 * How stale another process's appends may be when a unit is checked (ms). This process's own spends are read
 * back at once; re-reading the files before every unit would cost a `fstat` (µs) on every unit of every run.
 */
const REREAD_MS = 100;
/** Every time zone's hours and days start on a quarter hour (UTC), so a period holds at least until the next one. */
const QUARTER_HOUR = 900_000;
const WINDOWS: readonly SpendWindow[] = ["hourly", "daily", "monthly"];

/**
 * The app's window budget stopped a unit before it started: what the app already spent in the window (its
 * own runs and any other process on the same data dir, plus the estimates of units in flight), with the
 * unit's estimate, would pass the window's limit. The code is core's `TAPLINE_ERR_BUDGET_EXCEEDED`, so one
 * `isTaplineError(e, "TAPLINE_ERR_BUDGET_EXCEEDED")` handles a run's budget and the app's; `window` and
 * `period` tell them apart.
 */
export class WindowBudgetExceededError extends BudgetExceededError {
  /** The window that is full: `hourly`, `daily` or `monthly`. */
  readonly window: SpendWindow;
  /** Which one: `2026-12-01` (daily), `2026-12-01T13` (hourly), `2026-12` (monthly), in `timeZone`. */
  readonly period: string;
  readonly timeZone: string;
  constructor(p: {
    costUnit: string;
    spent: number;
    estimate: number;
    limit: number;
    unit: string;
    window: SpendWindow;
    period: string;
    timeZone: string;
  }) {
    const { window, period, timeZone, ...core } = p;
    super({ ...core, when: "before" });
    const coreMessage = this.message;
    this.name = "WindowBudgetExceededError";
    this.window = window;
    this.period = period;
    this.timeZone = timeZone;
    const where = `the app's ${window} spend (${period} ${timeZone})`;
    this.message =
      p.estimate > 0
        ? `budget: "${p.unit}" would cost ${fmt(p.estimate)} ${p.costUnit} on top of ${where} of ${fmt(p.spent)} ${p.costUnit}, past its limit of ${fmt(p.limit)} ${p.costUnit}; it did not start`
        : `budget: ${where} is ${fmt(p.spent)} ${p.costUnit}, past its limit of ${fmt(p.limit)} ${p.costUnit}; "${p.unit}" did not start`;
    if (this.stack) this.stack = this.stack.replace(coreMessage, this.message);
  }
}

const fmt = (n: number) => String(Math.round(n * 1e6) / 1e6);

/** @internal Where a window stands after a spend was recorded in it. */
export interface SpendUpdate {
  readonly window: SpendWindow;
  readonly period: string;
  readonly unit: string;
  readonly spent: number;
  readonly limit: number;
}

/** One window kind's journal for its current period: an append-only file of spends, summed. */
interface Journal {
  readonly kind: SpendWindow;
  readonly limits: Costs;
  period: string;
  fd: number;
  /** Bytes of the file already summed (always at a line end). */
  offset: number;
  totals: Record<string, number>;
  /** `performance.now()` of the last read. */
  readAt: number;
  /** The clock's span (epoch ms) over which `period` is known to hold. */
  from: number;
  until: number;
}

/** @internal Where the app's window budget stands, per window (for `status`). */
export interface SpendWindowState {
  readonly period: string;
  readonly spent: Readonly<Record<string, number>>;
  readonly reserved: Readonly<Record<string, number>>;
  readonly limit: Costs;
}

/**
 * @internal The app's window budget: journals under `dir` (one JSON line per spend, appended with O_APPEND, so
 * several processes on one data dir add up, and a torn write loses only its own line), the estimates of units
 * in flight, and the check before a unit starts.
 */
export class SpendWindows {
  private readonly journals: Journal[] = [];
  /** Estimates of units in flight, per run, less what the run spent since (so a spend is not counted twice). */
  private readonly inFlight = new Map<
    string,
    { units: number; reserved: Record<string, number>; spent: Record<string, number> }
  >();
  private readonly format: Intl.DateTimeFormat | undefined;
  readonly timeZone: string;
  /** Cost units some window counts; others are not written. */
  readonly units: ReadonlySet<string>;
  private closed = false;
  private readonly dir: string;
  private readonly now: () => number;
  private readonly warn: (message: string, details: Record<string, unknown>) => void;

  constructor(
    dir: string,
    options: SpendBudgetOptions,
    now: () => number,
    warn: (message: string, details: Record<string, unknown>) => void,
  ) {
    this.dir = dir;
    this.now = now;
    this.warn = warn;
    this.timeZone = options.timeZone ?? "UTC";
    this.format =
      this.timeZone === "UTC"
        ? undefined
        : new Intl.DateTimeFormat("en-CA", {
            timeZone: this.timeZone,
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            hourCycle: "h23",
          });
    const units = new Set<string>();
    mkdirSync(dir, { recursive: true });
    for (const kind of WINDOWS) {
      const limits = options[kind];
      if (!limits || Object.keys(limits).length === 0) continue;
      for (const u of Object.keys(limits)) units.add(u);
      this.journals.push(this.open(kind, limits, this.periodOf(kind, this.now())));
    }
    this.units = units;
  }

  /** The window a time falls in, in the budget's time zone: `2026-12-01T13`, `2026-12-01`, `2026-12`. */
  private periodOf(kind: SpendWindow, t: number): string {
    let stamp: string; // YYYY-MM-DDTHH
    if (!this.format) stamp = new Date(t).toISOString().slice(0, 13);
    else {
      const p: Record<string, string> = {};
      for (const part of this.format.formatToParts(t)) p[part.type] = part.value;
      stamp = `${p.year}-${p.month}-${p.day}T${p.hour}`;
    }
    return kind === "hourly" ? stamp : kind === "daily" ? stamp.slice(0, 10) : stamp.slice(0, 7);
  }

  private open(kind: SpendWindow, limits: Costs, period: string): Journal {
    const fd = openSync(join(this.dir, `spend-${kind}-${period}.jsonl`), "a+");
    const t = this.now();
    const from = Math.floor(t / QUARTER_HOUR) * QUARTER_HOUR;
    const journal: Journal = {
      kind,
      limits,
      period,
      fd,
      offset: 0,
      totals: {},
      readAt: 0,
      from,
      until: from + QUARTER_HOUR,
    };
    this.read(journal);
    this.prune(kind);
    return journal;
  }

  private prune(kind: SpendWindow): void {
    const prefix = `spend-${kind}-`;
    const files = readdirSync(this.dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith(".jsonl"))
      .sort();
    for (const f of files.slice(0, Math.max(0, files.length - KEEP)))
      rmSync(join(this.dir, f), { force: true });
  }

  /**
   * Sums what was appended since the last read, by this process or another. Only whole lines are read: a
   * line still being written (or torn by a crash) stays for later, and since every record starts on a line of
   * its own, a torn one never swallows the record after it: it is skipped with a warning.
   */
  private read(j: Journal): void {
    j.readAt = performance.now();
    const size = fstatSync(j.fd).size;
    if (size <= j.offset) return;
    const buffer = Buffer.alloc(size - j.offset);
    const got = readSync(j.fd, buffer, 0, buffer.length, j.offset);
    const end = buffer.subarray(0, got).lastIndexOf(0x0a);
    if (end < 0) return;
    for (const line of buffer.toString("utf8", 0, end).split("\n")) {
      if (line === "") continue;
      let record: { unit?: unknown; amount?: unknown };
      try {
        record = JSON.parse(line);
      } catch {
        this.warn("limits: skipped a torn line in the spend journal", { window: j.kind, period: j.period });
        continue;
      }
      const { unit, amount } = record;
      if (typeof unit === "string" && typeof amount === "number" && Number.isFinite(amount))
        j.totals[unit] = (j.totals[unit] ?? 0) + amount;
    }
    j.offset += end + 1;
  }

  /**
   * Opens the next period's journal when the clock has passed into it, and reads what others appended
   * (`fresh`: now; else when the last read is older than {@link REREAD_MS}).
   */
  private current(fresh = false): readonly Journal[] {
    const t = this.now();
    const wall = performance.now();
    for (let i = 0; i < this.journals.length; i++) {
      const j = this.journals[i]!;
      if (t < j.from || t >= j.until) {
        const period = this.periodOf(j.kind, t);
        if (period !== j.period) {
          closeSync(j.fd);
          this.journals[i] = this.open(j.kind, j.limits, period);
          continue;
        }
        j.from = Math.floor(t / QUARTER_HOUR) * QUARTER_HOUR;
        j.until = j.from + QUARTER_HOUR;
      }
      if (fresh || wall - j.readAt >= REREAD_MS) this.read(j);
    }
    return this.journals;
  }

  /** Records a spend in every window that counts its unit (before anything else can check). */
  record(
    unit: string,
    amount: number,
    meta: { run?: string; pipeline?: string; step?: string },
  ): readonly SpendUpdate[] {
    if (this.closed || !this.units.has(unit) || !(amount > 0)) return [];
    const pool = meta.run === undefined ? undefined : this.inFlight.get(meta.run);
    if (pool) pool.spent[unit] = (pool.spent[unit] ?? 0) + amount;
    const line = `\n${JSON.stringify({ t: this.now(), unit, amount, ...meta })}\n`;
    const updates: SpendUpdate[] = [];
    for (const j of this.current()) {
      const limit = j.limits[unit];
      if (limit === undefined) continue;
      writeSync(j.fd, line);
      this.read(j);
      updates.push({ window: j.kind, period: j.period, unit, spent: j.totals[unit] ?? 0, limit });
    }
    return updates;
  }

  /** The error that stops a unit with this estimate, or `undefined` when it may start. */
  check(estimate: Costs | undefined, unit: string): WindowBudgetExceededError | undefined {
    if (this.closed) return undefined;
    for (const j of this.current()) {
      for (const [costUnit, limit] of Object.entries(j.limits)) {
        const spent = (j.totals[costUnit] ?? 0) + this.reservedOf(costUnit);
        const amount = estimate?.[costUnit] ?? 0;
        // A hair of tolerance: 0.1 + 0.2 must fit a limit of 0.3.
        if (spent + Math.max(amount, 0) > limit * (1 + 1e-9)) {
          return new WindowBudgetExceededError({
            costUnit,
            spent,
            estimate: Math.max(amount, 0),
            limit,
            unit,
            window: j.kind,
            period: j.period,
            timeZone: this.timeZone,
          });
        }
      }
    }
    return undefined;
  }

  /** What units in flight are expected to spend still: their estimates less what their runs spent since. */
  private reservedOf(costUnit: string): number {
    let sum = 0;
    for (const pool of this.inFlight.values())
      sum += Math.max(0, (pool.reserved[costUnit] ?? 0) - (pool.spent[costUnit] ?? 0));
    return sum;
  }

  /**
   * Counts a starting unit's estimate as spent until {@link release}, so concurrent units cannot all fit at
   * once; what its run spends meanwhile comes off the reservation, so a spend is never counted twice.
   */
  reserve(run: string, estimate: Costs): void {
    let pool = this.inFlight.get(run);
    if (!pool) {
      pool = { units: 0, reserved: {}, spent: {} };
      this.inFlight.set(run, pool);
    }
    pool.units++;
    for (const [u, n] of Object.entries(estimate))
      if (this.units.has(u) && n > 0) pool.reserved[u] = (pool.reserved[u] ?? 0) + n;
  }
  release(run: string, estimate: Costs): void {
    const pool = this.inFlight.get(run);
    if (!pool) return;
    if (--pool.units === 0) {
      this.inFlight.delete(run);
      return;
    }
    for (const [u, n] of Object.entries(estimate)) {
      if (!(n > 0) || pool.reserved[u] === undefined) continue;
      // The unit's share of the run's spend goes with it (up to its estimate).
      const spentBy = Math.min(n, pool.spent[u] ?? 0);
      pool.reserved[u] -= n;
      if (pool.spent[u] !== undefined) pool.spent[u] -= spentBy;
    }
  }

  state(): Record<string, SpendWindowState> {
    const out: Record<string, SpendWindowState> = {};
    if (this.closed) return out;
    for (const j of this.current(true))
      out[j.kind] = {
        period: j.period,
        spent: { ...j.totals },
        reserved: Object.fromEntries([...this.units].map((u) => [u, this.reservedOf(u)])),
        limit: j.limits,
      };
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const j of this.journals) closeSync(j.fd);
  }
}
