import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { describe, expect, it } from "vitest";
import type { AlertConfigError } from "../errors.ts";
import { defineAlertHandler } from "../handler.ts";
import { createAlertManager } from "../manager.ts";
import type { AlertNotification } from "../notification.ts";
import { alertmanagerForwarder } from "./alertmanager.ts";
import { consoleHandler } from "./console.ts";
import { fileHandler } from "./file.ts";
import { webhookHandler } from "./webhook.ts";

const rules = [
  {
    name: "Hot",
    metric: "t",
    by: ["gpu"],
    levels: { warning: 80, critical: 90 },
    unit: "celsius",
    message: "GPU {{labels.gpu}} at {{value}}",
  },
];
const t = (value: number, gpu = "0") => ({ name: "t", value, labels: { gpu }, time: Date.now() });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("built-in handlers", () => {
  it("console prints one readable line per alert", async () => {
    const lines: string[] = [];
    const m = createAlertManager({
      rules,
      route: { groupWait: 0, groupInterval: 10 },
      handlers: [consoleHandler({ write: (l) => void lines.push(l) })],
    });
    m.observe(t(95));
    m.observe(t(85, "1"));
    await wait(30);
    m.observe(t(20));
    m.observe(t(20, "1"));
    await wait(40);
    await m.close();
    expect(lines.join("")).toBe(
      "[FIRING:2] critical Hot: GPU 0 at 95°C\n[FIRING:2] warning Hot: GPU 1 at 85°C\n[RESOLVED] Hot: GPU 0 at 20°C\n[RESOLVED] Hot: GPU 1 at 20°C\n",
    );
  });

  it("file appends webhook v4 bodies as JSON lines, creating its folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tapline-file-handler-"));
    try {
      const path = join(dir, "nested", "notifications.jsonl");
      const m = createAlertManager({ rules, route: { groupWait: 0 }, handlers: [fileHandler({ path })] });
      m.observe(t(95));
      await wait(30);
      await m.close();
      const lines = (await readFile(path, "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        receiver: "file",
        version: "4",
        status: "firing",
        alerts: [{ labels: { alertname: "Hot", gpu: "0", severity: "critical" } }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("strips resolved alerts for handlers with sendResolved: false", async () => {
    const got: AlertNotification[] = [];
    const m = createAlertManager({
      rules,
      route: { groupWait: 0, groupInterval: 10 },
      handlers: [defineAlertHandler({ name: "h", sendResolved: false, send: (n) => void got.push(n) })],
    });
    m.observe(t(95));
    m.observe(t(95, "1"));
    await wait(30);
    m.observe(t(10)); // gpu 0 resolves: stripped for this handler
    m.observe(t(85, "1")); // gpu 1 de-escalates: a change, sent
    await wait(40);
    await m.close();
    expect(got.map((n) => n.alerts.map((a) => `${a.labels.gpu}:${a.status}:${a.level}`))).toEqual([
      ["0:firing:critical", "1:firing:critical"],
      ["1:firing:warning"],
    ]);
  });

  it("validates handler options at once, with paths and did-you-mean", () => {
    const fails = (fn: () => unknown): AlertConfigError => {
      try {
        fn();
      } catch (error) {
        expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
        return error as AlertConfigError;
      }
      throw new Error("expected an AlertConfigError");
    };
    expect(fails(() => webhookHandler({ url: "not a url with token abc" })).message).toMatch(
      /webhookHandler\(\): invalid options[\s\S]*url: must be an absolute http\(s\) URL .*\(got a string of 24 characters\)/,
    );
    expect(fails(() => webhookHandler({ url: "ftp://x" })).message).toMatch(/http or https/);
    expect(fails(() => alertmanagerForwarder({ url: "::" })).message).toMatch(/absolute http/);
    expect(fails(() => fileHandler({ path: "" })).issues[0]).toMatchObject({ path: "path", value: "" });
    const typo = fails(() => webhookHandler({ url: "http://127.0.0.1/x", retires: 2 } as never));
    expect(typo.issues[0]).toMatchObject({ path: "retires", suggestion: "retries" });
    expect(typo.message).toMatch(/did you mean "retries"/);
    expect(
      fails(() => alertmanagerForwarder({ url: "http://127.0.0.1:9093", resendInterval: 5 } as never))
        .issues[0],
    ).toMatchObject({ path: "resendInterval", suggestion: "resendIntervalMs" });
    expect(fails(() => consoleHandler({ fromat: "json" } as never)).issues[0]).toMatchObject({
      suggestion: "format",
    });
    expect(fails(() => consoleHandler({ format: "yaml" } as never)).issues[0]).toMatchObject({
      path: "format",
      value: "yaml",
    });
    const bad = fails(() => defineAlertHandler({ name: "", send: 1 } as never));
    expect(bad.issues.map((i) => i.path)).toEqual(["name", "send"]);
    expect(fails(() => defineAlertHandler({ name: "x", send() {}, timeoutMs: -1 })).issues[0]).toMatchObject({
      path: "timeoutMs",
      value: -1,
    });
  });

  it("leaves no timer or socket behind after close()", async () => {
    const count = () =>
      process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").length;
    const before = count();
    const m = createAlertManager({
      rules,
      route: { groupWait: "1h" },
      handlers: [
        alertmanagerForwarder({
          url: "http://127.0.0.1:9",
          resendIntervalMs: 50,
          retries: 0,
          timeoutMs: 200,
        }),
        defineAlertHandler({
          name: "hang",
          timeoutMs: 60_000,
          immediate: true,
          send: () => new Promise(() => {}),
        }),
      ],
      closeTimeout: 20,
    });
    m.observe(t(95));
    await wait(50);
    await m.close();
    await wait(20);
    expect(count()).toBeLessThanOrEqual(before);
  });
});
