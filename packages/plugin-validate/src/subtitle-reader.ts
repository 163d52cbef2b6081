/**
 * A strict SRT and WebVTT reader. Unlike the npm parsers (research §5), it never drops a bad block silently:
 * every problem is reported with its 1-based line number, and good cues are still returned.
 */

/** One timed cue. Times in seconds. */
export interface Cue {
  /** Index line (SRT) or identifier (VTT), if any. */
  readonly id?: string;
  readonly start: number;
  readonly end: number;
  /** Payload lines joined with `\n` (tags kept). */
  readonly text: string;
  /** 1-based line of the timing line. */
  readonly line: number;
}

/** A problem in the file, with its 1-based line number. */
export interface SubtitleSyntaxError {
  readonly line: number;
  readonly message: string;
}

/** The outcome of {@link parseSubtitles}. */
export interface ParsedSubtitles {
  readonly format: "srt" | "vtt";
  readonly cues: readonly Cue[];
  readonly errors: readonly SubtitleSyntaxError[];
  /** Blocks seen (cues + bad blocks; VTT NOTE/STYLE/REGION excluded). */
  readonly blocks: number;
}

const SRT_TIME = /^(\d{2,}):(\d{2}):(\d{2}),(\d{3})$/;
const VTT_TIME = /^(?:(\d{2,}):)?(\d{2}):(\d{2})\.(\d{3})$/;

function parseTime(raw: string, format: "srt" | "vtt"): number | string {
  const m = (format === "srt" ? SRT_TIME : VTT_TIME).exec(raw);
  if (!m) {
    const hint =
      format === "srt" && /\d\.\d{3}$/.test(raw) ? " (SRT uses a comma before the milliseconds)" : "";
    return `invalid timestamp "${raw}"${hint}`;
  }
  const [h, mi, s, ms] = [Number(m[1] ?? 0), Number(m[2]), Number(m[3]), Number(m[4])];
  if (mi > 59) return `invalid timestamp "${raw}": minutes ${mi} > 59`;
  if (s > 59) return `invalid timestamp "${raw}": seconds ${s} > 59`;
  return h * 3600 + mi * 60 + s + ms / 1000;
}

interface Block {
  readonly line: number;
  readonly lines: readonly string[];
}

function blocksOf(firstLine: number, lines: readonly string[]): Block[] {
  const out: Block[] = [];
  let cur: string[] = [];
  let start = 0;
  for (let i = firstLine; i <= lines.length; i++) {
    const l = lines[i];
    if (l === undefined || l.trim() === "") {
      if (cur.length > 0) out.push({ line: start + 1, lines: cur });
      cur = [];
    } else {
      if (cur.length === 0) start = i;
      cur.push(l);
    }
  }
  return out;
}

/** Parses a timing line; returns the cue times or an error message. */
function timing(line: string, format: "srt" | "vtt"): { start: number; end: number } | string {
  const parts = line.trim().split(/\s+/);
  const arrow = parts.indexOf("-->");
  if (arrow === -1) {
    if (/-{1,}>|—>|->/.test(line)) return `bad arrow in timing line "${line.trim()}" (expected " --> ")`;
    return `expected a timing line "start --> end", got "${line.trim()}"`;
  }
  if (arrow !== 1) return `bad timing line "${line.trim()}"`;
  const startRaw = parts[0]!;
  const endRaw = parts[2];
  if (endRaw === undefined) return `missing end time in "${line.trim()}"`;
  if (format === "srt" && parts.length > 3 && !/^[XY]\d?:/i.test(parts[3]!)) {
    return `unexpected text after the end time in "${line.trim()}"`;
  }
  const start = parseTime(startRaw, format);
  if (typeof start === "string") return `cue start: ${start}`;
  const end = parseTime(endRaw, format);
  if (typeof end === "string") return `cue end: ${end}`;
  if (end <= start) return `cue ends (${endRaw}) before or when it starts (${startRaw})`;
  return { start, end };
}

/**
 * Reads SRT or WebVTT text strictly. `format` defaults to VTT when the text starts with `WEBVTT`
 * (after an optional BOM), else SRT; pass it to force one (a `.vtt` file without the header is then an error).
 *
 * @example
 * const { cues, errors } = parseSubtitles(await readFile("a.srt", "utf8"));
 * for (const e of errors) console.log(`line ${e.line}: ${e.message}`);
 */
export function parseSubtitles(text: string, format?: "srt" | "vtt"): ParsedSubtitles {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = body.split(/\r\n|\r|\n/);
  const fmt = format ?? (/^WEBVTT(?:[ \t]|$)/.test(lines[0] ?? "") ? "vtt" : "srt");
  const errors: SubtitleSyntaxError[] = [];
  const cues: Cue[] = [];
  let first = 0;
  if (fmt === "vtt") {
    if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? "")) {
      errors.push({ line: 1, message: `missing "WEBVTT" header (found "${(lines[0] ?? "").slice(0, 40)}")` });
      // Skip the would-be header line so it is not reported a second time as a bad cue.
      if (!(lines[0] ?? "").includes("-->")) first = 1;
    } else {
      // The header block runs to the first blank line.
      first = 1;
      while (first < lines.length && lines[first]!.trim() !== "") {
        if (lines[first]!.includes("-->")) {
          errors.push({ line: first + 1, message: "a blank line must follow the WEBVTT header block" });
          break;
        }
        first++;
      }
    }
  }
  let blocks = 0;
  let expectedIndex = 1;
  for (const block of blocksOf(first, lines)) {
    const head = block.lines[0]!;
    if (fmt === "vtt" && /^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(head)) continue;
    blocks++;
    let timingAt = 0;
    let id: string | undefined;
    if (fmt === "srt") {
      if (/^\d+$/.test(head.trim())) {
        id = head.trim();
        const n = Number(id);
        if (n !== expectedIndex)
          errors.push({ line: block.line, message: `cue number ${n}, expected ${expectedIndex}` });
        expectedIndex = n + 1;
        timingAt = 1;
      } else if (head.includes("-->")) {
        errors.push({ line: block.line, message: "missing cue number line" });
        expectedIndex++;
      } else {
        errors.push({ line: block.line, message: `expected a cue number, got "${head.slice(0, 40)}"` });
        expectedIndex++;
        continue;
      }
    } else if (!head.includes("-->")) {
      id = head;
      timingAt = 1;
    }
    const timingLine = block.lines[timingAt];
    const lineNo = block.line + timingAt;
    if (timingLine === undefined) {
      errors.push({ line: block.line, message: "block has no timing line" });
      continue;
    }
    const t = timing(timingLine, fmt);
    if (typeof t === "string") {
      errors.push({ line: lineNo, message: t });
      continue;
    }
    const payload = block.lines.slice(timingAt + 1);
    if (payload.some((l) => l.includes("-->"))) {
      errors.push({
        line: lineNo + 1 + payload.findIndex((l) => l.includes("-->")),
        message: "missing blank line between cues",
      });
    }
    if (payload.length === 0) errors.push({ line: lineNo, message: "cue has no text" });
    cues.push({
      ...(id !== undefined && { id }),
      start: t.start,
      end: t.end,
      text: payload.join("\n"),
      line: lineNo,
    });
  }
  return { format: fmt, cues, errors, blocks };
}
