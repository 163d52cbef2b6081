import { describe, expect, it } from "vitest";
import { fingerprint, labelKey } from "./fingerprint.ts";

describe("fingerprint", () => {
  it("matches the fingerprint Alertmanager 0.25 reported for the same labels", () => {
    // Captured from a real Alertmanager webhook (research/monitoring.md §2).
    expect(
      fingerprint({ alertname: "StepSlow", gpu: "1", pipeline: "video", severity: "warning", step: "tts" }),
    ).toBe("22c3205509dba6f3");
  });
  it("ignores label order and tells different sets apart", () => {
    expect(fingerprint({ a: "1", b: "2" })).toBe(fingerprint({ b: "2", a: "1" }));
    expect(fingerprint({ a: "1", b: "2" })).not.toBe(fingerprint({ a: "12" }));
    expect(labelKey({ a: "1", b: "2" })).toBe(labelKey({ b: "2", a: "1" }));
  });
});
