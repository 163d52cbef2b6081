import { describe, expect, it } from "vitest";
import { fitRow, ProgressBoard, visibleWidth } from "../src/progress.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes on purpose
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const LONG = `lighthouse  \x1b[36mrunning\x1b[0m   12.3s  ${["script", "revise", "voiceover", "subtitles", "render", "validate"].map((s) => `\x1b[32m✓ ${s}\x1b[0m`).join("  ")}\x1b[2m  voiceover #2: 503 Service Unavailable from the TTS stand-in, retry after 1 s\x1b[0m`;

describe("fitRow", () => {
  it("counts visible width without ANSI escapes, in code points", () => {
    expect(visibleWidth("\x1b[32m✓ ok\x1b[0m")).toBe(4);
    expect(visibleWidth(LONG)).toBeGreaterThan(140);
  });

  it.each([40, 80, 140])("fits a long row into %i columns with an ellipsis, keeping colours", (width) => {
    const row = fitRow(LONG, width);
    expect(visibleWidth(row)).toBe(width);
    expect(plain(row)).toBe(`${[...plain(LONG)].slice(0, width - 1).join("")}…`);
    expect(row.endsWith("\x1b[0m")).toBe(true); // no colour leaks into the next row
  });

  it("leaves a row that fits, and any row when the width is unknown", () => {
    expect(fitRow("short \x1b[32mrow\x1b[0m", 40)).toBe("short \x1b[32mrow\x1b[0m");
    expect(fitRow("x".repeat(12), 12)).toBe("x".repeat(12));
    expect(fitRow(LONG, undefined)).toBe(LONG);
    expect(fitRow(LONG, 0)).toBe(LONG);
  });
});

describe("ProgressBoard on a narrow terminal", () => {
  it.each([40, 80, 140])("draws no row wider than %i columns, so redraws never repeat rows", (columns) => {
    const chunks: string[] = [];
    const board = new ProgressBoard({ isTTY: true, columns, write: (s) => chunks.push(s) }, [
      { id: "lighthouse-keeper-and-the-very-long-story-id", title: "The lighthouse keeper" },
      { id: "fox", title: "A fox learns to fly" },
    ]);
    board.runStarted("fox");
    board.attemptFailed("fox", "voiceover", 2, new Error(`503 ${"Service Unavailable ".repeat(6)}`));
    board.stop();
    const rows = chunks.join("").split("\n").filter(Boolean); // one draw: no cursor movement before it
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(visibleWidth(row)).toBeLessThanOrEqual(columns);
  });
});
