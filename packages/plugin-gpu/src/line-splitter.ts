/**
 * @internal Splits nvidia-smi's stdout (raw bytes) into lines. Each chunk's complete lines are decoded once, as
 * one UTF-8 string, and handed over as `[from, to)` ranges of it: no per-line string, no stream decoder. A
 * newline byte never occurs inside a multi-byte UTF-8 sequence, so splitting bytes first is safe. Bytes after the
 * last newline wait for the next chunk (a line torn across two writes).
 */
export class LineSplitter {
  #pending: Buffer | undefined;
  readonly #onLine: (text: string, from: number, to: number) => void;
  readonly #maxPending: number;

  /**
   * @param onLine called per line, without its newline (`text[from, to)`)
   * @param maxPending bytes without a newline after which they are dropped (not nvidia-smi output)
   */
  constructor(onLine: (text: string, from: number, to: number) => void, maxPending = 65_536) {
    this.#onLine = onLine;
    this.#maxPending = maxPending;
  }

  /** Feeds a chunk of stdout. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    const last = buf.lastIndexOf(10);
    if (last + 1 < buf.length) {
      // Copied: the rest of this chunk must not pin (or alias) the stream's buffer.
      const rest = Buffer.from(buf.subarray(last + 1));
      if (rest.length <= this.#maxPending) this.#pending = rest;
    }
    if (last < 0) return;
    const text = buf.toString("utf8", 0, last);
    const onLine = this.#onLine;
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      onLine(text, from, nl);
      from = nl + 1;
    }
    onLine(text, from, text.length);
  }

  /** Whether a torn line (anything but whitespace after the last newline) is waiting. */
  get torn(): boolean {
    const p = this.#pending;
    if (p === undefined) return false;
    for (let i = 0; i < p.length; i++) if (p[i]! > 32) return true;
    return false;
  }
}
