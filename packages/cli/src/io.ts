/** A stream the CLI writes to. */
export interface CliStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** What a command may touch: injectable, so commands run in-process in tests. */
export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  /** Relative paths (`--dir`, modules, configs) resolve from here. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborts runs in flight (`tapline run`): the binary wires it to SIGINT/SIGTERM. */
  readonly signal?: AbortSignal;
}

/** The process's own streams, cwd and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

/** Colour functions: ANSI escapes only when the stream is a terminal and `NO_COLOR` is unset (or `FORCE_COLOR` is set). */
export function palette(stream: CliStream, env: CliIo["env"]) {
  const on = env.FORCE_COLOR ? env.FORCE_COLOR !== "0" : stream.isTTY === true && !env.NO_COLOR;
  const wrap =
    (open: number, close = 39) =>
    (s: string) =>
      on ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    enabled: on,
    green: wrap(32),
    red: wrap(31),
    yellow: wrap(33),
    cyan: wrap(36),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/** The colour functions of {@link palette}. */
export type Palette = ReturnType<typeof palette>;

/** Visible width of a string (ANSI escapes excluded). */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes on purpose
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** Renders rows as an aligned table; `right` names the columns to right-align. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  // A loop, not Math.max(...rows): spreading thousands of rows (an alert history) into arguments overflows the stack.
  const widths = header.map(visibleLength);
  for (const row of rows)
    for (const [i, w] of widths.entries()) widths[i] = Math.max(w, visibleLength(row[i] ?? ""));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const pad = " ".repeat(Math.max(0, widths[i]! - visibleLength(cell)));
        return right.has(i) ? pad + cell : cell + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
