import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isTaplineError } from "@tapline/core";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookV4Payload } from "../src/formats.ts";
import { type AlertManager, createAlertManager, webhookHandler } from "../src/index.ts";

interface Received {
  headers: IncomingMessage["headers"];
  raw: string;
  body: WebhookV4Payload;
  at: number;
}

let server: Server | undefined;
let manager: AlertManager | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A real HTTP server on 127.0.0.1:0 whose behaviour per request is scripted. */
async function receiver(
  behave: (n: number, res: ServerResponse) => void,
): Promise<{ url: string; got: Received[]; hits: () => number }> {
  const got: Received[] = [];
  let n = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      n++;
      const raw = Buffer.concat(chunks).toString("utf8");
      got.push({ headers: req.headers, raw, body: JSON.parse(raw) as WebhookV4Payload, at: Date.now() });
      behave(n, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/SECRET-TOKEN?key=hunter2`, got, hits: () => n };
}

function fire(m: AlertManager, value = 0.97) {
  m.observe({ name: "tapline_system_disk_used_ratio", value, labels: { mount: "/data" }, time: Date.now() });
}
const rules = [
  {
    name: "DiskAlmostFull",
    metric: "tapline_system_disk_used_ratio",
    by: ["mount"],
    levels: { warning: 0.85, critical: 0.95 },
    unit: "ratio",
    message: "disk {{labels.mount}} {{value}} full",
  },
];

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("webhook handler against a real HTTP server", () => {
  it("posts Alertmanager webhook v4 JSON, signed with HMAC-SHA256, then the resolved notification", async () => {
    const { url, got } = await receiver((_, res) => res.end());
    manager = createAlertManager({
      rules,
      route: { groupWait: 0, groupInterval: 50 },
      handlers: [webhookHandler({ url, secret: "s3cret", name: "ops" })],
    });
    fire(manager);
    await until(() => got.length === 1);
    const first = got[0]!;
    const expected = createHmac("sha256", "s3cret").update(first.raw).digest("hex");
    expect(first.headers["x-tapline-signature-256"]).toBe(`sha256=${expected}`);
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.body).toMatchObject({
      receiver: "ops",
      status: "firing",
      version: "4",
      groupKey: '{}:{alertname="DiskAlmostFull"}',
      groupLabels: { alertname: "DiskAlmostFull" },
      commonLabels: { alertname: "DiskAlmostFull", mount: "/data", severity: "critical" },
      truncatedAlerts: 0,
    });
    const alert = first.body.alerts[0]!;
    expect(alert).toMatchObject({
      status: "firing",
      endsAt: "0001-01-01T00:00:00Z",
      annotations: { summary: "disk /data 97% full" },
    });
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(Date.parse(alert.startsAt)).toBeGreaterThan(0);
    fire(manager, 0.1);
    await until(() => got.length === 2);
    expect(got[1]!.body.status).toBe("resolved");
    expect(got[1]!.body.alerts[0]!.endsAt).not.toBe("0001-01-01T00:00:00Z");
  });

  it("retries after HTTP 500s with backoff and delivers", async () => {
    const { url, got } = await receiver((n, res) => {
      res.statusCode = n <= 2 ? 500 : 200;
      res.end(n <= 2 ? "try later" : "");
    });
    const errors: unknown[] = [];
    manager = createAlertManager({
      rules,
      route: { groupWait: 0 },
      onError: (e) => errors.push(e),
      handlers: [webhookHandler({ url, retries: 3, backoffMs: 50 })],
    });
    fire(manager);
    await until(() => manager!.summary().handlers[0]!.sent === 1);
    expect(got).toHaveLength(3);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(20); // backed off
    expect(manager.summary().handlers[0]).toMatchObject({ sent: 1, retries: 2, failed: 0 });
    expect(errors).toEqual([]);
  });

  it("gives up on a receiver that hangs past the timeout, reports it without the URL's secrets, and never blocks observe()", async () => {
    const { url, hits } = await receiver(() => {
      /* never answers */
    });
    const errors: unknown[] = [];
    manager = createAlertManager({
      rules,
      route: { groupWait: 0 },
      onError: (e) => errors.push(e),
      handlers: [
        webhookHandler({
          url,
          timeoutMs: 150,
          retries: 1,
          backoffMs: 10,
          headers: { authorization: "Bearer tok-123" },
        }),
      ],
    });
    const t0 = performance.now();
    fire(manager);
    const observeMs = performance.now() - t0;
    expect(observeMs).toBeLessThan(20);
    await until(() => errors.length === 1);
    expect(hits()).toBe(2);
    const error = errors[0]!;
    expect(isTaplineError(error, ["TAPLINE_ERR_ALERTS_HANDLER", "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT"])).toBe(
      true,
    );
    expect(error).toMatchObject({ code: "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT", attempts: 2 });
    const text = `${(error as Error).message} ${String((error as Error).cause)}`;
    for (const secret of ["SECRET-TOKEN", "hunter2", "tok-123"]) expect(text).not.toContain(secret);
  });

  it("waits for a slow receiver within the timeout", async () => {
    const { url, got } = await receiver((_, res) => setTimeout(() => res.end(), 300));
    manager = createAlertManager({
      rules,
      route: { groupWait: 0 },
      handlers: [webhookHandler({ url, timeoutMs: 2000, retries: 0 })],
    });
    fire(manager);
    await until(() => manager!.summary().handlers[0]!.sent === 1);
    expect(got).toHaveLength(1);
    expect(manager.summary().handlers[0]!.failed).toBe(0);
  });

  it("does not retry a 400 and names only the host in the error", async () => {
    const { url, hits } = await receiver((_, res) => {
      res.statusCode = 400;
      res.end("bad payload");
    });
    const errors: Error[] = [];
    manager = createAlertManager({
      rules,
      route: { groupWait: 0 },
      onError: (e) => errors.push(e as Error),
      handlers: [webhookHandler({ url, retries: 3, backoffMs: 10 })],
    });
    fire(manager);
    await until(() => errors.length === 1);
    expect(hits()).toBe(1);
    expect(errors[0]!.message).toMatch(/webhook http:\/\/127\.0\.0\.1:\d+\/… answered HTTP 400: bad payload/);
    expect(errors[0]!.message).not.toContain("SECRET-TOKEN");
  });
});
