import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { describeFileType, readHead } from "./internal/read.ts";
import type { FileKind, FindingList } from "./types.ts";

/** Container or text type recognised from a file's first bytes. */
export type Sniffed =
  | "mp3"
  | "wav"
  | "flac"
  | "ogg"
  | "aac"
  | "mp4"
  | "matroska"
  | "webvtt"
  | "srt"
  | "text"
  | "binary"
  | "empty";

const AUDIO_EXT: Record<string, readonly Sniffed[]> = {
  ".mp3": ["mp3"],
  ".wav": ["wav"],
  ".flac": ["flac"],
  ".ogg": ["ogg"],
  ".opus": ["ogg"],
  ".oga": ["ogg"],
  ".aac": ["aac"],
  ".m4a": ["mp4"],
};
const VIDEO_EXT: Record<string, readonly Sniffed[]> = {
  ".mp4": ["mp4"],
  ".m4v": ["mp4"],
  ".mov": ["mp4"],
  ".webm": ["matroska"],
  ".mkv": ["matroska"],
};
const SUB_EXT: Record<string, readonly Sniffed[]> = { ".srt": ["srt", "text"], ".vtt": ["webvtt", "text"] };
const TEXT_EXT: Record<string, readonly Sniffed[]> = { ".txt": ["text", "srt"], ".md": ["text", "srt"] };

/** The kind a file extension implies, if any. */
export function kindFromExtension(path: string): FileKind | undefined {
  const ext = extname(path).toLowerCase();
  if (ext in AUDIO_EXT) return "audio";
  if (ext in VIDEO_EXT) return "video";
  if (ext in SUB_EXT) return "subtitles";
  if (ext in TEXT_EXT) return "text";
  return undefined;
}

/** The kind a sniffed type implies (mp4 and matroska are taken as video). */
export function kindFromSniff(type: Sniffed): FileKind | undefined {
  switch (type) {
    case "mp3":
    case "wav":
    case "flac":
    case "ogg":
    case "aac":
      return "audio";
    case "mp4":
    case "matroska":
      return "video";
    case "webvtt":
    case "srt":
      return "subtitles";
    case "text":
      return "text";
    default:
      return undefined;
  }
}

const ascii = (b: Uint8Array, from: number, to: number): string => {
  let s = "";
  for (let i = from; i < Math.min(to, b.length); i++) s += String.fromCharCode(b[i]!);
  return s;
};

/** Recognises a type from the first bytes of a file (64 are enough). */
export function sniff(head: Uint8Array): Sniffed {
  if (head.length === 0) return "empty";
  let b = head;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3); // UTF-8 BOM
  if (ascii(b, 0, 3) === "ID3") return "mp3";
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WAVE") return "wav";
  if (ascii(b, 0, 4) === "fLaC") return "flac";
  if (ascii(b, 0, 4) === "OggS") return "ogg";
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return "matroska";
  if (["ftyp", "moov", "mdat", "free", "wide", "skip"].includes(ascii(b, 4, 8))) return "mp4";
  if (b[0] === 0xff && b[1] !== undefined && (b[1] & 0xf6) === 0xf0) return "aac"; // ADTS
  if (b[0] === 0xff && b[1] !== undefined && (b[1] & 0xe0) === 0xe0) return "mp3"; // MPEG audio frame sync
  if (b.includes(0)) return "binary";
  const text = ascii(b, 0, Math.min(b.length, 64));
  if (/^WEBVTT(?:[ \t\r\n]|$)/.test(text)) return "webvtt";
  if (/^\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->/.test(text)) return "srt";
  return "text";
}

/** What the basic checks learned. */
export interface FileFacts {
  readonly ok: boolean;
  readonly size: number;
  readonly sniffed: Sniffed | undefined;
  readonly stat?: { size: number; mtimeMs: number; ino: number; dev: number };
}

/**
 * Every file: exists, regular file, non-empty, readable, magic bytes agree with the extension. Adds findings
 * and returns `ok: false` when later checks would be pointless.
 */
export async function checkFileBasics(
  path: string,
  expectKind: FileKind,
  list: FindingList,
): Promise<FileFacts> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    list.error(
      "file.exists",
      code === "ENOENT" ? "file does not exist" : `cannot stat file (${code ?? "error"})`,
    );
    return { ok: false, size: 0, sniffed: undefined };
  }
  const facts = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, dev: s.dev };
  if (!s.isFile()) {
    // Never opened: opening a FIFO blocks until a writer comes, a device may never end.
    list.error("file.regular", `${describeFileType(s)}, not a regular file: only regular files are checked`, {
      value: describeFileType(s),
    });
    return { ok: false, size: 0, sniffed: undefined, stat: facts };
  }
  if (s.size === 0) {
    list.error("file.empty", "file is empty (0 bytes)", { value: 0 });
    return { ok: false, size: 0, sniffed: "empty", stat: facts };
  }
  let head: Uint8Array;
  try {
    head = await readHead(path, 64);
  } catch (error) {
    list.error("file.readable", `cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    return { ok: false, size: s.size, sniffed: undefined, stat: facts };
  }
  const sniffed = sniff(head);
  const ext = extname(path).toLowerCase();
  const table = { audio: AUDIO_EXT, video: VIDEO_EXT, subtitles: SUB_EXT, text: TEXT_EXT }[expectKind];
  const allowed = table[ext];
  let ok = true;
  if (allowed && !allowed.includes(sniffed)) {
    list.error("file.magic", `content looks like ${sniffed}, not the ${ext} the extension promises`, {
      value: sniffed,
      limit: allowed,
    });
    ok = false;
  } else if (
    !allowed &&
    kindFromSniff(sniffed) !== expectKind &&
    !(expectKind === "video" && sniffed === "mp4")
  ) {
    const media = expectKind === "audio" || expectKind === "video";
    if (media && (sniffed === "text" || sniffed === "binary" || kindFromSniff(sniffed) === undefined)) {
      list.error("file.magic", `content looks like ${sniffed}, not ${expectKind}`, { value: sniffed });
      ok = false;
    } else if (!media && sniffed === "binary") {
      // NUL bytes in the first 64: not a script or subtitles (and not worth reading further).
      list.error("file.magic", `content looks like binary data, not ${expectKind}`, { value: sniffed });
      ok = false;
    }
  }
  return { ok, size: s.size, sniffed, stat: facts };
}
