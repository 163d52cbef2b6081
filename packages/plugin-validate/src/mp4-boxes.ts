import { open } from "node:fs/promises";

/** Order of the top-level boxes of an ISO-BMFF (mp4/mov) file. */
export interface BoxLayout {
  /** Top-level box types in file order (at most 64 read). */
  readonly boxes: readonly string[];
  /** True when `moov` comes before `mdat` (fast start: playback can begin before the download ends). */
  readonly moovFirst: boolean | undefined;
}

/**
 * Walks the top-level boxes with 16-byte reads (no parsing library needed): enough to tell whether the
 * `moov` atom precedes `mdat`. Returns `moovFirst: undefined` when either box is missing.
 */
export async function readBoxLayout(path: string): Promise<BoxLayout> {
  const fh = await open(path, "r");
  try {
    const { size: fileSize } = await fh.stat();
    const boxes: string[] = [];
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= fileSize && boxes.length < 64) {
      const { bytesRead } = await fh.read(header, 0, 16, offset);
      if (bytesRead < 8) break;
      let size = header.readUInt32BE(0);
      const type = header.toString("latin1", 4, 8);
      if (!/^[\x20-\x7e]{4}$/.test(type)) break;
      if (size === 1) {
        if (bytesRead < 16) break;
        size = Number(header.readBigUInt64BE(8));
      } else if (size === 0) {
        size = fileSize - offset;
      }
      boxes.push(type);
      if (size < 8) break;
      offset += size;
    }
    const moov = boxes.indexOf("moov");
    const mdat = boxes.indexOf("mdat");
    return { boxes, moovFirst: moov === -1 || mdat === -1 ? undefined : moov < mdat };
  } finally {
    await fh.close();
  }
}
