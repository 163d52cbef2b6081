import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** @internal A line that could not be parsed (not JSON), skipped. A torn last line is not one: it waits. */
export interface TailWarning {
  readonly file: string;
  readonly message: string;
}

interface FileState {
  offset: number;
  /** Bytes after the last newline: a line still being written (or torn by a crash), completed later. */
  rest: string;
  ino: number;
}

/** Read at most this much per file per poll, so one huge file never blocks the event loop for long. */
const CHUNK = 1024 * 1024;

/**
 * @internal Follows the JSON-lines files of one folder: each poll reads only the bytes appended since the last
 * one, from a remembered offset per file. A last line without its newline is kept and completed by the next
 * poll; a file that shrank or was replaced (same name, new inode) is read again from the start; a deleted
 * file is forgotten. Files are visited in name order (`YYYY-MM-DD.N.jsonl` sorts oldest first).
 */
export class FolderTail {
  readonly folder: string;
  readonly #match: { test(name: string): boolean };
  readonly #files = new Map<string, FileState>();

  constructor(folder: string, match: { test(name: string): boolean }) {
    this.folder = folder;
    this.#match = match;
  }

  /** Reads what was appended; calls `onRecord` per complete line, in file order. Resolves to the lines read. */
  async poll(
    onRecord: (record: Record<string, unknown>, file: string) => void,
    onWarning?: (w: TailWarning) => void,
  ): Promise<number> {
    let names: string[];
    try {
      names = (await readdir(this.folder)).filter((n) => this.#match.test(n)).sort(compareNames);
    } catch {
      return 0; // not there yet: the app has not written this stream
    }
    for (const known of this.#files.keys()) if (!names.includes(known)) this.#files.delete(known);
    let lines = 0;
    for (const name of names) lines += await this.#read(name, onRecord, onWarning);
    return lines;
  }

  async #read(
    name: string,
    onRecord: (record: Record<string, unknown>, file: string) => void,
    onWarning?: (w: TailWarning) => void,
  ): Promise<number> {
    const path = join(this.folder, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return 0;
    let state = this.#files.get(name);
    if (!state || state.ino !== info.ino || info.size < state.offset) {
      state = { offset: 0, rest: "", ino: info.ino };
      this.#files.set(name, state);
    }
    if (info.size === state.offset) return 0;
    const handle = await open(path, "r").catch(() => undefined);
    if (!handle) return 0;
    let lines = 0;
    try {
      while (state.offset < info.size) {
        const want = Math.min(CHUNK, info.size - state.offset);
        const buffer = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(buffer, 0, want, state.offset);
        if (bytesRead === 0) break;
        // Split on the last newline in bytes, so a multi-byte character is never cut in two.
        const nl = buffer.lastIndexOf(10, bytesRead - 1);
        if (nl === -1) {
          state.rest += buffer.toString("utf8", 0, bytesRead);
          state.offset += bytesRead;
          continue;
        }
        const text = state.rest + buffer.toString("utf8", 0, nl);
        state.rest = buffer.toString("utf8", nl + 1, bytesRead);
        state.offset += bytesRead;
        let start = 0;
        while (start <= text.length) {
          let end = text.indexOf("\n", start);
          if (end === -1) end = text.length;
          const line = text.slice(start, end);
          start = end + 1;
          if (line.length === 0) continue;
          lines++;
          const record = parse(line);
          if (record) onRecord(record, path);
          else onWarning?.({ file: path, message: `${path}: a line is not a JSON object, skipped` });
        }
      }
    } finally {
      await handle.close();
    }
    return lines;
  }
}

/** Day, then rotation index numerically (`2026-01-01.10` after `2026-01-01.9`). */
function compareNames(a: string, b: string): number {
  const na = a.replace(/\d+/g, (d) => d.padStart(8, "0"));
  const nb = b.replace(/\d+/g, (d) => d.padStart(8, "0"));
  return na < nb ? -1 : na > nb ? 1 : 0;
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
