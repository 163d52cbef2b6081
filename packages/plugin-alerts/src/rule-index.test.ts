import { describe, expect, it } from "vitest";
import { CompiledRule } from "./rule-engine.ts";
import { MetricRules } from "./rule-index.ts";
import { checkRules } from "./rules.ts";

const sink = { emit() {}, dropped() {}, inactive() {} };

describe("MetricRules", () => {
  it("returns exactly the rules whose matchers can match, in definition order", () => {
    const specs = [
      { name: "a", metric: "m", match: { step: "tts" }, levels: { warning: 1 } },
      { name: "b", metric: "m", match: ["step=~tt.*"], levels: { warning: 1 } },
      { name: "c", metric: "m", match: { step: "llm", model: "x" }, levels: { warning: 1 } },
      { name: "d", metric: "m", levels: { warning: 1 } },
      { name: "e", metric: "m", match: { step: "tts", model: "y" }, levels: { warning: 1 } },
    ];
    const rules = checkRules(specs).rules.map((r) => new CompiledRule(r, sink, 10, 10));
    const index = new MetricRules(rules);
    const names = (labels: Record<string, string>) =>
      index
        .candidates(labels)
        .filter((r) => r.matches(labels))
        .map((r) => r.rule.name);
    const brute = (labels: Record<string, string>) =>
      rules.filter((r) => r.matches(labels)).map((r) => r.rule.name);
    const cases: Record<string, string>[] = [
      { step: "tts", model: "y" },
      { step: "llm", model: "x" },
      { step: "ttx" },
      {},
      { model: "x" },
    ];
    for (const labels of cases) {
      expect(names(labels)).toEqual(brute(labels));
    }
    expect(names({ step: "tts", model: "y" })).toEqual(["a", "b", "d", "e"]);
  });
});
