import { expect, it } from "vitest";
import { parseDuration } from "./duration.ts";

it("parses ms and unit texts, rejects the rest", () => {
  expect(parseDuration(250)).toBe(250);
  expect(parseDuration("1m")).toBe(60_000);
  expect(parseDuration("1.5s")).toBe(1500);
  expect(parseDuration("500ms")).toBe(500);
  expect(parseDuration("2h")).toBe(7_200_000);
  expect(parseDuration("m")).toBe(60_000);
  expect(parseDuration("1 min")).toBe(60_000);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "1y", "", "fast", null, {}]) {
    expect(parseDuration(bad)).toBeUndefined();
  }
});
