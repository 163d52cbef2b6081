/**
 * Splits text into comparable words: lower case, accents folded, punctuation dropped
 * (apostrophes inside words kept: "don't" stays one word).
 */
export function words(text: string): string[] {
  return fold(text).split(/\s+/).filter(Boolean);
}

const fold = (text: string): string =>
  text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'’\s]+/gu, " ")
    .replace(/['’](?!\p{L})|(?<!\p{L})['’]/gu, " ");

/** `words(text).length` without building the array (a long text has millions of words). */
export function countWords(text: string): number {
  let n = 0;
  for (const _ of fold(text).matchAll(/\S+/g)) n++;
  return n;
}

/**
 * Word error rate of `hypothesis` against `reference`: (substitutions + deletions + insertions) / reference
 * words, by word-level Levenshtein distance (two rows, O(n·m) time, O(m) memory). 0 = identical;
 * may exceed 1 when the hypothesis is much longer. An empty reference gives 0 for an empty hypothesis, else 1.
 *
 * @example
 * wordErrorRate("the cat sat", "the cat sat down"); // 1/3
 */
export function wordErrorRate(
  reference: string | readonly string[],
  hypothesis: string | readonly string[],
): number {
  const ref = typeof reference === "string" ? words(reference) : reference;
  const hyp = typeof hypothesis === "string" ? words(hypothesis) : hypothesis;
  if (ref.length === 0) return hyp.length === 0 ? 0 : 1;
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  let cur = new Array<number>(hyp.length + 1);
  for (let i = 1; i <= ref.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= hyp.length; j++) {
      const cost = ref[i - 1] === hyp[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[hyp.length]! / ref.length;
}
