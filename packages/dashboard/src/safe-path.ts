import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";

/**
 * @internal The real path of a file that lies under one of the roots, or `undefined`. Symlinks are resolved
 * on both sides first, so a link inside a root that points outside it is refused like `../`.
 */
export async function resolveServedFile(
  roots: readonly string[],
  requested: string,
): Promise<string | undefined> {
  if (requested.includes("\0")) return undefined;
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => undefined);
    if (!realRoot) continue;
    const candidate = isAbsolute(requested) ? resolve(requested) : resolve(realRoot, requested);
    const real = await realpath(candidate).catch(() => undefined);
    if (!real || !within(realRoot, real)) continue;
    const info = await stat(real).catch(() => undefined);
    if (info?.isFile()) return real;
  }
  return undefined;
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

const TYPES: Record<string, string> = {
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".mkv": "video/x-matroska",
  ".mov": "video/quicktime",
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".m4a": "audio/mp4",
  ".ogg": "audio/ogg",
  ".opus": "audio/ogg",
  ".flac": "audio/flac",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".vtt": "text/vtt; charset=utf-8",
  ".srt": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".jsonl": "text/plain; charset=utf-8",
};

/** @internal The content type served for a file; anything unknown is an attachment of bytes. */
export function contentTypeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return (dot > 0 && TYPES[path.slice(dot).toLowerCase()]) || "application/octet-stream";
}
