/** The built-in text checks: each judges the decoded script against `TextExpect`, in linear loops. */
import { type Check, defineCheck, type TextCheckInput } from "./define-check.ts";
import { codePoints } from "./internal/read.ts";
import { DEFAULT_FORBIDDEN } from "./text.ts";
import { round } from "./types.ts";

const textCheck = (name: string, run: (input: TextCheckInput) => void) =>
  defineCheck({ kind: "text", name, run })();

/** Line numbers (1-based) matching `test`: how many, and the first ten for the message. */
function lineHits(
  lines: readonly string[],
  test: (line: string) => boolean,
): { count: number; first: number[] } {
  const first: number[] = [];
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!test(lines[i]!)) continue;
    count++;
    if (first.length < 10) first.push(i + 1);
  }
  return { count, first };
}

const range = (
  name: string,
  what: string,
  pick: (i: TextCheckInput) => { value: number; min?: number | undefined; max?: number | undefined },
) =>
  textCheck(name, (input) => {
    const { value: v, min, max } = pick(input);
    if (min !== undefined && v < min)
      input.report.error(`${v} ${what}, under ${min}`, { value: v, limit: min });
    if (max !== undefined && v > max)
      input.report.error(`${v} ${what}, over ${max}`, { value: v, limit: max });
  });

/** In the order their findings appear. */
export const TEXT_CHECKS: readonly Check<"text">[] = [
  textCheck("replacement_char", ({ text, report }) => {
    if (text.includes("\uFFFD"))
      report.warn("text contains U+FFFD replacement characters (a bad decode upstream)");
  }),
  range("chars", "characters", ({ chars, expect }) => ({
    value: chars,
    min: expect.minChars,
    max: expect.maxChars,
  })),
  range("words", "words", ({ words, expect }) => ({
    value: words,
    min: expect.minWords,
    max: expect.maxWords,
  })),
  range("lines", "lines", ({ lines, expect }) => ({ value: lines.length, max: expect.maxLines })),
  textCheck("line_length", ({ lines, metrics, expect, report }) => {
    const maxLen = expect.maxLineLength;
    if (maxLen !== undefined) {
      const bad = lineHits(lines, (l) => l.length > maxLen && codePoints(l) > maxLen);
      if (bad.count > 0)
        report.error(
          `${bad.count} line(s) longer than ${maxLen} characters (lines ${bad.first.join(", ")})`,
          { value: metrics.longestLine, limit: maxLen },
        );
    }
    const minLen = expect.minLineLength;
    if (minLen !== undefined) {
      const bad = lineHits(lines, (l) => {
        const t = l.trim();
        return t !== "" && codePoints(t) < minLen;
      });
      if (bad.count > 0)
        report.error(
          `${bad.count} line(s) shorter than ${minLen} characters (lines ${bad.first.join(", ")})`,
          { limit: minLen },
        );
    }
  }),
  textCheck("forbidden", ({ lines, expect, report }) => {
    for (const f of expect.forbidden ?? DEFAULT_FORBIDDEN) {
      const re = new RegExp(f.pattern.source, f.pattern.flags.replace("g", "").replace("y", ""));
      const hits = lineHits(lines, (l) => re.test(l));
      if (hits.count > 0) report.error(`${f.name} on line(s) ${hits.first.join(", ")}`, { value: f.name });
    }
  }),
  textCheck("word_budget", ({ words: count, expect, report }) => {
    if (expect.targetDuration === undefined) return;
    const wpm = expect.wordsPerMinute ?? 160;
    const budget = Math.floor((expect.targetDuration * wpm) / 60);
    if (count > budget)
      report.error(
        `${count} words take ~${round((count / wpm) * 60, 1)} s at ${wpm} wpm: over the ${expect.targetDuration} s target (budget ${budget} words)`,
        { value: count, limit: budget },
      );
  }),
];
