import { constants } from "node:fs";
import { access, realpath, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { BinaryNotFoundError } from "./errors.ts";

/** A resolved ffmpeg or ffprobe binary. */
export interface ResolvedBinary {
  /** Absolute path (symlinks resolved). */
  readonly path: string;
  /** `realpath:size:mtime`: changes when the binary is replaced or upgraded; part of every cache key. */
  readonly identity: string;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds `ffmpeg` or `ffprobe`: the explicit option first, then `FFMPEG_PATH` / `FFPROBE_PATH`, then `PATH`.
 * Throws a {@link BinaryNotFoundError} naming every place searched and how to install FFmpeg.
 *
 * @example
 * const probe = await findBinary("ffprobe"); // { path: "/usr/bin/ffprobe", identity: "..." }
 */
export async function findBinary(
  name: "ffmpeg" | "ffprobe",
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  const searched: string[] = [];
  const candidates: string[] = [];
  const envName = name === "ffprobe" ? "FFPROBE_PATH" : "FFMPEG_PATH";
  if (explicit) {
    candidates.push(explicit);
    searched.push(`option ${name}Path=${explicit}`);
  } else if (env[envName]) {
    candidates.push(env[envName]!);
    searched.push(`${envName}=${env[envName]}`);
  } else {
    const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
    for (const dir of dirs) candidates.push(join(dir, name));
    searched.push(`PATH (${dirs.length} directories)`);
  }
  for (const candidate of candidates) {
    const full = isAbsolute(candidate) ? candidate : resolve(candidate);
    if (await executable(full)) {
      const real = await realpath(full);
      const s = await stat(real);
      return { path: real, identity: `${real}:${s.size}:${Math.round(s.mtimeMs)}` };
    }
  }
  throw new BinaryNotFoundError({ binary: name, searched });
}
