import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AppStatus } from "@tapline/core";
import { MetricsReadError } from "./errors.ts";

let sequence = 0;

/** Name of the status file under the app's dir. */
export const STATUS_FILE = "status.json";

/**
 * Writes `app.status()` to `<dir>/status.json` atomically: a temporary file in the same folder, then
 * `rename()`, so a reader (or a crash) never sees half a file. Throws on I/O errors.
 */
export async function writeStatus(dir: string, status: AppStatus): Promise<void> {
  await mkdir(dir, { recursive: true });
  // A name no other writer (another process, or a concurrent call in this one) can be using.
  const tmp = join(dir, `.${STATUS_FILE}.${process.pid}.${++sequence}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(status, replacer, 2) + "\n");
    await rename(tmp, join(dir, STATUS_FILE));
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw error;
  }
}

/**
 * The last status persisted by a (possibly stopped) app: `{ level, message, parts, time }`, or `undefined`
 * when the app never wrote one. Throws a `MetricsReadError` when the file exists but cannot be read or parsed.
 *
 * @example
 * const status = await readStatus(".tapline");
 * if (status?.level !== "healthy") console.error(status?.message);
 */
export async function readStatus(dir: string): Promise<AppStatus | undefined> {
  const path = join(dir, STATUS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new MetricsReadError({
      path,
      reason: `cannot read the status file: ${(error as Error).message}`,
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MetricsReadError({
      path,
      reason: "the status file is not valid JSON (was it written by another tool?)",
      cause: error,
    });
  }
  const v = value as Partial<AppStatus> | null;
  if (
    !v ||
    typeof v !== "object" ||
    typeof v.level !== "string" ||
    !Array.isArray(v.parts) ||
    typeof v.time !== "number"
  ) {
    throw new MetricsReadError({
      path,
      reason: "the status file lacks level, parts or time (not written by @tapline/plugin-metrics)",
    });
  }
  return v as AppStatus;
}

/** Errors in `details` become their message; bigints become strings. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "bigint") return value.toString();
  return value;
}
