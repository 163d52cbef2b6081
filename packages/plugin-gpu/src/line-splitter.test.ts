import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.ts";

function collect(maxPending?: number) {
  const lines: string[] = [];
  const splitter = new LineSplitter((text, from, to) => lines.push(text.slice(from, to)), maxPending);
  return { lines, splitter };
}

describe("LineSplitter", () => {
  it("hands over every complete line of a chunk, keeping a torn tail for the next chunk", () => {
    const { lines, splitter } = collect();
    splitter.push(Buffer.from("a, 1\nb, 2\nc,"));
    expect(lines).toEqual(["a, 1", "b, 2"]);
    expect(splitter.torn).toBe(true);
    splitter.push(Buffer.from(" 3\n"));
    expect(lines).toEqual(["a, 1", "b, 2", "c, 3"]);
    expect(splitter.torn).toBe(false);
  });

  it("reassembles a multi-byte UTF-8 character split across chunks", () => {
    const { lines, splitter } = collect();
    const bytes = Buffer.from("0, GPU-1, Ünïcode GPU ✓\n");
    for (let i = 0; i < bytes.length; i++) splitter.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual(["0, GPU-1, Ünïcode GPU ✓"]);
  });

  it("passes empty lines through and treats a whitespace tail as not torn", () => {
    const { lines, splitter } = collect();
    splitter.push(Buffer.from("\n\nx\n  "));
    expect(lines).toEqual(["", "", "x"]);
    expect(splitter.torn).toBe(false);
  });

  it("drops a tail that grows past maxPending without a newline", () => {
    const { lines, splitter } = collect(8);
    splitter.push(Buffer.from("0123456789"));
    expect(splitter.torn).toBe(false);
    splitter.push(Buffer.from("ab\ncd\n"));
    expect(lines).toEqual(["ab", "cd"]);
  });

  it("does not alias the caller's buffer for the pending tail", () => {
    const { lines, splitter } = collect();
    const chunk = Buffer.from("x\nyz");
    splitter.push(chunk);
    chunk.fill(0x21);
    splitter.push(Buffer.from("\n"));
    expect(lines).toEqual(["x", "yz"]);
  });
});
