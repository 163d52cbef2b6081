import { join } from "node:path";
import { type Logger, redactSecrets } from "@tapline/core";
import { redactFields } from "@tapline/core/kit";
import pino from "pino";
import pinoRoll from "pino-roll";

/** Options of {@link createFileLogger}. */
export interface FileLoggerOptions {
  /** The app's data directory; log files go to `<dir>/logs/tapline.YYYY-MM-DD.N.log`. */
  dir: string;
  /** Default `info`. */
  level?: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  /** Readable lines on stderr too, from this level. Default `warn`; `false` for none. */
  console?: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | false;
  /** Log files kept (besides the current one). Default 14. */
  keepFiles?: number;
  /** Size rotation, e.g. `"100m"`. Default `"100m"`. */
  size?: string;
}

/** A pino logger writing daily JSON-lines files, plus `flush()`/`close()` to call before exiting. */
export interface FileLogger extends Logger {
  /** Writes what is buffered. */
  flush(): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/**
 * A pino logger writing JSON lines to daily files under `<dir>/logs` (pino-roll, in-process: no worker
 * thread) and readable lines to stderr from `console` level. Pass it as `createTapline({ logger })`.
 * Secrets: redacted with core's one redaction function, as core's console logger does: secret-named fields
 * (`Authorization`, `headers.authorization`, `api_key`, `apiKey`, `token`, `password`...) case-insensitively
 * at any depth, in child bindings too, and secrets inside messages and string fields (`Bearer ...`,
 * `https://user:pass@...`, `?token=...`, `sk-...`).
 *
 * @example
 * const logger = await createFileLogger({ dir: ".tapline" });
 * const app = createTapline({ dir: ".tapline", logger, plugins: [metrics()] });
 * // ... after app.close(): await logger.close();
 */
export async function createFileLogger(options: FileLoggerOptions): Promise<FileLogger> {
  const file = await pinoRoll({
    file: join(options.dir, "logs", "tapline"),
    extension: ".log",
    frequency: "daily",
    dateFormat: "yyyy-MM-dd",
    size: options.size ?? "100m",
    mkdir: true,
    limit: { count: options.keepFiles ?? 14 },
  });
  const level = options.level ?? "info";
  const consoleLevel = options.console ?? "warn";
  const streams: pino.StreamEntry[] = [{ level, stream: file }];
  if (consoleLevel !== false) streams.push({ level: consoleLevel, stream: readableStderr() });
  const minLevel =
    consoleLevel !== false && pino.levels.values[consoleLevel]! < pino.levels.values[level]!
      ? consoleLevel
      : level;
  const logger = pino(
    {
      level: minLevel,
      // pino's own `redact` paths are case-sensitive and fixed-depth; core's redaction is neither.
      formatters: {
        log: (object) => redactFields(object),
      },
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            const arg: unknown = args[i];
            if (typeof arg === "string") (args as unknown[])[i] = redactSecrets(arg);
          }
          return method.apply(this, args);
        },
      },
    },
    pino.multistream(streams),
  );
  // pino resets the bindings formatter for children: redact child bindings here. Children are created with
  // Object.create(parent), so grandchildren inherit this `child` too.
  const pinoChild = logger.child;
  logger.child = function child(this: pino.Logger, bindings, childOptions) {
    return pinoChild.call(this, redactFields(bindings), childOptions);
  } as typeof pinoChild;
  return Object.assign(logger as unknown as Logger, {
    flush: () => file.flushSync(),
    close: () =>
      new Promise<void>((resolve) => {
        try {
          file.flushSync();
        } catch {}
        file.once("close", () => resolve());
        file.end();
      }),
  });
}

const NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const SKIP = new Set(["level", "time", "pid", "hostname", "msg"]);

/** One readable line per record: `12:01:02.345 WARN [plugin=x runId=y] message`. */
function readableStderr(): { write(line: string): void } {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        process.stderr.write(line);
        return;
      }
      const fields = Object.entries(record)
        .filter(([k]) => !SKIP.has(k))
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      const time = new Date(Number(record.time)).toISOString().slice(11, 23);
      process.stderr.write(
        `${time} ${NAMES[Number(record.level)] ?? "LOG"}${fields ? ` [${fields}]` : ""} ${String(record.msg ?? "")}\n`,
      );
    },
  };
}
