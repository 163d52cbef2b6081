/** One subtitle cue. */
export interface Cue {
  readonly index: number;
  /** Seconds. */
  readonly start: number;
  /** Seconds. */
  readonly end: number;
  readonly text: string;
}

/** Limits of a cue, for phone-sized vertical video. */
export interface CueLimits {
  /** Most words in one cue. Default 7. */
  maxWords?: number;
  /** Most characters in one cue. Default 42 (the usual broadcast line). */
  maxChars?: number;
}

/**
 * Splits a script into cues (sentence by sentence, long sentences cut into chunks within the limits) and
 * times them by each cue's share of the words over the real audio duration: a speaker spends roughly equal
 * time per word, so cue i starts at `duration * wordsBefore(i) / totalWords`.
 */
export function alignCues(text: string, durationSeconds: number, limits: CueLimits = {}): Cue[] {
  const maxWords = limits.maxWords ?? 7;
  const maxChars = limits.maxChars ?? 42;
  if (!(durationSeconds > 0)) throw new RangeError(`audio duration must be > 0 s, got ${durationSeconds}`);
  const chunks: string[][] = [];
  for (const sentence of text.match(/[^.!?]+[.!?]*/g) ?? []) {
    const words = sentence.trim().split(/\s+/).filter(Boolean);
    let chunk: string[] = [];
    for (const word of words) {
      const length = [...chunk, word].join(" ").length;
      if (chunk.length > 0 && (chunk.length >= maxWords || length > maxChars)) {
        chunks.push(chunk);
        chunk = [];
      }
      chunk.push(word);
    }
    if (chunk.length > 0) chunks.push(chunk);
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  if (total === 0) return [];
  const cues: Cue[] = [];
  let before = 0;
  for (const [i, chunk] of chunks.entries()) {
    const start = (durationSeconds * before) / total;
    before += chunk.length;
    const end = (durationSeconds * before) / total;
    cues.push({ index: i + 1, start, end, text: chunk.join(" ") });
  }
  return cues;
}

/** `HH:MM:SS,mmm`, the SRT time format. */
export function srtTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
}

/** Serialises cues as SRT. */
export function toSrt(cues: readonly Cue[]): string {
  return cues.map((c) => `${c.index}\n${srtTime(c.start)} --> ${srtTime(c.end)}\n${c.text}\n`).join("\n");
}
