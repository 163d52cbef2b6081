// The check registry: a third-party check gets the kind's facts, a strict options schema with defaults, ids
// `<kind>.<name>`, and runs standalone (per call or per validator) and in the plugin (step list or plugin
// option). Text checks need no media.
import { createTapline, isTaplineError } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { BUILT_IN_CHECKS } from "./built-in-checks.ts";
import { createValidator, defineCheck, text, validate, validateText } from "./index.ts";
import { KINDS } from "./types.ts";

const bannedWords = defineCheck({
  kind: "text",
  name: "banned_words",
  options: v.strictObject({ words: v.array(v.string()), caseSensitive: v.boolean() }),
  defaults: { caseSensitive: false },
  run({ lines, report }, { words, caseSensitive }) {
    const wanted = caseSensitive ? words : words.map((w) => w.toLowerCase());
    for (const [i, line] of lines.entries()) {
      const seen = (caseSensitive ? line : line.toLowerCase()).split(/\W+/);
      for (const w of wanted) if (seen.includes(w)) report.error(`"${w}" on line ${i + 1}`, { value: w });
    }
  },
});

const checksOf = (findings: readonly { check: string }[]) => findings.map((f) => f.check);

describe("defineCheck", () => {
  it("every built-in check is registered through it, with a unique <kind>.<name> id", () => {
    const ids = BUILT_IN_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of BUILT_IN_CHECKS) {
      expect(KINDS).toContain(c.kind);
      expect(c.id).toBe(`${c.kind}.${c.name}`);
    }
    expect(ids).toEqual(
      expect.arrayContaining(["audio.loudness", "video.faststart", "text.forbidden", "subtitles.cps"]),
    );
  });

  it("checks its definition: a bad kind or name is a typed error", () => {
    const error = (() => {
      try {
        defineCheck({ kind: "image" as never, name: "Aspect Ratio", run: () => {} });
      } catch (e) {
        return e;
      }
    })();
    expect(isTaplineError(error, "TAPLINE_ERR_VALIDATE_OPTIONS")).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(["kind", "name"]);
  });

  it("validates options once, when configured: defaults merged, unknown keys named with the closest one", () => {
    expect(() => bannedWords({ words: ["x"], caseSensitiv: true } as never)).toThrow(
      /check text\.banned_words: invalid options:\n {2}- caseSensitiv: unknown option "caseSensitiv"; did you mean "caseSensitive"\?/,
    );
    expect(() => bannedWords({ words: "x" } as never)).toThrow(/words/);
    const check = bannedWords({ words: ["um"] });
    expect(check).toMatchObject({ kind: "text", name: "banned_words", id: "text.banned_words" });
  });

  it("runs standalone beside the built-ins: per call, per validator, with severity overrides", async () => {
    const script = "Hello there.\nUm, so this is it.";
    const r = await validateText({ text: script }, {}, { checks: [bannedWords({ words: ["um"] })] });
    expect(r.valid).toBe(false);
    expect(r.findings).toEqual([
      { check: "text.banned_words", severity: "error", message: '"um" on line 2', value: "um" },
    ]);
    const mine = createValidator({ checks: [bannedWords({ words: ["hello"] })] });
    const r2 = await mine.validateText({ text: script }, {}, { checks: [bannedWords({ words: ["um"] })] });
    expect(checksOf(r2.findings)).toEqual(["text.banned_words", "text.banned_words"]);
    const off = await mine.validateText({ text: script }, { severity: { "text.banned_words": "warning" } });
    expect(off.valid).toBe(true);
    expect(off.findings.map((f) => f.severity)).toEqual(["warning"]);
    // Without checks the validator is the built-ins only.
    expect((await validateText({ text: script })).findings).toEqual([]);
  });

  it("a check that throws is an error finding of that check, not a crash", async () => {
    const broken = defineCheck({
      kind: "text",
      name: "broken",
      run() {
        throw new Error("boom");
      },
    });
    const r = await validateText({ text: "fine" }, {}, { checks: [broken()] });
    expect(r.findings).toEqual([
      { check: "text.broken", severity: "error", message: "the check failed: boom" },
    ]);
  });

  it("rejects what is not a configured check, naming the factory to call", async () => {
    await expect(validateText({ text: "x" }, {}, { checks: [bannedWords as never] })).rejects.toThrow(
      /options\.checks\[0\]: expected a check made by a factory from defineCheck\(\)/,
    );
  });

  it("runs in the plugin: in a step's validate list, and registered on validate({ checks })", async () => {
    const app = createTapline({
      plugins: [validate({ checks: [bannedWords({ words: ["so"] })] })],
      logger: silentLogger,
    });
    const p = app
      .pipeline("script")
      .step("write", async () => "Um, so this is it.", { validate: [bannedWords({ words: ["um"] })] })
      .step("again", async () => "So it is.", { validate: [text({ maxWords: 10 })] })
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("failed");
    expect(report.steps[0]!.findings.map((f) => f.message)).toEqual(['"so" on line 1', '"um" on line 1']);
    await app.close();
  });
});
