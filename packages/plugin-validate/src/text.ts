import { stat } from "node:fs/promises";
import type { Engine } from "./engine.ts";
import { codePoints, decodeUtf8, readCapped } from "./internal/read.ts";
import { checkFileBasics } from "./sniff.ts";
import {
  type CallOptions,
  FindingList,
  result,
  round,
  runChecks,
  type SeverityOverrides,
  type ValidationResult,
} from "./types.ts";
import { countWords } from "./wer.ts";

/** A forbidden pattern with the reason shown in findings. */
export interface ForbiddenPattern {
  readonly name: string;
  readonly pattern: RegExp;
}

/** Markdown and stage directions: what an LLM leaks into a script meant to be read aloud. */
export const DEFAULT_FORBIDDEN: readonly ForbiddenPattern[] = [
  { name: "markdown heading", pattern: /^\s{0,3}#{1,6}\s/m },
  { name: "markdown emphasis", pattern: /(\*\*|__)[^*_\n]+\1|(^|\s)\*[^*\s][^*\n]*\*(?=\s|$|[.,!?])/m },
  { name: "markdown list item", pattern: /^\s*(?:[-*+]|\d+\.)\s+\S/m },
  { name: "markdown link", pattern: /\[[^\]\n]+\]\([^)\n]+\)/ },
  { name: "code", pattern: /```|`[^`\n]+`/ },
  {
    name: "stage direction",
    pattern:
      /[[(](?:[^\])\n]*\b(?:music|pause|laughs?|laughing|sighs?|applause|sfx|sound|beat|silence|narrator|voice ?over|vo|intro|outro|cut to|fade)\b[^\])\n]*)[\])]/i,
  },
  { name: "speaker label", pattern: /^\s*(?:narrator|host|speaker(?: \d+)?|voice ?over|vo)\s*:/im },
];

/** What a script should look like. */
export interface TextExpect {
  readonly minChars?: number;
  readonly maxChars?: number;
  readonly minWords?: number;
  readonly maxWords?: number;
  readonly maxLines?: number;
  /** Longest line in characters. */
  readonly maxLineLength?: number;
  /** Shortest non-empty line in characters. */
  readonly minLineLength?: number;
  /** Patterns that must not appear (default {@link DEFAULT_FORBIDDEN}; `[]` allows everything). */
  readonly forbidden?: readonly ForbiddenPattern[];
  /** Seconds the narration may last: with `wordsPerMinute` gives a word budget. */
  readonly targetDuration?: number;
  /** Speaking rate used for the budget (default 160). */
  readonly wordsPerMinute?: number;
  readonly severity?: SeverityOverrides;
}

/** What {@link validateText} measured. */
export interface TextMetrics {
  chars?: number;
  words?: number;
  lines?: number;
  longestLine?: number;
  /** Seconds to read aloud at `wordsPerMinute`. */
  estimatedSeconds?: number;
}

/** Input of {@link validateText}: a path, or `{ text }` / `{ path }` to remove any doubt. */
export type TextSource = string | { readonly text: string } | { readonly path: string };

/** A string is taken as a path when it is short, single-line and names an existing file. */
export async function looksLikePath(s: string): Promise<boolean> {
  if (s.length > 4096 || /[\n\r]/.test(s)) return false;
  try {
    return (await stat(s)).isFile();
  } catch {
    return false;
  }
}

/**
 * `validateText` over an engine: the text pass, then the validator's text checks and the call's. A file is
 * read up to the engine's `maxTextBytes` (never whole, never blocking).
 */
export async function validateTextWith(
  engine: Engine,
  source: TextSource,
  expect: TextExpect = {},
  options: CallOptions = {},
): Promise<ValidationResult<TextMetrics>> {
  const maxBytes = engine.maxTextBytes;
  let path: string | undefined;
  let text: string | undefined;
  if (typeof source === "string") {
    if (await looksLikePath(source)) path = source;
    else text = source;
  } else if ("path" in source) path = source.path;
  else text = source.text;
  const list = new FindingList(path, expect.severity);
  const metrics: TextMetrics = {};
  if (path !== undefined) {
    const basics = await checkFileBasics(path, "text", list);
    if (!basics.ok && basics.sniffed !== "empty") return result("text", path, list, metrics);
    if (basics.sniffed === "empty") {
      metrics.chars = 0;
      metrics.words = 0;
      return result("text", path, list, metrics);
    }
    let read: Awaited<ReturnType<typeof readCapped>>;
    try {
      read = await readCapped(path, maxBytes);
    } catch (error) {
      list.error("file.readable", `cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
      return result("text", path, list, metrics);
    }
    if (read.truncated) {
      list.error(
        "file.too_large",
        `file is ${read.size} bytes, over the ${maxBytes}-byte cap for text: only the first ${maxBytes} bytes were checked (raise maxTextBytes to read more)`,
        { value: read.size, limit: maxBytes },
      );
    }
    text = decodeUtf8(read.bytes, read.truncated);
    if (text === undefined) {
      const at = firstInvalidUtf8(read.bytes);
      list.error("text.utf8", `not valid UTF-8 (first bad byte at offset ${at})`, { value: at });
      return result("text", path, list, metrics);
    }
  }
  const facts = textPass(text ?? "", expect, list, metrics);
  if (facts) {
    const input = {
      ...facts,
      ...(path !== undefined && { file: path }),
      expect,
      metrics,
      ...(options.signal && { signal: options.signal }),
    };
    await runChecks(engine.checksFor(options.checks), "text", list, input, expect.severity);
  }
  return result("text", path, list, metrics);
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    try {
      decoder.decode(bytes.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

/**
 * The text pass on decoded text: metrics, and `text.empty` (then nothing is left to check). Linear in the
 * text and never spreads it into an array or into arguments, so a text of any number of lines gives
 * findings, not a stack overflow.
 */
function textPass(raw: string, expect: TextExpect, list: FindingList, metrics: TextMetrics) {
  const text = raw.startsWith("\uFEFF") ? raw.slice(1) : raw;
  const lines = text.split(/\r\n|\r|\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
  const chars = codePoints(text.trim());
  const count = countWords(text);
  let longest = 0;
  for (const l of lines) longest = Math.max(longest, codePoints(l));
  const wpm = expect.wordsPerMinute ?? 160;
  Object.assign(metrics, {
    chars,
    words: count,
    lines: lines.length,
    longestLine: longest,
    estimatedSeconds: round((count / wpm) * 60, 1),
  });
  if (chars === 0) {
    list.error("text.empty", "text is empty");
    return undefined;
  }
  return { text, lines, chars, words: count };
}
