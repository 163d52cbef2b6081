import { createReadStream } from "node:fs";
import { listJsonlFiles } from "./jsonl-files.ts";

/** A line that could not be read back, reported to `onWarning` and skipped. */
export interface JsonlWarning {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** `torn`: the file's last line has no newline (a crash mid-write); `corrupt`: not JSON. */
  readonly kind: "torn" | "corrupt";
  readonly message: string;
}

/** Options of {@link readJsonl}. */
export interface ReadJsonlOptions {
  /** Skip files of UTC days before this one (`YYYY-MM-DD`). */
  fromDay?: string;
  /** Skip files of UTC days after this one (`YYYY-MM-DD`). */
  toDay?: string;
  /** Called for each skipped line. Default: nothing. */
  onWarning?: (warning: JsonlWarning) => void;
}

/**
 * Streams the records of one stream folder (`<dir>/runs`...), oldest file first, one parsed object at a
 * time: memory stays flat whatever the number of records. A torn last line (no trailing newline, as left by
 * `kill -9` in the middle of a write) and lines that are not JSON are skipped with a warning, never fatal.
 */
export async function* readJsonl(
  folder: string,
  options: ReadJsonlOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const files = await listJsonlFiles(folder);
  for (const file of files) {
    if (options.fromDay && file.day < options.fromDay) continue;
    if (options.toDay && file.day > options.toDay) continue;
    let rest = "";
    let lineNo = 0;
    const stream = createReadStream(file.path, { encoding: "utf8", highWaterMark: 256 * 1024 });
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        lineNo++;
        const line = text.slice(start, nl);
        start = nl + 1;
        if (line.length === 0) continue;
        const record = parse(line);
        if (record) {
          yield record;
          continue;
        }
        // A writer killed in the middle of its write leaves a torn record that the next append (another
        // process writing the same folder) continues on the same line: keep the whole record that follows.
        const salvaged = salvage(line);
        if (salvaged) {
          options.onWarning?.({
            file: file.path,
            line: lineNo,
            kind: "torn",
            message: `${file.path}:${lineNo}: a torn record (${salvaged.at} bytes, a crash while writing) before a whole one; the torn part skipped`,
          });
          yield salvaged.record;
        } else
          options.onWarning?.({
            file: file.path,
            line: lineNo,
            kind: "corrupt",
            message: `${file.path}:${lineNo}: line is not a JSON object, skipped`,
          });
      }
      rest = text.slice(start);
    }
    if (rest.length > 0) {
      lineNo++;
      options.onWarning?.({
        file: file.path,
        line: lineNo,
        kind: "torn",
        message: `${file.path}:${lineNo}: torn last line (${rest.length} bytes without a newline, probably a crash while writing), skipped`,
      });
    }
  }
}

/** The whole record at the end of a line that starts with a torn one: the last `{"` from which it parses. */
function salvage(line: string): { record: Record<string, unknown>; at: number } | undefined {
  for (let at = line.indexOf('{"', 1); at !== -1; at = line.indexOf('{"', at + 1)) {
    const record = parse(line.slice(at));
    if (record) return { record, at };
  }
  return undefined;
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
