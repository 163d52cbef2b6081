import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** File names are `YYYY-MM-DD.N.jsonl` (UTC day, then a sequence number per size rotation). */
const FILE = /^(\d{4}-\d{2}-\d{2})\.(\d+)\.jsonl$/;

/** @internal One JSONL file of a stream. */
export interface JsonlFile {
  readonly path: string;
  readonly name: string;
  readonly day: string;
  readonly index: number;
}

/** @internal The UTC day of an epoch-ms time, `YYYY-MM-DD`. */
export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** @internal The files of one stream folder, oldest first; [] when the folder does not exist. */
export async function listJsonlFiles(folder: string): Promise<JsonlFile[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const files: JsonlFile[] = [];
  for (const name of names) {
    const m = FILE.exec(name);
    if (m) files.push({ path: join(folder, name), name, day: m[1]!, index: Number(m[2]) });
  }
  return files.sort((a, b) => (a.day === b.day ? a.index - b.index : a.day < b.day ? -1 : 1));
}

/** @internal The file name for a day and index. */
export function fileName(day: string, index: number): string {
  return `${day}.${index}.jsonl`;
}
