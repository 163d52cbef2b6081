import { type AlertEvent, definePlugin } from "@tapline/core";
import { SCENES_METRIC, STEP_NAMES } from "./story-pipeline.ts";

type StepState = "pending" | "running" | "retrying" | "ok" | "failed" | "skipped";

interface UnitState {
  state: StepState;
  attempts: number;
  /** The enclosing unit's path; undefined for a top-level step. */
  parent: string | undefined;
  definitionPath: string;
}

interface StoryRow {
  id: string;
  title: string;
  status: "queued" | "running" | "success" | "failed" | "cancelled" | "suspended";
  /** Top-level steps by name, in pipeline order. */
  steps: Map<string, UnitState>;
  /** Every nested unit (branch, sub-step, map item) by path, in start order. */
  units: Map<string, UnitState>;
  /** A map's item count by its path: announced by a gauge while it runs, or counted from its report at the end. */
  totals: Map<string, number>;
  note: string;
  startedAt: number;
  durationMs: number;
}

/** How a map's items stand: what {@link formatFanOut} prints. */
export interface FanOutCounts {
  readonly ok: number;
  readonly running: number;
  readonly retrying: number;
  readonly failed: number;
  /** Items in all; undefined while unknown. */
  readonly total: number | undefined;
}

/**
 * A map's one-cell summary: `scenes 5/8 ✓ 1 retrying` (5 of 8 items done, one on its second attempt or
 * later), `scenes 2/? ✓ 1 running` while the total is unknown, `scenes 7/8 ✓ 1 failed`.
 */
export function formatFanOut(label: string, counts: FanOutCounts, colour = false): string {
  const c = colours(colour);
  const done = `${counts.ok}/${counts.total ?? "?"} ✓`;
  const parts = [
    `${label} ${counts.total !== undefined && counts.ok === counts.total ? c.green(done) : done}`,
  ];
  if (counts.running > 0) parts.push(c.cyan(`${counts.running} running`));
  if (counts.retrying > 0) parts.push(c.yellow(`${counts.retrying} retrying`));
  if (counts.failed > 0) parts.push(c.red(`${counts.failed} failed`));
  return parts.join(" ");
}

const ITEM = /\[\d+\]$/;

const BREAKER_STATES = ["closed", "half-open", "open", "isolated"] as const;

/** Where the progress goes: a TTY gets a live board redrawn in place, anything else plain lines. */
export interface ProgressOutput {
  write(text: string): void;
  readonly isTTY: boolean;
  /** The terminal's width (`process.stdout.columns`): each board row is cut to it, read at every redraw. */
  readonly columns?: number | undefined;
}

/**
 * The demo's live progress: one row per story with every top-level step's state and attempts (a shape's
 * cell shows its sub-steps and each map as a summary, `scenes 5/8 ✓ 1 retrying`) and the last error, plus
 * the circuit breakers and firing alerts. On a terminal it redraws in place (10 times a second, colours on);
 * otherwise it prints one plain line per event, which logs and CI read well.
 */
export class ProgressBoard {
  readonly #rows = new Map<string, StoryRow>();
  readonly #breakers = new Map<string, string>();
  readonly #alerts = new Map<string, AlertEvent>();
  readonly #out: ProgressOutput;
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;

  constructor(out: ProgressOutput, stories: readonly { id: string; title: string }[]) {
    this.#out = out;
    for (const s of stories) {
      this.#rows.set(s.id, {
        ...s,
        status: "queued",
        steps: new Map(
          STEP_NAMES.map((n) => [
            n,
            { state: "pending" as StepState, attempts: 0, parent: undefined, definitionPath: n },
          ]),
        ),
        units: new Map(),
        totals: new Map(),
        note: "",
        startedAt: 0,
        durationMs: 0,
      });
    }
    if (out.isTTY) {
      this.#timer = setInterval(() => this.#dirty && this.draw(), 100);
      this.#timer.unref();
    }
  }

  /** A story started. */
  runStarted(id: string): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.status = "running";
    row.startedAt = Date.now();
    this.#event(`[${id}] started: ${row.title}`);
  }

  /**
   * A unit started (once per unit, whatever its attempts): a top-level step (no `parent`), or a branch,
   * sub-step or map item inside one, by its path (`media.images.scenes[2]`) and its parent's path.
   */
  stepStarted(id: string, path: string, parent?: string, definitionPath: string = path): void {
    const row = this.#rows.get(id);
    if (!row) return;
    if (parent === undefined) {
      const s = row.steps.get(path);
      if (s) s.state = "running";
    } else {
      row.units.set(path, { state: "running", attempts: 0, parent, definitionPath });
    }
    this.#dirty = true;
  }

  /** An attempt of a unit began. */
  attemptStarted(id: string, path: string, attempt: number): void {
    const s = this.#unit(id, path);
    if (!s) return;
    s.attempts = attempt;
    s.state = attempt > 1 ? "retrying" : "running";
    if (attempt > 1) this.#event(`[${id}] ${path}: attempt ${attempt}`);
    else this.#dirty = true;
  }

  /** An attempt failed (a retry may follow). */
  attemptFailed(id: string, path: string, attempt: number, error: unknown): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.note = `${path} #${attempt}: ${short(error)}`;
    this.#event(`[${id}] ${path}: attempt ${attempt} failed: ${short(error)}`);
  }

  /**
   * A unit finished. `children` is the number of child reports of a shape (a map's items, skipped ones
   * included): a map's total once it ends.
   */
  stepEnded(
    id: string,
    path: string,
    status: string,
    durationMs: number,
    attempts: number,
    children?: number,
    replayed = false,
  ): void {
    const s = this.#unit(id, path);
    const row = this.#rows.get(id);
    if (!s || !row) return;
    s.state = status === "success" ? "ok" : status === "skipped" ? "skipped" : "failed";
    if (attempts > 0) s.attempts = attempts;
    const map = this.#isMap(row, path);
    if (children !== undefined && map) row.totals.set(path, children);
    const fanOut = map ? ` (${formatFanOut(lastName(path), this.#counts(row, path))})` : "";
    // A replayed unit (a resumed run) was not executed: its saved result was used, it took no time.
    const how = replayed
      ? "replayed (saved result, not executed)"
      : `${status} in ${(durationMs / 1000).toFixed(1)} s${attempts > 1 ? ` after ${attempts} attempts` : ""}`;
    this.#event(`[${id}] ${path}: ${how}${fanOut}`);
  }

  /**
   * How many items a running map has, before they end: the demo's scene map emits it as a gauge whose
   * `step` label is the map's definition path (`media.images.scenes`).
   */
  mapTotal(id: string, definitionPath: string, total: number): void {
    const row = this.#rows.get(id);
    if (!row) return;
    for (const [path, unit] of [...row.steps, ...row.units])
      if (unit.definitionPath === definitionPath && unit.state === "running") row.totals.set(path, total);
    this.#dirty = true;
  }

  /** A story finished. */
  runEnded(id: string, status: "success" | "failed" | "cancelled" | "suspended", durationMs: number): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.status = status;
    row.durationMs = durationMs;
    for (const s of row.steps.values()) if (s.state === "pending") s.state = "skipped";
    if (status === "success") row.note = "";
    this.#event(`[${id}] ${status} in ${(durationMs / 1000).toFixed(1)} s`);
  }

  /** A `tapline_breaker_state` sample: 0 closed, 1 half-open, 2 open, 3 isolated. */
  breaker(name: string, value: number): void {
    const state = BREAKER_STATES[value] ?? String(value);
    if (this.#breakers.get(name) === state) return;
    const first = !this.#breakers.has(name);
    this.#breakers.set(name, state);
    if (!(first && state === "closed")) this.#event(`breaker ${name}: ${state}`);
  }

  /** An alert transition. */
  alert(event: AlertEvent): void {
    const key = `${event.rule}${JSON.stringify(event.labels)}`;
    if (event.state === "resolved") this.#alerts.delete(key);
    else this.#alerts.set(key, event);
    this.#event(`alert ${event.rule} ${event.state} (${event.level}): ${event.message}`);
  }

  /** Redraws the board now (TTY only). */
  draw(): void {
    if (!this.#out.isTTY) return;
    this.#dirty = false;
    // A row wider than the terminal wraps onto two screen lines, and the cursor-up below (one per row) then
    // leaves part of the last board on screen: every redraw would repeat rows. So each row fits the width.
    const lines = this.lines(true).map((line) => fitRow(line, this.#out.columns));
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F\x1b[0J` : "";
    this.#out.write(up + lines.join("\n") + "\n");
    this.#drawn = lines.length;
  }

  /** Stops redrawing and draws the final state. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.draw();
  }

  /** The board as text lines (what the TTY shows). */
  lines(colour = false): string[] {
    const c = colours(colour);
    const width = Math.max(...[...this.#rows.keys()].map((k) => k.length), 5);
    const out: string[] = [];
    for (const row of this.#rows.values()) {
      const steps = [...row.steps].map(([name, s]) => this.#cell(row, name, s, colour));
      const status =
        row.status === "success"
          ? c.green("done")
          : row.status === "failed" || row.status === "cancelled"
            ? c.red(row.status)
            : row.status === "queued"
              ? c.dim("queued")
              : c.cyan("running");
      const time = row.startedAt
        ? `${((row.durationMs || Date.now() - row.startedAt) / 1000).toFixed(1)}s`
        : "";
      out.push(
        `${row.id.padEnd(width)}  ${status.padEnd(colour ? 16 : 7)} ${time.padStart(6)}  ${steps.join("  ")}${row.note ? c.dim(`  ${row.note}`) : ""}`,
      );
    }
    const breakers = [...this.#breakers].map(
      ([n, s]) => `${n} ${s === "closed" ? c.green(s) : s === "half-open" ? c.yellow(s) : c.red(s)}`,
    );
    out.push(
      `breakers: ${breakers.length ? breakers.join(", ") : c.dim("none yet")}   alerts firing: ${this.#alerts.size ? c.red(String(this.#alerts.size)) : c.green("0")}`,
    );
    return out;
  }

  /**
   * How a map's items stand (`path` is the map's path), counted from the units whose parent it is; a
   * retrying item counts as retrying, not running. Undefined for a unit that is not a map (yet).
   */
  fanOut(id: string, path: string): FanOutCounts | undefined {
    const row = this.#rows.get(id);
    return row && this.#isMap(row, path) ? this.#counts(row, path) : undefined;
  }

  /**
   * A top-level step's cell: its state, and for a shape what runs inside it: each sub-step (`✓ voiceover`)
   * and each map as a summary (`scenes 5/8 ✓ 1 retrying`). Once the step is done only the maps and the
   * sub-steps that needed more than one attempt (or failed) are kept, so a finished row stays short.
   */
  #cell(row: StoryRow, name: string, s: UnitState, colour: boolean): string {
    const c = colours(colour);
    const inside: string[] = [];
    const done = s.state !== "running" && s.state !== "retrying";
    if (this.#isMap(row, name)) inside.push(formatFanOut(name, this.#counts(row, name), colour));
    for (const [path, unit] of row.units) {
      if (!path.startsWith(`${name}.`) && !path.startsWith(`${name}[`)) continue;
      if (ITEM.test(path) || this.#insideItem(row, unit)) continue; // counted by their map
      if (this.#isMap(row, path)) inside.push(formatFanOut(lastName(path), this.#counts(row, path), colour));
      else if (!this.#isParent(row, path) && (!done || unit.attempts > 1 || unit.state === "failed"))
        inside.push(stateCell(unit, lastName(path), c));
    }
    const own = stateCell(s, name, c);
    return inside.length > 0 ? `${own}${c.dim("[")}${inside.join(c.dim(" · "))}${c.dim("]")}` : own;
  }

  #counts(row: StoryRow, path: string): FanOutCounts {
    let ok = 0;
    let running = 0;
    let retrying = 0;
    let failed = 0;
    for (const [p, unit] of row.units) {
      if (unit.parent !== path || !ITEM.test(p)) continue;
      if (unit.state === "ok") ok++;
      else if (unit.state === "retrying") retrying++;
      else if (unit.state === "running") running++;
      else if (unit.state === "failed") failed++;
    }
    return { ok, running, retrying, failed, total: row.totals.get(path) };
  }

  /** A map: a unit with indexed children (`scenes[0]`) or an announced total. */
  #isMap(row: StoryRow, path: string): boolean {
    if (row.totals.has(path)) return true;
    for (const [p, unit] of row.units) if (unit.parent === path && ITEM.test(p)) return true;
    return false;
  }

  #isParent(row: StoryRow, path: string): boolean {
    for (const unit of row.units.values()) if (unit.parent === path) return true;
    return false;
  }

  /** True for a unit nested in a map item (a sub-pipeline's step of `scenes[2]`): its map counts the item. */
  #insideItem(row: StoryRow, unit: UnitState): boolean {
    for (let parent = unit.parent; parent !== undefined; parent = row.units.get(parent)?.parent)
      if (ITEM.test(parent)) return true;
    return false;
  }

  #unit(id: string, path: string): UnitState | undefined {
    const row = this.#rows.get(id);
    return row?.steps.get(path) ?? row?.units.get(path);
  }

  #event(line: string): void {
    if (this.#out.isTTY) this.#dirty = true;
    else this.#out.write(`${line}\n`);
  }
}

/**
 * A tiny plugin feeding a {@link ProgressBoard} from the lifecycle hooks; stories are told apart by the
 * run label `story`. It shows how an app-specific plugin taps hooks without knowing the other plugins:
 * breaker state arrives as `tapline_breaker_state` samples, alerts through the `alert` hook.
 */
export const progressPlugin = definePlugin<{ board: ProgressBoard }>({
  name: "story-video-progress",
  version: "1.0.0",
  core: "^1.0.0",
  setup(api) {
    const { board } = api.options;
    const story = (ctx: { labels: Readonly<Record<string, string>> }) => ctx.labels.story ?? "?";
    // Every unit (step, branch, map item) fires these hooks with its own context: the path tells them
    // apart, the parent's path places them in the tree.
    const path = (ctx: { path?: string; step: string }) => ctx.path ?? ctx.step;
    api.hooks.runStart.tap(api.name, ({ ctx }) => board.runStarted(story(ctx)));
    api.hooks.stepStart.tap(api.name, ({ ctx }) =>
      board.stepStarted(story(ctx), path(ctx), ctx.parent?.path, ctx.definitionPath ?? path(ctx)),
    );
    api.hooks.stepAttempt.tap(api.name, (e) => {
      if (e.phase === "start") board.attemptStarted(story(e.ctx), path(e.ctx), e.attempt);
      else if (e.status === "failed") {
        board.attemptFailed(story(e.ctx), path(e.ctx), e.attempt, e.error);
        e.ctx.log.warn({ attempt: e.attempt, err: short(e.error) }, "attempt failed");
      }
    });
    api.hooks.stepEnd.tap(api.name, ({ ctx, report, replayed }) =>
      board.stepEnded(
        story(ctx),
        report.path ?? path(ctx),
        report.status,
        report.durationMs,
        report.attempts.length,
        report.children?.length,
        replayed,
      ),
    );
    api.hooks.runEnd.tap(api.name, ({ ctx, report }) => {
      board.runEnded(story(ctx), report.status, report.durationMs);
      ctx.log.info(
        { story: story(ctx), status: report.status, durationMs: Math.round(report.durationMs) },
        "story finished",
      );
    });
    api.hooks.metric.tap(api.name, (sample) => {
      if (sample.name === "tapline_breaker_state") board.breaker(sample.labels.breaker ?? "?", sample.value);
      else if (sample.name === SCENES_METRIC && sample.labels.step)
        board.mapTotal(sample.labels.story ?? "?", sample.labels.step, sample.value);
    });
    api.hooks.alert.tap(api.name, (event) => board.alert(event));
  },
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes on purpose
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/y;

/** The columns a string takes on a terminal: ANSI escapes take none, each code point one. */
export function visibleWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; ) {
    ANSI.lastIndex = i;
    const esc = ANSI.exec(text);
    if (esc) i += esc[0].length;
    else {
      i += String.fromCodePoint(text.codePointAt(i)!).length;
      width++;
    }
  }
  return width;
}

/**
 * Cuts a row to `columns` visible columns, ending it with "…" and a colour reset when it was cut; escapes
 * are kept whole. Without a width (not a terminal, or unknown) the row is returned as it is.
 */
export function fitRow(row: string, columns: number | undefined): string {
  if (!columns || columns < 1 || visibleWidth(row) <= columns) return row;
  let out = "";
  let width = 0;
  for (let i = 0; i < row.length && width < columns - 1; ) {
    ANSI.lastIndex = i;
    const esc = ANSI.exec(row);
    const piece = esc ? esc[0] : String.fromCodePoint(row.codePointAt(i)!);
    if (!esc) width++;
    out += piece;
    i += piece.length;
  }
  return `${out}…\x1b[0m`;
}

/** Escapes for colour, or identity functions when colour is off. */
export function colours(on: boolean) {
  const wrap = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), cyan: wrap(36), dim: wrap(2), bold: wrap(1) };
}

/** One unit's state as a cell: `✓ script`, `↻ voiceover×2`, `▶ render`. */
function stateCell(
  s: { state: StepState; attempts: number },
  name: string,
  c: ReturnType<typeof colours>,
): string {
  const label = s.attempts > 1 ? `${name}×${s.attempts}` : name;
  switch (s.state) {
    case "ok":
      return c.green(`✓ ${label}`);
    case "failed":
      return c.red(`✗ ${label}`);
    case "running":
      return c.cyan(`▶ ${label}`);
    case "retrying":
      return c.yellow(`↻ ${label}`);
    case "skipped":
      return c.dim(`- ${name}`);
    default:
      return c.dim(`· ${name}`);
  }
}

/** The last name of a path: `scenes` for `media.images.scenes`, `[2]` for `scenes[2]`. */
function lastName(path: string): string {
  return /(\[\d+\]|[^.[\]]+)$/.exec(path)?.[1] ?? path;
}

function short(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 90 ? `${message.slice(0, 87)}...` : message;
}
