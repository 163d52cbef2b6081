import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/** Largest text or subtitle file read by default: 4 MiB (a 2-hour film's SRT is ~100 KB). */
export const DEFAULT_MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** What a path is when it is not a regular file, in words for a finding. */
export function describeFileType(
  s: Pick<
    Stats,
    "isDirectory" | "isFIFO" | "isSocket" | "isCharacterDevice" | "isBlockDevice" | "isSymbolicLink"
  >,
): string {
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a FIFO (named pipe)";
  if (s.isSocket()) return "a socket";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * Opens a file for reading without ever blocking: `O_NONBLOCK` makes opening a FIFO return at once (a
 * plain open waits for a writer and holds a libuv thread forever), and the handle is checked to be a
 * regular file, so a path swapped for a FIFO or device after the caller's `stat()` is refused too.
 */
export async function openRegular(path: string): Promise<FileHandle> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const s = await fh.stat();
    if (!s.isFile()) {
      throw Object.assign(new Error(`${path} is ${describeFileType(s)}, not a regular file`), {
        code: "ENOTREG",
      });
    }
    return fh;
  } catch (error) {
    await fh.close();
    throw error;
  }
}

/** Reads at most `length` bytes from the start of a regular file. */
export async function readHead(path: string, length: number): Promise<Uint8Array> {
  const fh = await openRegular(path);
  try {
    const buf = new Uint8Array(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The first `max` bytes of a regular file (in 1 MiB reads), its size, and whether there was more. */
export async function readCapped(
  path: string,
  max: number,
): Promise<{ bytes: Uint8Array; size: number; truncated: boolean }> {
  const fh = await openRegular(path);
  try {
    const { size } = await fh.stat();
    const want = Math.min(size, max);
    const bytes = new Uint8Array(want);
    let at = 0;
    while (at < want) {
      const { bytesRead } = await fh.read(bytes, at, Math.min(1 << 20, want - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return { bytes: bytes.subarray(0, at), size, truncated: size > max };
  } finally {
    await fh.close();
  }
}

/**
 * Decodes UTF-8 strictly; with `truncated`, a multi-byte character cut by the cap at the very end is
 * dropped instead of reported. Returns `undefined` for invalid UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array, truncated: boolean): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: truncated });
  } catch {
    return undefined;
  }
}

/** Code points in a string (what a reader counts as characters), without building an array. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
