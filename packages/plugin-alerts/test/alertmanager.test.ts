import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint, type WebhookV4Payload } from "../src/formats.ts";
import {
  type AlertManager,
  type AlertNotification,
  alertmanagerForwarder,
  createAlertManager,
  defineAlertHandler,
  readAlertHistory,
  webhookHandler,
} from "../src/index.ts";

const BIN = process.env.ALERTMANAGER_PATH ?? "/usr/bin/prometheus-alertmanager";
const present = existsSync(BIN);
const required = process.env.TAPLINE_REQUIRE_INTEGRATION === "1";
if (!present && required)
  throw new Error(
    `${BIN} is missing (apt-get install prometheus-alertmanager) and TAPLINE_REQUIRE_INTEGRATION=1`,
  );

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: string };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function until<T>(fn: () => Promise<T | undefined>, ms = 15_000, what = "condition"): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!present)(`a real Alertmanager (${BIN})`, () => {
  let dir: string;
  let am: ResultPromise | undefined;
  let base: string;
  let hook: Server;
  const webhooks: WebhookV4Payload[] = [];
  let manager: AlertManager | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline am '"));
    hook = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        webhooks.push(JSON.parse(raw) as WebhookV4Payload);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    const hookPort = (hook.address() as AddressInfo).port;
    const config = join(dir, "alertmanager.yml");
    await writeFile(
      config,
      [
        "route:",
        "  receiver: hook",
        "  group_by: [alertname]",
        "  group_wait: 200ms",
        "  group_interval: 500ms",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: hook",
        "    webhook_configs:",
        `      - url: http://127.0.0.1:${hookPort}/am`,
        "        send_resolved: true",
        "",
      ].join("\n"),
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    am = execa(
      BIN,
      [
        `--config.file=${config}`,
        `--storage.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
        "--log.level=warn",
      ],
      {
        reject: false,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    await until(
      async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined),
      15_000,
      "Alertmanager to be ready",
    );
  });

  afterAll(async () => {
    await manager?.close();
    if (am?.pid) process.kill(am.pid, "SIGTERM");
    await am;
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const amAlerts = async (): Promise<AmAlert[]> =>
    (await (await fetch(`${base}/api/v2/alerts?filter=alertname%3D%22GpuHot%22`)).json()) as AmAlert[];

  it("receives forwarded alerts, keeps them alive by re-sending, follows escalation and sees them resolved", async () => {
    manager = createAlertManager({
      rules: [
        {
          name: "GpuHot",
          metric: "nvidia_gpu_temperature_celsius",
          by: ["gpu"],
          levels: { warning: { threshold: 83, clear: 78 }, critical: 90 },
          unit: "celsius",
          message: "GPU {{labels.gpu}} at {{value}}",
        },
      ],
      handlers: [
        alertmanagerForwarder({ url: base, resendIntervalMs: 400, generatorURL: "http://127.0.0.1/runs/42" }),
      ],
    });
    const temp = (value: number) =>
      manager!.observe({
        name: "nvidia_gpu_temperature_celsius",
        value,
        labels: { gpu: "0" },
        time: Date.now(),
      });

    temp(85);
    const firing = await until(
      async () =>
        (await amAlerts()).find((a) => a.labels.severity === "warning" && a.status.state === "active"),
      10_000,
      "the warning in Alertmanager",
    );
    expect(firing.labels).toEqual({ alertname: "GpuHot", gpu: "0", severity: "warning" });
    expect(firing.annotations.summary).toBe("GPU 0 at 85°C");
    const firstEnd = Date.parse(firing.endsAt);
    expect(firstEnd - Date.now()).toBeGreaterThan(800); // endsAt = now + 4 × resend interval
    // the forwarder re-sends before expiry: endsAt moves forward
    await until(
      async () => ((await amAlerts()).some((a) => Date.parse(a.endsAt) > firstEnd) ? true : undefined),
      5_000,
      "a re-send",
    );

    temp(95); // escalation: the warning label set is resolved, the critical one appears
    await until(
      async () => {
        const list = await amAlerts();
        const crit = list.find((a) => a.labels.severity === "critical" && a.status.state === "active");
        const warnGone = !list.some(
          (a) => a.labels.severity === "warning" && Date.parse(a.endsAt) > Date.now(),
        );
        return crit && warnGone ? true : undefined;
      },
      10_000,
      "escalation to critical",
    );

    temp(50);
    await until(
      async () => ((await amAlerts()).every((a) => Date.parse(a.endsAt) <= Date.now()) ? true : undefined),
      10_000,
      "resolution",
    );
    // Alertmanager's own webhook saw the firing and the resolved notifications of what we forwarded
    const resolved = await until(
      async () =>
        webhooks.find(
          (w) => w.status === "resolved" && w.alerts.some((a) => a.labels.severity === "critical"),
        ),
      15_000,
      "Alertmanager's resolved webhook",
    );
    expect(resolved.alerts.every((a) => a.status === "resolved")).toBe(true);
    expect(webhooks.some((w) => w.status === "firing" && w.alerts[0]!.labels.alertname === "GpuHot")).toBe(
      true,
    );
    // our v4 wire shape matches the real one key for key
    expect(Object.keys(resolved).sort()).toEqual([
      "alerts",
      "commonAnnotations",
      "commonLabels",
      "externalURL",
      "groupKey",
      "groupLabels",
      "receiver",
      "status",
      "truncatedAlerts",
      "version",
    ]);
    expect(resolved.alerts[0]!.generatorURL).toBe("http://127.0.0.1/runs/42");
  });

  it("gives an alert one fingerprint everywhere, equal to the one Alertmanager computes", async () => {
    const bodies: WebhookV4Payload[] = [];
    const ours = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        bodies.push(JSON.parse(raw) as WebhookV4Payload);
        res.end();
      });
    });
    await new Promise<void>((r) => ours.listen(0, "127.0.0.1", r));
    const seen: AlertNotification[] = [];
    const historyDir = join(dir, "history");
    const m = createAlertManager({
      dir: historyDir,
      route: { groupWait: 0, groupInterval: 50 },
      rules: [
        {
          name: "FpCheck",
          metric: "queue_depth",
          by: ["queue", "region"],
          scope: "run",
          labels: { team: "media" },
          levels: { warning: 10, critical: 100 },
        },
      ],
      handlers: [
        alertmanagerForwarder({ url: base, resendIntervalMs: 60_000 }),
        webhookHandler({ url: `http://127.0.0.1:${(ours.address() as AddressInfo).port}/hook` }),
        defineAlertHandler({ name: "api", send: (n) => void seen.push(n) }),
      ],
    });
    try {
      const depth = (value: number) =>
        m.observe({
          name: "queue_depth",
          value,
          labels: { queue: "tts", region: "eu-1", pod: "a" },
          time: Date.now(),
          runId: "run-7",
        });
      const inAm = async (severity: string) =>
        (
          (await (await fetch(`${base}/api/v2/alerts?filter=alertname%3D%22FpCheck%22`)).json()) as AmAlert[]
        ).find((a) => a.labels.severity === severity && a.status.state === "active");
      for (const [value, severity] of [
        [50, "warning"],
        [500, "critical"],
      ] as const) {
        depth(value);
        const am = await until(() => inAm(severity), 10_000, `the ${severity} alert in Alertmanager`);
        await until(
          async () =>
            bodies.some((b) => b.alerts.some((a) => a.labels.severity === severity)) ? true : undefined,
          5_000,
          "our webhook body",
        );
        await m.flush();
        const active = m.active();
        expect(active).toHaveLength(1);
        const fp = active[0]!.fingerprint;
        // Alertmanager's fingerprint of the label set it received (severity and run_id included)
        expect(am.labels).toEqual({
          alertname: "FpCheck",
          queue: "tts",
          region: "eu-1",
          team: "media",
          severity,
          run_id: "run-7",
        });
        expect(fp).toBe(am.fingerprint);
        expect(fingerprint(am.labels)).toBe(am.fingerprint);
        // the same value in summary, history (memory and file), the handler API and both webhook bodies
        expect(m.summary().firing[0]!.fingerprint).toBe(fp);
        expect(m.history().at(-1)!.fingerprint).toBe(fp);
        const onDisk = await readAlertHistory(historyDir);
        expect(onDisk.at(-1)!.fingerprint).toBe(fp);
        expect(seen.at(-1)!.alerts.find((a) => a.status === "firing")!.fingerprint).toBe(fp);
        expect(
          bodies
            .flatMap((b) => b.alerts)
            .filter((a) => a.labels.severity === severity)
            .map((a) => a.fingerprint),
        ).toContain(fp);
        const fromAm = await until(
          async () =>
            webhooks
              .flatMap((w) => w.alerts)
              .find((a) => a.labels.alertname === "FpCheck" && a.labels.severity === severity),
          10_000,
          "Alertmanager's own webhook",
        );
        expect(fromAm.fingerprint).toBe(fp);
      }
      // readAlertHistory({ active }) follows the instance across the level change
      const stillActive = await readAlertHistory(historyDir, { active: true });
      expect(stillActive.map((e) => e.level)).toEqual(["critical"]);
    } finally {
      await m.close();
      ours.closeAllConnections();
      await new Promise((r) => ours.close(r));
    }
  });
});
