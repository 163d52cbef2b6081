import { describe, expect, it } from "vitest";
import { fingerprint, labelKey } from "./fingerprint.ts";

describe("fingerprint", () => {
  it("matches the fingerprint Alertmanager 0.25 reported for the same labels", () => {
    // Captured from a real Alertmanager webhook (research/monitoring.md §2).
    expect(
      fingerprint({ alertname: "StepSlow", gpu: "1", pipeline: "video", severity: "warning", step: "tts" }),
    ).toBe("22c3205509dba6f3");
  });
  it("hashes UTF-8 bytes as Go does, for non-ASCII values too", () => {
    // FNV-1a 64 of "a\xffé\xff" with é as its two UTF-8 bytes c3 a9, computed byte by byte
    let h = 0xcbf29ce484222325n;
    for (const b of [0x61, 0xff, 0xc3, 0xa9, 0xff])
      h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
    expect(fingerprint({ a: "é" })).toBe(h.toString(16).padStart(16, "0"));
    expect(fingerprint({})).toBe("cbf29ce484222325");
  });
  it("equals a byte-by-byte BigInt FNV-1a 64 over random label sets", () => {
    const reference = (labels: Record<string, string>) => {
      let h = 0xcbf29ce484222325n;
      for (const name of Object.keys(labels).sort())
        for (const b of [...Buffer.from(name), 0xff, ...Buffer.from(labels[name]!), 0xff])
          h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, "0");
    };
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const chars = "abcxyz_019é✓ \u00ff";
    for (let k = 0; k < 300; k++) {
      const labels: Record<string, string> = {};
      for (let j = rand(6); j >= 0; j--)
        labels[`l${rand(20)}`] = Array.from({ length: rand(12) }, () => chars[rand(chars.length)]).join("");
      expect(fingerprint(labels)).toBe(reference(labels));
    }
  });
  it("ignores label order and tells different sets apart", () => {
    expect(fingerprint({ a: "1", b: "2" })).toBe(fingerprint({ b: "2", a: "1" }));
    expect(fingerprint({ a: "1", b: "2" })).not.toBe(fingerprint({ a: "12" }));
    expect(labelKey({ a: "1", b: "2" })).toBe(labelKey({ b: "2", a: "1" }));
  });
});
