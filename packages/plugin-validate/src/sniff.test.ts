import { describe, expect, it } from "vitest";
import { kindFromExtension, sniff } from "./sniff.ts";

const b = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe("sniff", () => {
  it("recognises containers by magic bytes", () => {
    expect(sniff(b("ID3", [4, 0, 0]))).toBe("mp3");
    expect(sniff(b([0xff, 0xfb, 0x90, 0x64]))).toBe("mp3");
    expect(sniff(b([0xff, 0xf1, 0x50, 0x80]))).toBe("aac");
    expect(sniff(b("RIFF", [0, 0, 0, 0], "WAVE"))).toBe("wav");
    expect(sniff(b([0, 0, 0, 32], "ftypisom"))).toBe("mp4");
    expect(sniff(b([0x1a, 0x45, 0xdf, 0xa3]))).toBe("matroska");
    expect(sniff(b("OggS"))).toBe("ogg");
    expect(sniff(b("fLaC"))).toBe("flac");
  });
  it("recognises subtitles, text, binary and empty", () => {
    expect(sniff(b("WEBVTT\n\n"))).toBe("webvtt");
    expect(sniff(b([0xef, 0xbb, 0xbf], "1\n00:00:01,000 --> 00:00:02,000\n"))).toBe("srt");
    expect(sniff(b("Hello world"))).toBe("text");
    expect(sniff(b("abc", [0], "def"))).toBe("binary");
    expect(sniff(new Uint8Array())).toBe("empty");
  });
  it("maps extensions to kinds", () => {
    expect(kindFromExtension("a/b.MP3")).toBe("audio");
    expect(kindFromExtension("x.mov")).toBe("video");
    expect(kindFromExtension("x.vtt")).toBe("subtitles");
    expect(kindFromExtension("x.txt")).toBe("text");
    expect(kindFromExtension("x.bin")).toBeUndefined();
  });
});
