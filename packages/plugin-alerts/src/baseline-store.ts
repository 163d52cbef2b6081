import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import type { SavedSeries } from "./rule-engine.ts";

/** How often (at most) the baselines are written while they change; `close()` always writes. */
const SAVE_EVERY_MS = 10_000;

const Finite = v.pipe(v.number(), v.finite());
const FileSchema = v.object({
  version: v.literal(1),
  rules: v.record(
    v.string(),
    v.array(
      v.object({
        key: v.string(),
        labels: v.record(v.string(), v.string()),
        state: v.object({
          recent: v.array(v.tuple([Finite, Finite])),
          baseline: v.array(Finite),
          since: v.optional(Finite),
        }),
      }),
    ),
  ),
});

/**
 * @internal
 * The regression rules' baselines on disk: `<dir>/alerts/baselines.json`, next to the alert history. One JSON
 * document (bounded: at most `baseline` values and the recent window per series), written to a temporary file
 * and renamed over the old one, so a crash leaves the previous version whole. Read once, on start; an
 * unreadable or foreign file is reported and ignored (the baselines start again), never fatal.
 */
export class BaselineStore {
  readonly #path: string | undefined;
  readonly #onError: (error: unknown) => void;
  #rules = new Map<string, SavedSeries[]>();
  #lastSave = 0;
  #pending = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(dir: string | undefined, onError: (error: unknown) => void) {
    this.#path = dir === undefined ? undefined : join(dir, "alerts", "baselines.json");
    this.#onError = onError;
  }

  /** The saved series of the named rules (empty without a dir or a file). */
  read(names: readonly string[]): Map<string, SavedSeries[]> {
    if (this.#path === undefined) return new Map();
    let text: string;
    try {
      text = readFileSync(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.#onError(error);
      return new Map();
    }
    try {
      const parsed = v.safeParse(FileSchema, JSON.parse(text));
      if (!parsed.success) throw new Error("not a baselines file of this version");
      this.#rules = new Map(
        (Object.entries(parsed.output.rules) as [string, SavedSeries[]][]).filter(([name]) =>
          names.includes(name),
        ),
      );
    } catch (error) {
      this.#onError(
        new Error(
          `regression baselines ${this.#path} unreadable (${(error as Error).message}); starting new baselines`,
        ),
      );
    }
    return this.#rules;
  }

  /** Takes changed series of a rule (its whole list). */
  update(rule: string, series: SavedSeries[]): void {
    this.#rules.set(rule, series);
    this.#pending = true;
  }

  /** Writes when something changed and the last write is old enough (`force`: whatever its age). */
  save(now: number, force = false): Promise<void> {
    if (this.#path === undefined || !this.#pending) return this.#writing;
    if (!force && now - this.#lastSave < SAVE_EVERY_MS) return this.#writing;
    this.#lastSave = now;
    this.#pending = false;
    const path = this.#path;
    const body = JSON.stringify({ version: 1, rules: Object.fromEntries(this.#rules) });
    this.#writing = this.#writing.then(async () => {
      try {
        await mkdir(join(path, ".."), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, body);
        await rename(tmp, path);
      } catch (error) {
        this.#onError(error);
      }
    });
    return this.#writing;
  }
}
