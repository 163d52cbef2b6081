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
  it("ignores label order and tells different sets apart", () => {
    expect(fingerprint({ a: "1", b: "2" })).toBe(fingerprint({ b: "2", a: "1" }));
    expect(fingerprint({ a: "1", b: "2" })).not.toBe(fingerprint({ a: "12" }));
    expect(labelKey({ a: "1", b: "2" })).toBe(labelKey({ b: "2", a: "1" }));
  });
});
