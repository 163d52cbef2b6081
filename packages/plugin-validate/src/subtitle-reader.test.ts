import { describe, expect, it } from "vitest";
import { parseSubtitles } from "./subtitle-reader.ts";

describe("parseSubtitles (SRT)", () => {
  it("reads good cues with times in seconds and the timing line number", () => {
    const r = parseSubtitles(
      "1\n00:00:01,000 --> 00:00:02,500\nHello\nthere\n\n2\n00:01:00,000 --> 01:00:00,500\nBye\n",
    );
    expect(r.errors).toEqual([]);
    expect(r.format).toBe("srt");
    expect(r.cues).toEqual([
      { id: "1", start: 1, end: 2.5, text: "Hello\nthere", line: 2 },
      { id: "2", start: 60, end: 3600.5, text: "Bye", line: 7 },
    ]);
  });

  it("reports every bad block with its line number and keeps the good cues", () => {
    const text = [
      "1",
      "00:00:00,300 -> 00:00:03,000",
      "Bad arrow.",
      "",
      "2",
      "00:00:05,000 --> 00:00:04,000",
      "End before start.",
      "",
      "3",
      "00:00:05,500 --> ",
      "Missing end.",
      "",
      "4",
      "00:61:00,000 --> 00:61:02,000",
      "Minute 61.",
      "",
      "5",
      "00:00:07,000 --> 00:00:08,000",
      "Good.",
      "",
      "6",
      "00:00:09.000 --> 00:00:10,000",
      "Dot separator.",
      "",
    ].join("\n");
    const r = parseSubtitles(text);
    expect(r.errors.map((e) => e.line)).toEqual([2, 6, 10, 14, 22]);
    expect(r.errors[0]!.message).toMatch(/bad arrow/);
    expect(r.errors[1]!.message).toMatch(/before or when it starts/);
    expect(r.errors[2]!.message).toMatch(/missing end/);
    expect(r.errors[3]!.message).toMatch(/minutes 61 > 59/);
    expect(r.errors[4]!.message).toMatch(/comma/);
    expect(r.cues.map((c) => c.text)).toEqual(["Good."]);
    expect(r.blocks).toBe(6);
  });

  it("flags numbering gaps, missing number lines, CRLF and BOM are fine", () => {
    const r = parseSubtitles(
      "\uFEFF1\r\n00:00:01,000 --> 00:00:02,000\r\nA\r\n\r\n3\r\n00:00:03,000 --> 00:00:04,000\r\nB\r\n\r\n00:00:05,000 --> 00:00:06,000\r\nC\r\n",
    );
    expect(r.cues).toHaveLength(3);
    expect(r.errors).toEqual([
      { line: 5, message: "cue number 3, expected 2" },
      { line: 9, message: "missing cue number line" },
    ]);
  });

  it("reports a cue without text and two cues run together", () => {
    const r = parseSubtitles(
      "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\nB\n00:00:05,000 --> 00:00:06,000\nC\n",
    );
    expect(r.errors.map((e) => e.message)).toEqual(["cue has no text", "missing blank line between cues"]);
  });
});

describe("parseSubtitles (WebVTT)", () => {
  it("reads a header, ids, settings, hours-less times and skips NOTE blocks", () => {
    const r = parseSubtitles(
      "WEBVTT - title\n\nNOTE a note\n\nintro\n00:01.000 --> 00:02.000 align:start\nHi\n\n00:00:03.000 --> 00:00:04.000\nYo\n",
    );
    expect(r.errors).toEqual([]);
    expect(r.format).toBe("vtt");
    expect(r.cues.map((c) => [c.id, c.start, c.end, c.text, c.line])).toEqual([
      ["intro", 1, 2, "Hi", 6],
      [undefined, 3, 4, "Yo", 9],
    ]);
  });

  it("reports a bad header once, minute 60 and a comma separator", () => {
    const r = parseSubtitles(
      "WEBVTX\n\n60:00.000 --> 60:01.000\nA\n\n00:00:02,000 --> 00:00:03.000\nB\n",
      "vtt",
    );
    expect(r.errors.map((e) => e.line)).toEqual([1, 3, 6]);
    expect(r.errors[0]!.message).toMatch(/WEBVTT/);
    expect(r.errors[1]!.message).toMatch(/minutes 60/);
    expect(r.cues).toHaveLength(0);
  });

  it("requires a blank line after the header", () => {
    const r = parseSubtitles("WEBVTT\n00:01.000 --> 00:02.000\nHi\n");
    expect(r.errors[0]).toEqual({ line: 2, message: "a blank line must follow the WEBVTT header block" });
  });
});
