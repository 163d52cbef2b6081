import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterEach, describe, expect, it } from "vitest";
import { loadAlertConfig, parseAlertConfig } from "./load.ts";
import { createAlertManager } from "./manager.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const GOOD = `
route:
  groupBy: [alertname, pipeline]
  groupWait: 10s
inhibit:
  - source: ['severity="critical"']
    target: ['severity=~"warning|info"']
    equal: [pipeline, step]
rules:
  - name: TtsFailing
    metric: tapline_alerts_step_failed
    match: ['step="tts"']
    by: [pipeline, step]
    aggregate: mean
    window: 5m
    minSamples: 5
    unit: ratio
    levels:
      warning: { threshold: 0.2, clear: 0.1 }
      critical: { threshold: 0.5, clear: 0.4 }
    message: "step {{labels.step}} failing {{value}} over {{window}}"
  - name: RenderStuck
    kind: stuck-step
    after: 20m
    match: { step: render }
`;

describe("rule files", () => {
  it("loads YAML rules a manager accepts", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-rules-"));
    const file = join(dir, "alerts.yaml");
    await writeFile(file, GOOD);
    const config = await loadAlertConfig(file);
    expect(config.rules.map((r) => r.name)).toEqual(["TtsFailing", "RenderStuck"]);
    const m = createAlertManager({ rules: file });
    for (let i = 0; i < 5; i++)
      m.stepEnded({ runId: "r", pipeline: "p", step: "tts", status: "failed", durationMs: 1 });
    expect(m.status().message).toBe("critical: step tts failing 100% over 5m");
    await m.close();
  });
  it("takes JSON too", () => {
    const c = parseAlertConfig(JSON.stringify({ rules: [{ name: "A", metric: "a", levels: { info: 1 } }] }));
    expect(c.rules).toHaveLength(1);
  });
  it("reports every bad field with its path and the file", () => {
    const bad = `
rules:
  - name: A
    metric: a
    window: soon
    levels: { warning: { clear: 1 } }
  - metric: b
    levels: { critical: 2 }
    aggregate: avg
route: { groupWait: never, extra: 1 }
inhibit: [{ target: { a: b } }]
colour: red
`;
    try {
      parseAlertConfig(bad, "alerts.yaml");
      expect.unreachable();
    } catch (error) {
      expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
      const e = error as { issues: { path: string }[]; message: string; file: string };
      expect(e.file).toBe("alerts.yaml");
      expect(e.issues.map((i) => i.path)).toEqual(
        expect.arrayContaining([
          "colour",
          "rules[0].window",
          "rules[0].levels.warning.threshold",
          "rules[1].name",
          "rules[1].aggregate",
          "route.groupWait",
          "route.extra",
          "inhibit[0].source",
        ]),
      );
      expect(e.message).toContain("alerts.yaml");
      expect(e.message).toContain("rules[0].window");
    }
  });
  it("reports YAML syntax errors and missing files clearly", async () => {
    expect(() => parseAlertConfig("rules: [a, b", "x.yaml")).toThrow(/not valid YAML/);
    await expect(loadAlertConfig("/nonexistent/alerts.yaml")).rejects.toThrow(/cannot read the rule file/);
  });
});
