import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AlertManager,
  alertmanagerForwarder,
  createAlertManager,
  type WebhookV4Payload,
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
});
