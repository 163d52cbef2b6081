import type { FileHandle } from "node:fs/promises";
import { openRegular } from "./internal/read.ts";

/** Order of the top-level boxes of an ISO-BMFF (mp4/mov) file. */
export interface BoxLayout {
  /** Top-level box types in file order (at most 64 read). */
  readonly boxes: readonly string[];
  /** True when `moov` comes before `mdat` (fast start: playback can begin before the download ends). */
  readonly moovFirst: boolean | undefined;
  /** Presentation duration in seconds from `moov/mvhd` when it is moov's first child (a hint, not a check). */
  readonly durationHint?: number;
}

/** Reads `mvhd` (version 0 or 1) at the start of a `moov` body: duration / timescale, or undefined. */
async function readMvhdDuration(fh: FileHandle, moovBody: number): Promise<number | undefined> {
  const b = Buffer.alloc(40);
  const { bytesRead } = await fh.read(b, 0, 40, moovBody);
  if (bytesRead < 32 || b.toString("latin1", 4, 8) !== "mvhd") return undefined;
  const version = b[8];
  const [timescale, duration] =
    version === 1
      ? bytesRead >= 40
        ? [b.readUInt32BE(28), Number(b.readBigUInt64BE(32))]
        : [0, 0]
      : [b.readUInt32BE(20), b.readUInt32BE(24)];
  return timescale > 0 && duration > 0 ? duration / timescale : undefined;
}

/**
 * Walks the top-level boxes with 16-byte reads (no parsing library needed): enough to tell whether the
 * `moov` atom precedes `mdat`, plus the `mvhd` duration hint (one 40-byte read) that lets the video
 * validator start its edge scans before ffprobe answers. Returns `moovFirst: undefined` when either box is
 * missing.
 */
export async function readBoxLayout(path: string): Promise<BoxLayout> {
  const fh = await openRegular(path);
  try {
    const { size: fileSize } = await fh.stat();
    const boxes: string[] = [];
    const header = Buffer.alloc(16);
    let offset = 0;
    let durationHint: number | undefined;
    while (offset + 8 <= fileSize && boxes.length < 64) {
      const { bytesRead } = await fh.read(header, 0, 16, offset);
      if (bytesRead < 8) break;
      let size = header.readUInt32BE(0);
      const type = header.toString("latin1", 4, 8);
      if (!/^[\x20-\x7e]{4}$/.test(type)) break;
      let headerSize = 8;
      if (size === 1) {
        if (bytesRead < 16) break;
        size = Number(header.readBigUInt64BE(8));
        headerSize = 16;
      } else if (size === 0) {
        size = fileSize - offset;
      }
      boxes.push(type);
      if (size < 8) break;
      if (type === "moov" && durationHint === undefined)
        durationHint = await readMvhdDuration(fh, offset + headerSize);
      offset += size;
    }
    const moov = boxes.indexOf("moov");
    const mdat = boxes.indexOf("mdat");
    return {
      boxes,
      moovFirst: moov === -1 || mdat === -1 ? undefined : moov < mdat,
      ...(durationHint !== undefined && { durationHint }),
    };
  } finally {
    await fh.close();
  }
}
