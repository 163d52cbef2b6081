import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline, isTaplineError, type OptionIssue } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it } from "vitest";
import { type AlertConfigError, alerts, createAlertManager, loadAlertConfig, presets } from "../src/index.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function registrationIssues(options: unknown): { message: string; issues: readonly OptionIssue[] } {
  try {
    createTapline({ logger: silentLogger, plugins: [alerts(options as never)] });
  } catch (error) {
    expect(
      isTaplineError(error, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ]),
    ).toBe(true);
    return error as { message: string; issues: readonly OptionIssue[] };
  }
  throw new Error("expected a PluginRegistrationError");
}

function configError(fn: () => unknown): AlertConfigError {
  try {
    fn();
  } catch (error) {
    expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
    return error as AlertConfigError;
  }
  throw new Error("expected an AlertConfigError");
}

describe("strict options, one mechanism", () => {
  it("alerts({ rulez }) fails at registration with did-you-mean", () => {
    const error = registrationIssues({ rulez: [] });
    expect(error.issues[0]).toMatchObject({ path: "rulez", suggestion: "rules" });
    expect(error.message).toMatch(/rulez: unknown option "rulez"; did you mean "rules"\?/);
  });

  it("checks every rule kind, level spec, no-data spec, route and silence strictly, naming path, value and match", () => {
    const error = registrationIssues({
      rules: [
        { name: "a", metric: "m", levels: { warning: { threshold: 1, clera: 0 } }, agregate: "mean" },
        { name: "b", kind: "stuck-step", after: "10m", levle: "critical" },
        { name: "c", metric: "m", levels: { warning: 1 }, noData: { state: "alert" } },
      ],
      route: { groupWiat: "1s" },
      silences: [{ matchers: { step: "tts" }, duration: "1h", coment: "x" }],
      evaluationInterval: "often",
    });
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i]));
    expect(byPath["rules[0].levels.warning.clera"]).toMatchObject({ suggestion: "clear" });
    expect(byPath["rules[0].agregate"]).toMatchObject({ suggestion: "aggregate" });
    expect(byPath["rules[1].levle"]).toMatchObject({ suggestion: "level" });
    expect(byPath["rules[2].noData.state"]).toMatchObject({ value: "alert", suggestion: "alerting" });
    expect(byPath["route.groupWiat"]).toMatchObject({ suggestion: "groupWait" });
    expect(byPath["silences[0].coment"]).toMatchObject({ suggestion: "comment" });
    expect(byPath.evaluationInterval).toMatchObject({ value: "often" });
  });

  it("createAlertManager() and manager.silence() are strict too", async () => {
    const error = configError(() => createAlertManager({ rules: [], historySise: 10 } as never));
    expect(error.subject).toBe("createAlertManager()");
    expect(error.issues[0]).toMatchObject({ path: "historySise", suggestion: "historySize" });
    const m = createAlertManager({});
    try {
      const bad = configError(() => m.silence({ matchers: { a: "1" }, duraton: "1h" } as never));
      expect(bad.issues.map((i) => [i.path, i.suggestion])).toContainEqual(["duraton", "duration"]);
      expect(bad.message).toMatch(/manager\.silence\(\): invalid options/);
    } finally {
      await m.close();
    }
  });

  it("presets are strict", () => {
    const error = configError(() => presets.stepFailureRate({ warnng: 0.3 } as never));
    expect(error.subject).toBe("stepFailureRate()");
    expect(error.issues[0]).toMatchObject({ path: "warnng", suggestion: "warning" });
    expect(configError(() => presets.stuckStep({ for: "1m" } as never)).issues[0]).toMatchObject({
      path: "for",
    });
    expect(configError(() => presets.gpuHot({ window: "soon" })).issues[0]).toMatchObject({
      path: "window",
      value: "soon",
    });
  });

  it("rule files are strict, and their errors name the file, through the manager and through the plugin", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-alert-options-"));
    const file = join(dir, "alerts.yaml");
    await writeFile(
      file,
      ["rules:", "  - name: Slow", "    metric: m", "    levles: { warning: 1 }", "routes: {}", ""].join(
        "\n",
      ),
    );
    const loaded = await loadAlertConfig(file).catch((e: unknown) => e as AlertConfigError);
    expect(isTaplineError(loaded, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
    const fromFile = loaded as AlertConfigError;
    expect(fromFile.file).toBe(file);
    expect(fromFile.message).toContain(file);
    expect(fromFile.issues.map((i) => [i.path, i.suggestion])).toEqual(
      expect.arrayContaining([
        ["rules[0].levles", "levels"],
        ["routes", "route"],
      ]),
    );
    expect(configError(() => createAlertManager({ rules: file })).message).toContain(file);
    const viaPlugin = registrationIssues({ rules: file });
    expect(viaPlugin.message).toContain(file);
    expect(viaPlugin.message).toMatch(/rules\[0\]\.levles: unknown option "levles"; did you mean "levels"\?/);
  });
});
