import { expect, it } from "vitest";
import { pauseFor429, statusOf } from "./retry-after.ts";

const now = Date.parse("2026-01-01T00:00:00Z");
const e429 = (fields: object) => Object.assign(new Error("429"), { status: 429 }, fields);

it("reads the hints a 429 carries, and nothing from other errors", () => {
  expect(pauseFor429(e429({ retryAfterMs: 1500 }), now)).toBe(1500);
  expect(pauseFor429(e429({ retryAfter: 2 }), now)).toBe(2000);
  expect(pauseFor429(e429({ headers: { "Retry-After": "3" } }), now)).toBe(3000);
  expect(pauseFor429(e429({ headers: new Headers({ "retry-after-ms": "250" }) }), now)).toBe(250);
  expect(
    pauseFor429(e429({ response: { headers: { "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" } } }), now),
  ).toBe(30_000);
  expect(pauseFor429({ statusCode: 429, retryAfter: "1" }, now)).toBe(1000);
  // No hint, garbage, over a day, or not a 429: no pause.
  expect(pauseFor429(e429({}), now)).toBeUndefined();
  expect(pauseFor429(e429({ headers: { "retry-after": "soon" } }), now)).toBeUndefined();
  expect(pauseFor429(e429({ retryAfter: 200_000 }), now)).toBeUndefined();
  expect(
    pauseFor429(Object.assign(new Error("503"), { status: 503, retryAfterMs: 10 }), now),
  ).toBeUndefined();
  expect(statusOf({ response: { status: 429 } })).toBe(429);
  expect(statusOf("429")).toBeUndefined();
});
