import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { isTaplineError } from "./create-error.ts";
import { checkOptions, type OptionsError, parseOptions } from "./options.ts";

const Backoff = v.variant("kind", [
  v.strictObject({ kind: v.literal("constant"), delay: v.number() }),
  v.strictObject({ kind: v.literal("exponential"), base: v.optional(v.number()) }),
]);
const Schema = v.strictObject({
  defaults: v.optional(
    v.strictObject({
      maxAttempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
      backoff: v.optional(Backoff),
    }),
  ),
  level: v.optional(v.picklist(["warning", "critical"])),
  rules: v.optional(v.array(v.strictObject({ threshold: v.number() }))),
});

function issues(input: unknown) {
  const result = checkOptions(Schema, input);
  if (!result.issues) throw new Error("expected issues");
  return result.issues;
}

describe("checkOptions / parseOptions", () => {
  it("names an unknown key with its path and the closest known key", () => {
    expect(issues({ defaults: { maxAtempts: 3 } })).toEqual([
      {
        path: "defaults.maxAtempts",
        message: 'unknown option "maxAtempts"; did you mean "maxAttempts"? (known: maxAttempts, backoff)',
        suggestion: "maxAttempts",
      },
    ]);
    expect(issues({ default: {} })[0]).toMatchObject({ path: "default", suggestion: "defaults" });
  });

  it("picks the variant's own keys for a tagged union", () => {
    const [missing, unknown] = issues({ defaults: { backoff: { kind: "constant", base: 1 } } });
    expect(missing).toMatchObject({
      path: "defaults.backoff.delay",
      message: 'missing required option "delay"',
    });
    expect(unknown).toMatchObject({
      path: "defaults.backoff.base",
      message: expect.stringContaining("(known: kind, delay)"),
    });
  });

  it("says what was expected and what was given, and suggests a close literal", () => {
    expect(issues({ defaults: { maxAttempts: "3" } })[0]).toMatchObject({
      path: "defaults.maxAttempts",
      message: 'expected number, got "3"',
      value: "3",
    });
    expect(issues({ level: "warnin" })[0]).toMatchObject({ path: "level", suggestion: "warning" });
    expect(issues({ rules: [{ threshold: 1 }, { treshold: 2 }] })).toContainEqual(
      expect.objectContaining({
        path: "rules[1].treshold",
        suggestion: "threshold",
      }),
    );
  });

  it("throws one OptionsError with every issue and the subject", () => {
    let error: unknown;
    try {
      parseOptions(Schema, { defaults: { maxAtempts: 3 }, level: "info" }, "retry()");
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_OPTIONS")).toBe(true);
    const e = error as OptionsError;
    expect(e.code).toBe("TAPLINE_ERR_OPTIONS");
    expect(e.subject).toBe("retry()");
    expect(e.issues).toHaveLength(2);
    expect(e.message).toMatch(/^retry\(\): invalid options:\n {2}- defaults\.maxAtempts: unknown option/);
  });

  it("returns the parsed value when valid", () => {
    expect(parseOptions(Schema, { level: "warning" }, "x")).toEqual({ level: "warning" });
  });
});
