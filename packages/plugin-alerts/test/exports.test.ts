import { describe, expect, it } from "vitest";
import * as formats from "../src/formats.ts";
import * as handlers from "../src/handlers/index.ts";
import * as main from "../src/index.ts";

describe("public surface", () => {
  it("the main entry names the plugin, the manager, handlers, history, rule files, backtest and presets (≤ 15 values)", () => {
    expect(Object.keys(main).sort()).toEqual(
      [
        "alertManagerOf",
        "backtest",
        "alertmanagerForwarder",
        "alerts",
        "consoleHandler",
        "createAlertManager",
        "defineAlertHandler",
        "fileHandler",
        "loadAlertConfig",
        "presets",
        "readAlertHistory",
        "webhookHandler",
      ].sort(),
    );
  });

  it("presets hold every rule preset", () => {
    expect(Object.keys(main.presets)).toEqual([
      "stepFailureRate",
      "stepP95",
      "stuckStep",
      "breakerOpen",
      "validationFailures",
      "pluginErrors",
      "diskAlmostFull",
      "memoryHigh",
      "gpuHot",
      "gpuMemoryNearFull",
    ]);
    for (const make of Object.values(main.presets)) expect(make()).toHaveProperty("name");
  });

  it("the formats subpath has the wire formats for handler authors", () => {
    expect(Object.keys(formats).sort()).toEqual(
      ["fingerprint", "formatNotification", "toPostableAlert", "toWebhookV4"].sort(),
    );
  });

  it("the handlers subpath has the service handlers (nodemailer loads only on the first email)", () => {
    expect(Object.keys(handlers).sort()).toEqual(
      [
        "PAGERDUTY_SEVERITIES",
        "SLACK_COLORS",
        "STARTTLS_MODES",
        "emailHandler",
        "pagerDutyHandler",
        "slackHandler",
      ].sort(),
    );
  });
});
