import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";
import { compileMatchers, toMatchers } from "./matchers.ts";
import { checkRules } from "./rules.ts";

describe("rule validation", () => {
  it("reports every bad field of the shape with its path, value and what was expected", () => {
    const { issues } = checkRules([
      { name: "ok", metric: "m", levels: { warning: 1 } },
      {
        name: "",
        metric: "bad name!",
        aggregate: "median",
        window: "5 minutes",
        levels: { warning: { threshold: "x" }, fatal: 3 },
        colour: "red",
      },
      { name: "stuck", kind: "stuck-step", after: "10m", levels: { warning: 1 } },
    ]);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(Object.keys(byPath)).toEqual(
      expect.arrayContaining([
        "rules[1].colour",
        "rules[1].name",
        "rules[1].metric",
        "rules[1].aggregate",
        "rules[1].window",
        "rules[1].levels.warning.threshold",
        "rules[1].levels.fatal",
        "rules[2].levels",
      ]),
    );
    expect(byPath["rules[1].aggregate"]).toMatchObject({ value: "median", suggestion: "mean" });
    expect(byPath["rules[1].aggregate"]!.message).toMatch(/did you mean "mean"/);
    expect(byPath["rules[1].window"]!.message).toMatch(/expected a duration .* got "5 minutes"/);
    expect(byPath["rules[1].metric"]).toMatchObject({ value: "bad name!" });
    // a stuck-step rule has no levels: the schema of its kind says so
    expect(byPath["rules[2].levels"]!.message).toMatch(/unknown option "levels"/);
  });

  it("suggests the closest key for a misspelt option, in rules, levels and no-data specs", () => {
    const { issues } = checkRules([
      {
        name: "r",
        metric: "m",
        levels: { warnign: 1, critical: { treshold: 2 } },
        keepFiringFr: "1m",
        noData: { stat: "ok" },
      },
    ]);
    const got = Object.fromEntries(issues.map((i) => [i.path, i.suggestion]));
    expect(got).toMatchObject({
      "rules[0].levels.warnign": "warning",
      "rules[0].levels.critical.treshold": "threshold",
      "rules[0].keepFiringFr": "keepFiringFor",
      "rules[0].noData.stat": "state",
    });
  });

  it("checks what needs several fields: hysteresis, level order, duplicate names", () => {
    const { issues } = checkRules([
      { name: "hyst", metric: "m", levels: { warning: { threshold: 10, clear: 12 } } },
      { name: "order", metric: "m", levels: { critical: 1, warning: 5 } },
      { name: "hyst", metric: "m", levels: { warning: 1 } },
    ]);
    expect(issues.map((i) => i.path)).toEqual([
      "rules[0].levels.warning.clear",
      "rules[1].levels",
      "rules[2].name",
    ]);
    expect(issues[1]!.message).toMatch(/critical\.threshold \(1\) must be ≥ the warning threshold \(5\)/);
    expect(issues[0]!.message).toMatch(/≤ the threshold \(10\), got 12/);
    expect(issues[2]).toMatchObject({ value: "hyst" });
    expect(issues[2]!.message).toMatch(/duplicate rule name \(the rule at index 0 has it too\)/);
  });

  it("applies defaults and sorts levels most severe first", () => {
    const { rules, issues } = checkRules([
      {
        name: "r",
        metric: "m",
        aggregate: "mean",
        levels: { warning: 1, critical: { threshold: 5, clear: 4 } },
      },
    ]);
    const [rule] = rules;
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
    const m = compileMatchers(toMatchers(['step="tts"', "model=~gpt-.*", 'gpu!="0"']));
    expect(m({ step: "tts", model: "gpt-4", gpu: "1" })).toBe(true);
    expect(m({ step: "tts", model: "xgpt-4", gpu: "1" })).toBe(false);
    expect(m({ step: "tts", model: "gpt-4", gpu: "0" })).toBe(false);
    expect(m({ step: "tts", model: "gpt-4" })).toBe(true); // missing label = ""
    const o = compileMatchers(toMatchers({ step: "tts", model: /gpt|claude/ }));
    expect(o({ step: "tts", model: "claude" })).toBe(true);
    expect(o({ step: "tts", model: "claude-3" })).toBe(false);
  });
  it("reports malformed matchers and bad regexes", () => {
    const { issues } = checkRules([
      { name: "r", metric: "m", match: ["step", "model=~(", 3], levels: { warning: 1 } },
    ]);
    expect(issues.map((i) => i.path)).toEqual([
      "rules[0].match[0]",
      "rules[0].match[1]",
      "rules[0].match[2]",
    ]);
  });
});
