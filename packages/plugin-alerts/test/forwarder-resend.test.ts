import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createTapline, definePlugin, isTaplineError, type PluginErrorEvent } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it } from "vitest";
import { type AlertHandlerError, alertmanagerForwarder, alerts, createAlertManager } from "../src/index.ts";

/**
 * A stand-in Alertmanager on 127.0.0.1:0: answers the first POST (the forwarded transition) with 200, then
 * whatever `mode` says for the background re-sends.
 */
interface Receiver {
  readonly url: string;
  readonly posts: { path: string; time: number; alerts: { labels: Record<string, string> }[] }[];
  mode: "ok" | "fail" | "hang";
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function receiver(initial: Receiver["mode"]): Promise<Receiver> {
  const r: { posts: Receiver["posts"]; mode: Receiver["mode"]; url: string } = {
    posts: [],
    mode: initial,
    url: "",
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c;
    });
    req.on("end", () => {
      const first = r.posts.length === 0;
      r.posts.push({ path: req.url ?? "", time: Date.now(), alerts: JSON.parse(raw) });
      if (first || r.mode === "ok") res.writeHead(200).end();
      else if (r.mode === "fail") res.writeHead(500, { "content-type": "text/plain" }).end("boom");
      // "hang": never answer
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  // A secret in the path must never show up in an error.
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tok-s3cret/`;
  return r;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting for a condition");
    await wait(10);
  }
}

const rules = [
  { name: "Hot", metric: "temp", by: ["gpu"], levels: { warning: 80 }, message: "GPU {{labels.gpu}}" },
];

describe("Alertmanager forwarder re-sends against a real HTTP server", () => {
  it("counts and reports a failing re-send like any failed notification, and stops at close()", async () => {
    const am = await receiver("fail");
    const errors: unknown[] = [];
    const metrics: string[] = [];
    const resendErrors: unknown[] = [];
    const m = createAlertManager({
      rules,
      handlers: [
        alertmanagerForwarder({
          url: am.url,
          resendIntervalMs: 60,
          retries: 0,
          headers: { authorization: "Bearer s3cret" },
          onResendError: (e) => resendErrors.push(e),
        }),
      ],
      onError: (e) => errors.push(e),
      onMetric: (name, _v, l) => metrics.push(`${name}{${l.handler},${l.outcome}}`),
    });
    m.observe({ name: "temp", value: 95, labels: { gpu: "0" }, time: Date.now() });
    await until(() => errors.length >= 2);
    const error = errors[0] as AlertHandlerError;
    expect(isTaplineError(error, ["TAPLINE_ERR_ALERTS_HANDLER", "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT"])).toBe(
      true,
    );
    expect(error.code).toBe("TAPLINE_ERR_ALERTS_HANDLER");
    expect(error.handler).toBe("alertmanager");
    expect(error.message).toMatch(
      /^alert handler "alertmanager" failed after 1 attempt: re-sending 1 active alert failed: /,
    );
    expect(error.message).toMatch(/500/);
    expect(JSON.stringify(errors.map((e) => (e as Error).message))).not.toMatch(/s3cret/);
    expect(resendErrors.length).toBeGreaterThanOrEqual(2); // the option is still called too
    expect(metrics[0]).toBe("tapline_alert_notifications_total{alertmanager,sent}");
    expect(metrics.filter((x) => x === "tapline_alert_notifications_total{alertmanager,failed}").length).toBe(
      errors.length,
    );
    const stats = m.summary().handlers.find((h) => h.name === "alertmanager")!;
    expect(stats.sent).toBe(1);
    expect(stats.failed).toBe(errors.length);
    expect(stats.lastError).toMatch(/re-sending/);
    expect(am.posts.length).toBeGreaterThanOrEqual(3);
    expect(am.posts.every((p) => p.path === "/tok-s3cret/api/v2/alerts")).toBe(true);
    expect(am.posts.at(-1)!.alerts[0]!.labels).toMatchObject({
      alertname: "Hot",
      gpu: "0",
      severity: "warning",
    });

    // Once the receiver is back, re-sends succeed and nothing more is reported.
    am.mode = "ok";
    const posts = am.posts.length;
    await until(() => am.posts.length >= posts + 2);
    const reported = errors.length;
    await wait(150);
    expect(errors.length).toBeLessThanOrEqual(reported + 1); // at most one re-send was in flight at the switch
    await m.close();
    const after = am.posts.length;
    await wait(150);
    expect(am.posts.length).toBe(after);
  });

  it("reports a re-send that hangs past timeoutMs with the timeout code", async () => {
    const am = await receiver("hang");
    const errors: unknown[] = [];
    const m = createAlertManager({
      rules,
      handlers: [alertmanagerForwarder({ url: am.url, resendIntervalMs: 50, timeoutMs: 120, retries: 0 })],
      onError: (e) => errors.push(e),
    });
    m.observe({ name: "temp", value: 95, labels: { gpu: "0" }, time: Date.now() });
    await until(() => errors.length >= 1);
    const error = errors[0] as AlertHandlerError;
    expect(error.code).toBe("TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT");
    expect(error.message).toMatch(/did not finish within 120 ms/);
    await m.close(); // aborts the hanging re-sends: close must not wait for them, nor report them
    const reported = errors.length;
    await wait(200);
    expect(errors.length).toBe(reported);
  });

  it("reaches core's pluginError and the metric hook when running as a plugin", async () => {
    const am = await receiver("fail");
    const errors: PluginErrorEvent[] = [];
    const metrics: string[] = [];
    const spy = definePlugin({
      name: "spy",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.pluginError.tap("spy", (e) => void errors.push(e));
        api.hooks.metric.tap("spy", (s) => {
          if (s.name === "tapline_alert_notifications_total")
            metrics.push(`${s.labels.handler},${s.labels.outcome}`);
        });
      },
    });
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        spy(),
        alerts({
          rules,
          persist: false,
          handlers: [alertmanagerForwarder({ url: am.url, resendIntervalMs: 50, retries: 0 })],
        }),
      ],
    });
    try {
      const p = app
        .pipeline("gpu")
        .step("probe", (_input, ctx) => {
          ctx.metric("temp", 95, { gpu: "1" });
          return "ok";
        })
        .build();
      expect((await p.run(undefined)).status).toBe("success");
      await until(() => errors.length >= 1);
      const event = errors[0]!;
      expect(event.error.plugin).toBe("@tapline/plugin-alerts");
      expect(event.error.hook).toBe("handler:alertmanager");
      expect(
        isTaplineError(event.error.cause, [
          "TAPLINE_ERR_ALERTS_HANDLER",
          "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT",
        ]),
      ).toBe(true);
      expect(event.error.message).toMatch(/re-sending 1 active alert failed: .*500/);
      expect(event.error.message).not.toMatch(/s3cret/);
      expect(metrics).toContain("alertmanager,sent");
      expect(metrics).toContain("alertmanager,failed");
    } finally {
      await app.close();
    }
  });
});
