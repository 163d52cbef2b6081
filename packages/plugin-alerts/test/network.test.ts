import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertHandler,
  type AlertManager,
  alertmanagerForwarder,
  consoleHandler,
  createAlertManager,
  defineAlertHandler,
  webhookHandler,
} from "../src/index.ts";

interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

const servers: Server[] = [];
let manager: AlertManager | undefined;
let dir: string | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A real HTTP server on 127.0.0.1 that records every request and answers with `answer`. */
async function server(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: Hit[] = [];
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { base, hits };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const rules = [
  { name: "Hot", metric: "t", by: ["gpu"], levels: { warning: 80 }, message: "GPU {{labels.gpu}} hot" },
];

async function deliver(handler: AlertHandler): Promise<Error[]> {
  const errors: Error[] = [];
  manager = createAlertManager({
    rules,
    route: { groupWait: 0 },
    handlers: [handler],
    onError: (e) => errors.push(e as Error),
  });
  manager.observe({ name: "t", value: 90, labels: { gpu: "0" }, time: Date.now() });
  await until(() => errors.length > 0 || manager!.summary().handlers[0]!.sent > 0);
  return errors;
}

describe("handlers never follow redirects", () => {
  for (const status of [307, 302]) {
    for (const kind of ["webhookHandler", "alertmanagerForwarder"] as const) {
      it(`${kind}: a ${status} to another host is a failure that says "redirect" and where, and the other host gets nothing`, async () => {
        const other = await server((_req, res) => res.end("ok"));
        const first = await server((_req, res) => {
          res.statusCode = status;
          res.setHeader("location", `${other.base}/steal?token=abc123`);
          res.end();
        });
        const headers = { "X-Scope-OrgID": "tenant-1" };
        const handler =
          kind === "webhookHandler"
            ? webhookHandler({ url: `${first.base}/hook`, headers, retries: 2, backoffMs: 10 })
            : alertmanagerForwarder({ url: first.base, headers, retries: 2, backoffMs: 10 });
        const errors = await deliver(handler);
        expect(errors).toHaveLength(1);
        const message = errors[0]!.message;
        expect(message).toMatch(
          new RegExp(`HTTP ${status}, a redirect to ${other.base.replace(/\./g, "\\.")}`),
        );
        expect(message).not.toContain("abc123");
        expect(message).not.toContain("unreachable");
        expect(first.hits).toHaveLength(1); // not retried: the answer will not change
        expect(other.hits).toEqual([]);
        expect(manager!.summary().handlers[0]).toMatchObject({ sent: 0, failed: 1 });
      });
    }
  }
});

describe("credentials in receiver URLs", () => {
  it("sends user:pass@ as a Basic Authorization header and never puts it in errors", async () => {
    const hook = await server((_req, res) => res.end());
    const url = hook.base.replace("http://", "http://ops%40team:p%3Ass@");
    expect(await deliver(webhookHandler({ url: `${url}/hook`, retries: 0 }))).toEqual([]);
    expect(hook.hits).toHaveLength(1);
    expect(hook.hits[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from("ops@team:p:ss").toString("base64")}`,
    );
    expect(hook.hits[0]!.url).toBe("/hook");
  });

  it("does the same for the Alertmanager forwarder", async () => {
    const am = await server((_req, res) => res.end());
    const url = am.base.replace("http://", "http://am:secret@");
    expect(await deliver(alertmanagerForwarder({ url, retries: 0 }))).toEqual([]);
    expect(am.hits[0]!.url).toBe("/api/v2/alerts");
    expect(am.hits[0]!.headers.authorization).toBe(`Basic ${Buffer.from("am:secret").toString("base64")}`);
  });

  it("rejects credentials together with an Authorization header at configuration", () => {
    try {
      webhookHandler({ url: "http://u:p@127.0.0.1/x", headers: { Authorization: "Bearer t" } });
      expect.unreachable();
    } catch (error) {
      expect(isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
      expect((error as Error).message).toMatch(
        /url: has user:password@ credentials and an Authorization header/,
      );
      expect((error as Error).message).not.toContain("u:p@");
    }
  });
});

describe("secrets never leave the manager", () => {
  it("redacts a handler's failure in summary() and status()", async () => {
    const errors = await deliver(
      defineAlertHandler({
        name: "leaky",
        retries: 0,
        send() {
          throw new Error("upstream said 401 for api_key=sk-live-1234567890abcdef");
        },
      }),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).not.toContain("sk-live-1234567890abcdef");
    expect(manager!.summary().handlers[0]!.lastError).toMatch(/\[redacted\]/);
    expect(JSON.stringify(manager!.status())).not.toContain("sk-live-1234567890abcdef");
  });

  it("redacts alert texts, annotations and labels in history, webhook bodies and console output", async () => {
    const SECRET = "sk-live-1234567890abcdef";
    dir = await mkdtemp(join(tmpdir(), "tapline-alert-secrets-"));
    const hook = await server((_req, res) => res.end());
    const printed: string[] = [];
    manager = createAlertManager({
      dir,
      route: { groupWait: 0 },
      handlers: [
        webhookHandler({ url: `${hook.base}/hook`, retries: 0 }),
        consoleHandler({ write: (l) => void printed.push(l) }),
        consoleHandler({ name: "json", format: "json", write: (l) => void printed.push(l) }),
      ],
    });
    manager.raise({
      rule: "StepFailed",
      level: "error",
      state: "firing",
      labels: { step: "llm", token: "abc-secret-token" },
      message: `step llm failed: 401 invalid api key ${SECRET}`,
      annotations: { error: `Error: key ${SECRET} rejected`, description: "see logs" },
      source: "fake-retry",
    });
    await manager.flush();
    await until(() => hook.hits.length === 1 && printed.length === 2);
    await manager.flush();
    const files = await readdir(join(dir, "alerts"));
    const history = (await Promise.all(files.map((f) => readFile(join(dir!, "alerts", f), "utf8")))).join("");
    const outputs = { history, webhook: hook.hits[0]!.body, console: printed.join("") };
    for (const [where, text] of Object.entries(outputs)) {
      expect(text, where).not.toContain(SECRET);
      expect(text, where).not.toContain("abc-secret-token");
      expect(text, where).toContain("[redacted]");
    }
    expect(JSON.stringify(manager.active())).not.toContain(SECRET);
    expect(JSON.stringify(manager.summary())).not.toContain(SECRET);
    expect(manager.status().message).not.toContain(SECRET);
  });
});
