import { type AlertEvent, definePlugin } from "@tapline/core";
import { STEP_NAMES } from "./story-pipeline.ts";

type StepState = "pending" | "running" | "retrying" | "ok" | "failed" | "skipped";

interface StoryRow {
  id: string;
  title: string;
  status: "queued" | "running" | "success" | "failed" | "cancelled";
  steps: Map<string, { state: StepState; attempts: number }>;
  note: string;
  startedAt: number;
  durationMs: number;
}

const BREAKER_STATES = ["closed", "half-open", "open", "isolated"] as const;

/** Where the progress goes: a TTY gets a live board redrawn in place, anything else plain lines. */
export interface ProgressOutput {
  write(text: string): void;
  readonly isTTY: boolean;
  /** The terminal's width (`process.stdout.columns`): each board row is cut to it, read at every redraw. */
  readonly columns?: number | undefined;
}

/**
 * The demo's live progress: one row per story with every step's state, attempts and the last error, plus
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
        steps: new Map(STEP_NAMES.map((n) => [n, { state: "pending" as StepState, attempts: 0 }])),
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

  /** A step started (once per step, whatever its attempts). */
  stepStarted(id: string, step: string): void {
    this.#set(id, step, "running");
  }

  /** An attempt of a step began. */
  attemptStarted(id: string, step: string, attempt: number): void {
    const s = this.#rows.get(id)?.steps.get(step);
    if (!s) return;
    s.attempts = attempt;
    s.state = attempt > 1 ? "retrying" : "running";
    if (attempt > 1) this.#event(`[${id}] ${step}: attempt ${attempt}`);
    else this.#dirty = true;
  }

  /** An attempt failed (a retry may follow). */
  attemptFailed(id: string, step: string, attempt: number, error: unknown): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.note = `${step} #${attempt}: ${short(error)}`;
    this.#event(`[${id}] ${step}: attempt ${attempt} failed: ${short(error)}`);
  }

  /** A step finished. */
  stepEnded(id: string, step: string, status: string, durationMs: number, attempts: number): void {
    this.#set(id, step, status === "success" ? "ok" : status === "skipped" ? "skipped" : "failed");
    const s = this.#rows.get(id)?.steps.get(step);
    if (s) s.attempts = attempts;
    this.#event(
      `[${id}] ${step}: ${status} in ${(durationMs / 1000).toFixed(1)} s${attempts > 1 ? ` after ${attempts} attempts` : ""}`,
    );
  }

  /** A story finished. */
  runEnded(id: string, status: "success" | "failed" | "cancelled", durationMs: number): void {
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
      const steps = [...row.steps].map(([name, s]) => {
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
      });
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

  #set(id: string, step: string, state: StepState): void {
    const s = this.#rows.get(id)?.steps.get(step);
    if (s) s.state = state;
    this.#dirty = true;
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
    api.hooks.runStart.tap(api.name, ({ ctx }) => board.runStarted(story(ctx)));
    api.hooks.stepStart.tap(api.name, ({ ctx }) => board.stepStarted(story(ctx), ctx.step));
    api.hooks.stepAttempt.tap(api.name, (e) => {
      if (e.phase === "start") board.attemptStarted(story(e.ctx), e.ctx.step, e.attempt);
      else if (e.status === "failed") {
        board.attemptFailed(story(e.ctx), e.ctx.step, e.attempt, e.error);
        e.ctx.log.warn({ attempt: e.attempt, err: short(e.error) }, "attempt failed");
      }
    });
    api.hooks.stepEnd.tap(api.name, ({ ctx, report }) =>
      board.stepEnded(story(ctx), report.name, report.status, report.durationMs, report.attempts.length),
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

function short(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 90 ? `${message.slice(0, 87)}...` : message;
}
