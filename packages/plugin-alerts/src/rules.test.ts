import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";
import type { AlertConfigIssue } from "./errors.ts";
import { compileMatchers, parseMatchers } from "./matchers.ts";
import { normalizeRules } from "./rules.ts";

describe("rule validation", () => {
  it("reports every bad field with its path", () => {
    const issues: AlertConfigIssue[] = [];
    normalizeRules(
      [
        { name: "ok", metric: "m", levels: { warning: 1 } },
        {
          name: "",
          metric: "bad name!",
          aggregate: "median",
          window: "5 minutes",
          levels: { warning: { threshold: "x" }, fatal: 3 },
          colour: "red",
        },
        { name: "hyst", metric: "m", levels: { warning: { threshold: 10, clear: 12 } } },
        { name: "ok", metric: "m", levels: { critical: 1, warning: 5 } },
      ],
      "rules",
      issues,
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "rules[1].colour",
        "rules[1].name",
        "rules[1].metric",
        "rules[1].aggregate",
        "rules[1].window",
        "rules[1].levels.warning.threshold",
        "rules[1].levels.fatal",
        "rules[2].levels.warning.clear",
        "rules[3].levels.critical.threshold",
        "rules[3].name",
      ]),
    );
    expect(issues.find((i) => i.path === "rules[2].levels.warning.clear")!.message).toMatch(
      /≤ the threshold/,
    );
  });
  it("applies defaults and sorts levels most severe first", () => {
    const issues: AlertConfigIssue[] = [];
    const [rule] = normalizeRules(
      [
        {
          name: "r",
          metric: "m",
          aggregate: "mean",
          levels: { warning: 1, critical: { threshold: 5, clear: 4 } },
        },
      ],
      "rules",
      issues,
    );
    expect(issues).toEqual([]);
    expect(rule!.windowMs).toBe(300_000);
    expect(rule!.levels.map((l) => [l.level, l.threshold, l.clear])).toEqual([
      ["critical", 5, 4],
      ["warning", 1, 1],
    ]);
    expect(rule!.noData.state).toBe("ok");
  });
  it("parses durations", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration(42)).toBe(42);
    expect(parseDuration("5 minutes")).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });
});

describe("label matchers", () => {
  it("supports objects, RegExps and Prometheus-style strings, anchored", () => {
    const issues: AlertConfigIssue[] = [];
    const m = compileMatchers(parseMatchers(['step="tts"', "model=~gpt-.*", 'gpu!="0"'], "match", issues));
    expect(issues).toEqual([]);
    expect(m({ step: "tts", model: "gpt-4", gpu: "1" })).toBe(true);
    expect(m({ step: "tts", model: "xgpt-4", gpu: "1" })).toBe(false);
    expect(m({ step: "tts", model: "gpt-4", gpu: "0" })).toBe(false);
    expect(m({ step: "tts", model: "gpt-4" })).toBe(true); // missing label = ""
    const o = compileMatchers(parseMatchers({ step: "tts", model: /gpt|claude/ }, "match", issues));
    expect(o({ step: "tts", model: "claude" })).toBe(true);
    expect(o({ step: "tts", model: "claude-3" })).toBe(false);
  });
  it("reports malformed matchers and bad regexes", () => {
    const issues: AlertConfigIssue[] = [];
    parseMatchers(["step", "model=~(", 3], "rules[0].match", issues);
    expect(issues.map((i) => i.path)).toEqual([
      "rules[0].match[0]",
      "rules[0].match[1]",
      "rules[0].match[2]",
    ]);
  });
});
