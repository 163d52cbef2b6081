import { redactFields, redactSecrets } from "./redact.ts";
import type { Logger } from "./vocabulary.ts";

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/** A level name accepted by {@link createConsoleLogger}. */
export type LogLevel = keyof typeof LEVELS;

/**
 * The default logger: one readable line per record on stderr, `warn` and above only (set `TAPLINE_LOG_LEVEL`
 * or pass `level` to change it). Fields named like secrets (`authorization`, `apiKey`, `token`, `password`...)
 * are printed as `[redacted]`. Pass a pino logger as `createTapline({ logger })` for JSON logs;
 * `@tapline/plugin-metrics` writes daily JSON-lines log files.
 */
export function createConsoleLogger(
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const envLevel = process.env.TAPLINE_LOG_LEVEL as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in LEVELS ? envLevel : "warn");
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  return makeLogger(LEVELS[level], write, {});
}

/** A logger that drops everything. */
export const silentLogger: Logger = createConsoleLogger({ level: "silent" });

function makeLogger(
  threshold: number,
  write: (line: string) => void,
  bindings: Record<string, unknown>,
): Logger {
  const emit = (name: keyof typeof LEVELS, value: number) => {
    if (value < threshold) return noop;
    return (obj: unknown, msg?: string) => {
      let fields: Record<string, unknown> = bindings;
      let message = msg;
      if (typeof obj === "string") message = obj;
      else if (obj instanceof Error) fields = { ...bindings, err: obj.message };
      else if (obj && typeof obj === "object") fields = { ...bindings, ...(obj as Record<string, unknown>) };
      // One redaction for every package: secret-named fields at any depth, secrets inside strings.
      const context = Object.entries(redactFields(fields))
        .map(([k, v]) => `${k}=${format(v)}`)
        .join(" ");
      const text = message === undefined ? "" : redactSecrets(message);
      write(`tapline ${name.toUpperCase()}${context ? ` [${context}]` : ""} ${text}\n`);
    };
  };
  return {
    trace: emit("trace", LEVELS.trace),
    debug: emit("debug", LEVELS.debug),
    info: emit("info", LEVELS.info),
    warn: emit("warn", LEVELS.warn),
    error: emit("error", LEVELS.error),
    fatal: emit("fatal", LEVELS.fatal),
    child: (more) => makeLogger(threshold, write, { ...bindings, ...more }),
  };
}

function noop(): void {}

function format(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
