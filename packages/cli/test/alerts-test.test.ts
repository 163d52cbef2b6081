import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { alerts } from "@tapline/plugin-alerts";
import { metrics } from "@tapline/plugin-metrics";
import { readJsonl } from "@tapline/plugin-metrics/files";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

const RULES = `rules:
  # fires at the sample of 50 and resolves at the next sample under 40
  - { name: QueueHigh, metric: queue_depth, levels: { warning: 40, critical: 55 } }
  # never reached
  - { name: QueueHuge, metric: queue_depth, levels: { critical: 1000 } }
  # fed by the step records: the "work" step fails in run 4
  - { name: WorkFailing, metric: tapline_alerts_step_failed, match: { step: work }, levels: { warning: 0.5 } }
`;
const DEPTHS = [1, 2, 3, 50, 60, 2, 1];

/** `tapline alerts test` against the data folder of a real (short) pipeline run. */
describe("tapline alerts test", () => {
  let root: string;
  let dir: string;
  let rules: string;
  /** Recorded time of each queue_depth sample, by value. */
  const recorded = new Map<number, number>();
  let workFailedAt = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tapline alerts-test "));
    dir = join(root, ".tapline");
    rules = join(root, "rules.yaml");
    await writeFile(rules, RULES);
    // The live app runs the same rule file, so its own alert history is a second oracle.
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [
        metrics({ prometheus: false, system: false }),
        alerts({ rules, evaluationInterval: "100ms" }),
      ],
    });
    const pipeline = app
      .pipeline<number>("queue")
      .step("measure", async (i, ctx) => {
        ctx.metric("queue_depth", DEPTHS[i]!, { queue: "render" });
        return i;
      })
      .step("work", async (i) => {
        if (i === 3) throw new Error("worker crashed");
        return i;
      })
      .build();
    for (let i = 0; i < DEPTHS.length; i++) await pipeline.run(i);
    await app.close();
    for await (const r of readJsonl(join(dir, "metrics")))
      if (r.name === "queue_depth") recorded.set(r.value as number, r.time as number);
    for await (const r of readJsonl(join(dir, "runs")))
      if (r.t === "step" && r.step === "work" && r.status === "failed") workFailedAt = r.time as number;
  }, 60_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("--json: per rule, when it would have fired and resolved, at the recorded times", async () => {
    const r = await tapline(["alerts", "test", rules, "--dir", dir, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.records).toMatchObject({ steps: DEPTHS.length * 2, runs: DEPTHS.length });
    const byRule = Object.fromEntries(out.rules.map((x: { rule: string }) => [x.rule, x]));
    expect(
      byRule.QueueHigh.events.map((e: { time: number; state: string; level: string; value: number }) => [
        e.time,
        e.state,
        e.level,
        e.value,
      ]),
    ).toEqual([
      [recorded.get(50), "firing", "warning", 50],
      [recorded.get(60), "firing", "critical", 60],
      [recorded.get(2), "resolved", "critical", 2],
    ]);
    expect(byRule.QueueHigh.events[0].labels).toMatchObject({ alertname: "QueueHigh", queue: "render" });
    expect(byRule.QueueHigh.events[0].message).toContain("50 > 40");
    expect(byRule.QueueHuge).toMatchObject({ events: [], firingAtEnd: 0 });
    expect(workFailedAt).toBeGreaterThan(0);
    expect(byRule.WorkFailing.events[0]).toMatchObject({ time: workFailedAt, state: "firing", value: 1 });
  });

  it("agrees with what the live plugin recorded for the same rules", async () => {
    const live = JSON.parse((await tapline(["alerts", "--dir", dir, "--json"])).stdout) as {
      rule: string;
      state: string;
      level: string;
      time: number;
    }[];
    const replay = JSON.parse((await tapline(["alerts", "test", rules, "--dir", dir, "--json"])).stdout);
    const fromReplay = replay.rules
      .flatMap((x: { events: { time: number; state: string; level: string }[]; rule: string }) =>
        x.events.map((e) => `${x.rule} ${e.state} ${e.level}`),
      )
      .sort();
    const fromLive = live
      .filter((e) => e.state !== "pending")
      .map((e) => `${e.rule} ${e.state} ${e.level}`)
      .sort();
    expect(fromReplay).toEqual(fromLive);
  });

  it("text: a section per rule, a row per transition, and the rules that never fired", async () => {
    const r = await tapline(["alerts", "test", rules, "--dir", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Backtest of .*rules\.yaml against .*: \d+ sample\(s\), 14 step\(s\), 7 run\(s\)/,
    );
    expect(r.stdout).toContain("QueueHigh (threshold): fired 1 time(s)");
    expect(r.stdout).toContain("QueueHuge (threshold): never fired");
    const iso = new Date(recorded.get(50)!).toISOString().replace(/\.000Z$/, "Z");
    expect(r.stdout).toMatch(new RegExp(`${iso.replace(/[.]/g, "\\.")}\\s+firing\\s+warning\\s+50\\s+`));
  });

  it("takes a tapline run config: the rules of plugins.alerts, inline or as a rule file", async () => {
    const inline = join(root, "tapline.yaml");
    await writeFile(
      inline,
      `dir: ./.tapline\nplugins:\n  metrics: {}\n  alerts:\n    rules:\n${RULES.split("\n")
        .slice(1)
        .map((l) => `    ${l}`)
        .join("\n")}`,
    );
    const byFile = join(root, "tapline-file.yaml");
    await writeFile(byFile, "plugins:\n  alerts:\n    rules: ./rules.yaml\n");
    const expected = JSON.parse(
      (await tapline(["alerts", "test", rules, "--dir", dir, "--json"])).stdout,
    ).rules;
    for (const config of [inline, byFile]) {
      const r = await tapline(["alerts", "test", config, "--dir", dir, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).rules).toEqual(expected);
    }
    const bad = join(root, "tapline-bad.yaml");
    await writeFile(
      bad,
      "plugins:\n  alerts:\n    rules:\n      - { name: A, metric: m, levelz: { warning: 1 } }\n",
    );
    const r = await tapline(["alerts", "test", bad, "--dir", join(root, "nowhere")]);
    expect(r.code).toBe(2); // the rules before the folder
    expect(r.stderr).toContain(`invalid alert rules in ${bad}`);
    expect(r.stderr).toContain(
      'plugins.alerts.rules[0].levelz: unknown option "levelz"; did you mean "levels"?',
    );
    const none = join(root, "tapline-none.yaml");
    await writeFile(none, "plugins:\n  metrics: {}\n");
    const n = await tapline(["alerts", "test", none, "--dir", dir]);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain("a tapline config without alert rules");
  });

  it.each([
    [
      "an unknown key",
      "rules:\n  - { name: A, metric: m, levelz: { warning: 1 } }\n",
      'did you mean "levels"',
    ],
    ["bad YAML", "rules: [ { name: A\n", "not valid YAML/JSON"],
    ["a rule without levels", "rules:\n  - { name: A, metric: m }\n", "rules[0].levels"],
  ])("%s in the rule file: exit 2, naming the file and what to fix", async (_name, text, expected) => {
    const file = join(root, `bad-${_name.replace(/\W/g, "-")}.yaml`);
    await writeFile(file, text);
    const r = await tapline(["alerts", "test", file, "--dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain(expected);
    expect(r.stderr).not.toContain("    at ");
  });

  it("usage errors are exit 2, a missing or empty data folder exit 3", async () => {
    const none = await tapline(["alerts", "test", "--dir", dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give the rule file to test");
    const missingFile = await tapline(["alerts", "test", join(root, "nope.yaml"), "--dir", dir]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain("cannot read the rule file");
    const interval = await tapline(["alerts", "test", rules, "--dir", dir, "--interval", "soon"]);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toContain('--interval "soon"');
    const missingDir = await tapline(["alerts", "test", rules, "--dir", join(root, "nowhere")]);
    expect(missingDir.code).toBe(3);
    expect(missingDir.stderr).toContain("no Tapline data folder");
    const empty = join(root, "empty");
    await mkdir(empty);
    const nothing = await tapline(["alerts", "test", rules, "--dir", empty]);
    expect(nothing.code).toBe(3);
    expect(nothing.stderr).toContain("no metric samples or run records");
    const help = await tapline(["alerts", "test", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("promtool test rules");
  });
});
