import { describe, expect, it } from "vitest";
import { parseDurationHint, parseRetryAfter, retryAfterFromError } from "./retry-after.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delta seconds", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
    expect(parseRetryAfter("1.5", NOW)).toBe(1500);
    expect(parseRetryAfter(3, NOW)).toBe(3000);
  });
  it("reads HTTP dates, past dates as 0", () => {
    expect(parseRetryAfter("Sun, 22 Nov 2026 10:01:30 GMT", NOW)).toBe(90_000);
    expect(parseRetryAfter("Sun, 22 Nov 2026 09:00:00 GMT", NOW)).toBe(0);
  });
  it("rejects garbage, negatives and huge hints", () => {
    for (const v of [
      "",
      "soon",
      "-5",
      "12abc",
      "NaN",
      "Infinity",
      "1e3",
      null,
      undefined,
      {},
      -1,
      "99999999",
      "Sat, 01 Jan 2050 00:00:00 GMT",
    ]) {
      expect(parseRetryAfter(v, NOW), String(v)).toBeUndefined();
    }
  });
  it("parses Go-style reset durations", () => {
    expect(parseDurationHint("6m0s")).toBe(360_000);
    expect(parseDurationHint("20ms")).toBe(20);
    expect(parseDurationHint("1h2m3.5s")).toBe(3_723_500);
    expect(parseDurationHint("later")).toBeUndefined();
  });
});

describe("retryAfterFromError", () => {
  it("reads fields and headers in order of precision", () => {
    expect(retryAfterFromError({ retryAfterMs: 250 }, NOW)).toBe(250);
    expect(retryAfterFromError({ retryAfter: 2 }, NOW)).toBe(2000);
    expect(
      retryAfterFromError({ headers: new Headers({ "retry-after-ms": "1500", "retry-after": "9" }) }, NOW),
    ).toBe(1500);
    expect(retryAfterFromError({ response: { headers: { "Retry-After": "7" } } }, NOW)).toBe(7000);
    expect(
      retryAfterFromError(
        { headers: { "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s" } },
        NOW,
      ),
    ).toBe(360_000);
    expect(retryAfterFromError({ headers: { "x-ratelimit-reset": String(NOW / 1000 + 30) } }, NOW)).toBe(
      30_000,
    );
    expect(
      retryAfterFromError({ headers: { "anthropic-ratelimit-tokens-reset": "2026-11-22T10:00:05Z" } }, NOW),
    ).toBe(5000);
  });
  it("ignores garbage and negative values, and errors without hints", () => {
    expect(
      retryAfterFromError({ headers: { "retry-after-ms": "-3", "retry-after": "soon" } }, NOW),
    ).toBeUndefined();
    expect(retryAfterFromError({ retryAfterMs: -1 }, NOW)).toBeUndefined();
    expect(retryAfterFromError(new Error("plain"), NOW)).toBeUndefined();
    expect(retryAfterFromError("string", NOW)).toBeUndefined();
    expect(
      retryAfterFromError(
        {
          headers: {
            get: () => {
              throw new Error("bad");
            },
          },
        },
        NOW,
      ),
    ).toBeUndefined();
  });
});
