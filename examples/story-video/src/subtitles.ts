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
  const fits = (words: readonly string[]) => words.length <= maxWords && words.join(" ").length <= maxChars;
  const chunks: string[][] = [];
  for (const sentence of text.match(/[^.!?]+[.!?]*/g) ?? []) {
    const words = sentence.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    // Greedy cut, then spread the words evenly over as many cues, so a sentence never ends on a one-word
    // cue that flashes by (validators flag cues under ~0.8 s and reading speeds over 20 characters/s).
    let greedy: string[][] = [[]];
    for (const word of words) {
      const last = greedy.at(-1)!;
      if (last.length > 0 && !fits([...last, word])) greedy.push([word]);
      else last.push(word);
    }
    const even = spread(words, greedy.length);
    if (even.every(fits)) greedy = even;
    // A short sentence joins the previous cue when both fit in one.
    const previous = chunks.at(-1);
    if (greedy.length === 1 && previous && greedy[0]!.length < 3 && fits([...previous, ...greedy[0]!]))
      previous.push(...greedy[0]!);
    else chunks.push(...greedy);
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

/** Splits `words` into `n` runs whose lengths differ by at most one. */
function spread(words: readonly string[], n: number): string[][] {
  const out: string[][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor((words.length - at) / (n - i));
    out.push(words.slice(at, at + size));
    at += size;
  }
  return out;
}
