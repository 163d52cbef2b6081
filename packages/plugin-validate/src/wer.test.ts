import { describe, expect, it } from "vitest";
import { wordErrorRate, words } from "./wer.ts";

describe("words", () => {
  it("folds case, accents and punctuation, keeps inner apostrophes", () => {
    expect(words("Café, DON'T stop — 'now'!")).toEqual(["cafe", "don't", "stop", "now"]);
  });
});

describe("wordErrorRate", () => {
  it("is 0 for the same words, whatever the punctuation", () => {
    expect(wordErrorRate("The cat sat.", "the cat, sat")).toBe(0);
  });
  it("counts substitutions, deletions and insertions against the reference length", () => {
    expect(wordErrorRate("a b c d", "a x c")).toBe(0.5); // 1 substitution + 1 deletion
    expect(wordErrorRate("a b", "a b c d")).toBe(1); // 2 insertions
  });
  it("handles empty inputs", () => {
    expect(wordErrorRate("", "")).toBe(0);
    expect(wordErrorRate("", "x")).toBe(1);
    expect(wordErrorRate("x y", "")).toBe(1);
  });
});
