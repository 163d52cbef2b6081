import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { isTaplineError } from "@tapline/core";
import { emailHandler, pagerDutyHandler, slackHandler } from "@tapline/plugin-alerts/handlers";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertHandler,
  type AlertManager,
  type AlertRuleInput,
  createAlertManager,
} from "../src/index.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Received {
  readonly path: string;
  readonly body: unknown;
}
type Reply = (req: IncomingMessage, body: unknown, res: ServerResponse) => void;

/** A local HTTP receiver on 127.0.0.1 that records each JSON body and answers with `reply`. */
async function serve(reply: Reply): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw) as unknown;
      received.push({ path: req.url ?? "", body });
      reply(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const rule: AlertRuleInput = {
  name: "TtsSlow",
  metric: "tts_seconds",
  by: ["pipeline", "step"],
  levels: { warning: 10, critical: 30 },
  unit: "seconds",
};
function manager(handler: AlertHandler, errors: unknown[] = []): AlertManager {
  const m = createAlertManager({
    rules: [rule],
    handlers: [handler],
    route: { groupWait: 0, groupInterval: 1 },
    onError: (e) => errors.push(e),
  });
  closers.push(() => m.close());
  return m;
}
const observe = (m: AlertManager, value: number) =>
  m.observe({ name: "tts_seconds", value, labels: { pipeline: "story", step: "tts" }, time: Date.now() });
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

// ---- Slack: the documented shape of an incoming-webhook message with Block Kit and attachments ----
// https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks (limits below)
function slackProblems(body: unknown): string[] {
  const p: string[] = [];
  const m = body as { text?: unknown; attachments?: unknown[] };
  if (typeof m.text !== "string" || m.text.length === 0 || m.text.length > 3000) p.push("text");
  if (!Array.isArray(m.attachments) || m.attachments.length === 0) return [...p, "attachments"];
  let blocks = 0;
  for (const a of m.attachments as { color?: string; blocks?: Record<string, unknown>[] }[]) {
    if (!/^#[0-9a-f]{6}$/i.test(a.color ?? "")) p.push(`color ${a.color}`);
    for (const b of a.blocks ?? []) {
      blocks++;
      const text = b.text as { type: string; text: string } | undefined;
      if (b.type === "header" && (text?.type !== "plain_text" || text.text.length > 150)) p.push("header");
      if (b.type === "section") {
        if (!text || !["mrkdwn", "plain_text"].includes(text.type) || text.text.length > 3000)
          p.push("section");
        const fields = (b.fields ?? []) as { text: string }[];
        if (fields.length > 10 || fields.some((f) => f.text.length > 2000)) p.push("fields");
      }
      if (b.type === "actions")
        for (const e of b.elements as { type: string; url: string; text: { type: string } }[])
          if (e.type !== "button" || e.text.type !== "plain_text" || !/^https?:\/\//.test(e.url))
            p.push("button");
      if (!["header", "section", "context", "actions", "divider"].includes(b.type as string))
        p.push(`type ${b.type}`);
    }
  }
  if (blocks > 50) p.push("more than 50 blocks");
  return p;
}

describe("slackHandler", () => {
  const SECRET = "/services/T000/B000/XXXXSECRETXXXX";

  it("posts a Block Kit message with the level colour, labels, value and link; a resolve follows up on it", async () => {
    const slack = await serve((_q, body, res) => {
      const problems = slackProblems(body);
      res.writeHead(problems.length ? 400 : 200).end(problems.length ? "invalid_blocks" : "ok");
    });
    const m = manager(
      slackHandler({ url: slack.url + SECRET, link: "https://dash.example.com/a?fp={{fingerprint}}" }),
    );
    observe(m, 42);
    await until(() => slack.received.length === 1);
    const fired = slack.received[0]!.body as {
      text: string;
      attachments: {
        color: string;
        blocks: {
          type: string;
          text?: { text: string };
          fields?: { text: string }[];
          elements?: { url?: string; text: string }[];
        }[];
      }[];
    };
    expect(slackProblems(fired)).toEqual([]);
    expect(slack.received[0]!.path).toBe(SECRET);
    expect(fired.text).toMatch(/^\[FIRING:1\] critical TtsSlow/);
    const [a] = fired.attachments;
    expect(a!.color).toBe("#8b0000");
    const section = a!.blocks.find((b) => b.type === "section")!;
    expect(section.fields!.map((f) => f.text)).toEqual(
      expect.arrayContaining(["*Value*\n42", "*pipeline*\nstory", "*step*\ntts", "*severity*\ncritical"]),
    );
    const fp = m.active()[0]!.fingerprint;
    expect(a!.blocks.find((b) => b.type === "actions")!.elements![0]!.url).toBe(
      `https://dash.example.com/a?fp=${fp}`,
    );
    observe(m, 1);
    await until(() => slack.received.length === 2);
    const resolved = slack.received[1]!.body as typeof fired;
    expect(slackProblems(resolved)).toEqual([]);
    expect(resolved.text).toMatch(/^\[RESOLVED\] TtsSlow/);
    expect(resolved.attachments[0]!.color).toBe("#2eb67d");
    expect(JSON.stringify(resolved)).toContain(fp); // the same alert, by fingerprint
  });

  it("retries a 500, gives up on a 4xx at once, and never names the webhook's secret path", async () => {
    let calls = 0;
    const slack = await serve((_q, _b, res) => {
      calls++;
      if (calls === 1) res.writeHead(500).end("internal_error");
      else if (calls === 2) res.writeHead(200).end("ok");
      else res.writeHead(404).end(`no_service ${SECRET}`);
    });
    const errors: unknown[] = [];
    const m = manager(slackHandler({ url: slack.url + SECRET, backoffMs: 1 }), errors);
    observe(m, 42);
    await until(() => calls === 2 && m.summary().handlers[0]?.sent === 1);
    expect(m.summary().handlers[0]).toMatchObject({ sent: 1, retries: 1 });
    observe(m, 1);
    await until(() => errors.length === 1);
    expect(calls).toBe(3); // a 404 is not retried
    const text = `${String(errors[0])} ${JSON.stringify(m.summary())} ${JSON.stringify(m.history())}`;
    expect(text).toContain("404");
    expect(text).not.toContain("SECRET");
  });

  it("times out a receiver that never answers", async () => {
    const slack = await serve(() => {}); // never replies
    const errors: unknown[] = [];
    const m = manager(slackHandler({ url: slack.url + SECRET, timeoutMs: 100, retries: 0 }), errors);
    observe(m, 42);
    await until(() => errors.length === 1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT")).toBe(true);
  });

  it("has strict options and never echoes the URL in a config error", () => {
    expect(() => slackHandler({ url: "not a url/XXXXSECRETXXXX", maxAlert: 3 } as never)).toThrow(
      /maxAlert.*did you mean "maxAlerts"/s,
    );
    try {
      slackHandler({ url: "ftp://hooks.example.com/XXXXSECRETXXXX" });
    } catch (e) {
      expect(isTaplineError(e, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
      expect(JSON.stringify({ m: String(e), i: (e as { issues: unknown }).issues })).not.toContain("SECRET");
    }
  });
});

// ---- PagerDuty Events API v2: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ ----
const KEY = "R0UTINGKEY0000000000000000000001"; // 32 characters
function pagerDutyProblems(body: unknown, known: readonly string[]): string[] {
  const e = body as Record<string, unknown> & { payload?: Record<string, unknown> };
  const p: string[] = [];
  if (typeof e.routing_key !== "string" || e.routing_key.length !== 32)
    p.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  else if (!known.includes(e.routing_key)) p.push("Invalid routing key");
  if (!["trigger", "acknowledge", "resolve"].includes(e.event_action as string)) p.push("event_action");
  if (e.event_action !== "trigger" && typeof e.dedup_key !== "string") p.push("dedup_key required");
  if (typeof e.dedup_key === "string" && e.dedup_key.length > 255) p.push("dedup_key too long");
  if (e.event_action === "trigger") {
    const pl = e.payload;
    if (!pl) return [...p, "payload required"];
    if (typeof pl.summary !== "string" || pl.summary.length > 1024) p.push("payload.summary");
    if (typeof pl.source !== "string" || pl.source === "") p.push("payload.source");
    if (!["critical", "error", "warning", "info"].includes(pl.severity as string)) p.push("payload.severity");
    if (pl.timestamp !== undefined && Number.isNaN(Date.parse(pl.timestamp as string)))
      p.push("payload.timestamp");
  }
  return p;
}

describe("pagerDutyHandler", () => {
  async function pagerDuty(known = [KEY]) {
    return serve((_q, body, res) => {
      const errors = pagerDutyProblems(body, known);
      const ok = errors.length === 0;
      res.writeHead(ok ? 202 : 400, { "content-type": "application/json" }).end(
        JSON.stringify(
          ok
            ? {
                status: "success",
                message: "Event processed",
                dedup_key: (body as { dedup_key?: string }).dedup_key,
              }
            : { status: "invalid event", message: "Event object is invalid", errors },
        ),
      );
    });
  }

  it("triggers and resolves with dedup_key = the fingerprint; severities mapped; a level change closes the old incident", async () => {
    const pd = await pagerDuty();
    const m = manager(
      pagerDutyHandler({
        routingKey: KEY,
        url: `${pd.url}/v2/enqueue`,
        severities: { warning: "info" },
        source: "worker-1",
      }),
    );
    observe(m, 12); // warning
    await until(() => pd.received.length === 1);
    const warnFp = m.active()[0]!.fingerprint;
    expect(pd.received[0]).toMatchObject({
      path: "/v2/enqueue",
      body: {
        routing_key: KEY,
        event_action: "trigger",
        dedup_key: warnFp,
        payload: { severity: "info", source: "worker-1", component: "tts", group: "story", class: "TtsSlow" },
      },
    });
    observe(m, 40); // critical: a new fingerprint (severity is a label)
    await until(() => pd.received.length === 3);
    const critFp = m.active()[0]!.fingerprint;
    expect(pd.received.slice(1).map((r) => r.body)).toMatchObject([
      { event_action: "resolve", dedup_key: warnFp },
      { event_action: "trigger", dedup_key: critFp, payload: { severity: "critical" } },
    ]);
    observe(m, 1);
    await until(() => pd.received.length === 4);
    expect(pd.received[3]!.body).toEqual({ routing_key: KEY, event_action: "resolve", dedup_key: critFp });
    for (const r of pd.received) expect(pagerDutyProblems(r.body, [KEY])).toEqual([]);
  });

  it("a bad routing key is a 400 that is not retried, and the key never reaches errors or counters", async () => {
    const pd = await pagerDuty([]); // the service knows no key
    const errors: unknown[] = [];
    const m = manager(
      pagerDutyHandler({ routingKey: KEY, url: `${pd.url}/v2/enqueue`, backoffMs: 1 }),
      errors,
    );
    observe(m, 12);
    await until(() => errors.length === 1);
    expect(pd.received).toHaveLength(1);
    const text = `${String(errors[0])} ${JSON.stringify((errors[0] as Error).cause ?? "")} ${JSON.stringify(m.summary())}`;
    expect(text).toContain("HTTP 400");
    expect(text).toContain("Invalid routing key");
    expect(text).not.toContain(KEY);
    expect(() => pagerDutyHandler({ routingKey: "short-KEY-123" })).toThrow(
      /routingKey: expected the integration's 32-character routing key/,
    );
    try {
      pagerDutyHandler({ routingKey: "short-KEY-123" });
    } catch (e) {
      expect(JSON.stringify({ m: String(e), i: (e as { issues: unknown }).issues })).not.toContain(
        "short-KEY-123",
      );
    }
  });

  it("times out an Events API that never answers", async () => {
    const pd = await serve(() => {});
    const errors: unknown[] = [];
    const m = manager(
      pagerDutyHandler({ routingKey: KEY, url: `${pd.url}/v2/enqueue`, timeoutMs: 100, retries: 0 }),
      errors,
    );
    observe(m, 12);
    await until(() => errors.length === 1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT")).toBe(true);
  });

  it("retries a 500 and a 429", async () => {
    let calls = 0;
    const pd = await serve((_q, _b, res) => {
      calls++;
      res.writeHead(calls === 1 ? 500 : calls === 2 ? 429 : 202).end("{}");
    });
    const m = manager(pagerDutyHandler({ routingKey: KEY, url: `${pd.url}/v2/enqueue`, backoffMs: 1 }));
    observe(m, 12);
    await until(() => m.summary().handlers[0]!.sent === 1);
    expect(calls).toBe(3);
  });
});

// ---- Email over SMTP, against a local smtp-server (STARTTLS off) ----
interface Mail {
  from: string;
  to: string[];
  raw: string;
}
async function smtp(options: { refuse?: string; password?: string } = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: options.password ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    allowInsecureAuth: true,
    authOptional: !options.password,
    logger: false,
    onAuth(auth, _s, cb) {
      if (auth.username === "alerts" && auth.password === options.password) cb(null, { user: "alerts" });
      else cb(Object.assign(new Error("Authentication failed"), { responseCode: 535 }));
    },
    onRcptTo(address, _s, cb) {
      if (options.refuse && address.address === options.refuse)
        cb(Object.assign(new Error("5.1.1 mailbox unavailable"), { responseCode: 550 }));
      else cb();
    },
    onData(stream, session, cb) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

describe("emailHandler", () => {
  it("sends one email per notification, plain text and HTML, to every recipient", async () => {
    const server = await smtp();
    const m = manager(
      emailHandler({
        host: "127.0.0.1",
        port: server.port,
        starttls: "off",
        from: "Tapline <alerts@example.com>",
        to: ["ops@example.com", "dev@example.com"],
      }),
    );
    observe(m, 42);
    await until(() => server.mails.length === 1);
    const [mail] = server.mails;
    expect(mail!.from).toBe("alerts@example.com");
    expect(mail!.to).toEqual(["ops@example.com", "dev@example.com"]);
    expect(mail!.raw).toMatch(/^Subject: \[tapline\] \[FIRING:1\] critical TtsSlow/m);
    expect(mail!.raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(mail!.raw).toMatch(/Content-Type: text\/plain/);
    expect(mail!.raw).toMatch(/Content-Type: text\/html/);
    expect(mail!.raw).toContain("CRITICAL TtsSlow");
    expect(mail!.raw).toContain("pipeline=story, step=tts");
  });

  it("an SMTP refusal (550) is not retried and names the reply; a bad password is not retried nor shown", async () => {
    const server = await smtp({ refuse: "gone@example.com", password: "s3cret-Passw0rd" });
    const errors: unknown[] = [];
    const m = manager(
      emailHandler({
        host: "127.0.0.1",
        port: server.port,
        starttls: "off",
        auth: { user: "alerts", pass: "s3cret-Passw0rd" },
        from: "alerts@example.com",
        to: "gone@example.com",
        backoffMs: 1,
      }),
      errors,
    );
    observe(m, 42);
    await until(() => errors.length === 1 && m.summary().handlers[0]?.failed === 1);
    expect(String(errors[0])).toMatch(
      /email smtp:\/\/127\.0\.0\.1:\d+ refused the message: 550 5\.1\.1 mailbox unavailable/,
    );
    expect(m.summary().handlers[0]).toMatchObject({ failed: 1, retries: 0 });

    const badLogin: unknown[] = [];
    const m2 = manager(
      emailHandler({
        host: "127.0.0.1",
        port: server.port,
        starttls: "off",
        auth: { user: "alerts", pass: "wrong-Passw0rd" },
        from: "alerts@example.com",
        to: "ops@example.com",
        backoffMs: 1,
      }),
      badLogin,
    );
    observe(m2, 42);
    await until(() => badLogin.length === 1);
    const text = `${String(badLogin[0])} ${JSON.stringify(m2.summary())}`;
    expect(text).toMatch(/rejected the login/);
    expect(text).not.toContain("wrong-Passw0rd");
    expect(m2.summary().handlers[0]).toMatchObject({ retries: 0 });
  });

  it("times out a server that never greets", async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => void sockets.push(s)); // accepts, says nothing
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    closers.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          silent.close(() => r());
        }),
    );
    const errors: unknown[] = [];
    const port = (silent.address() as AddressInfo).port;
    const m = manager(
      emailHandler({
        host: "127.0.0.1",
        port,
        starttls: "off",
        from: "a@example.com",
        to: "b@example.com",
        timeoutMs: 150,
        retries: 0,
      }),
      errors,
    );
    observe(m, 42);
    await until(() => errors.length === 1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT")).toBe(true);
  });

  it("strict options, with the password never echoed", () => {
    expect(() => emailHandler({ host: "h", from: "a@b.c", to: "x@y.z", startTls: "off" } as never)).toThrow(
      /startTls.*did you mean "starttls"/s,
    );
    try {
      emailHandler({ host: "h", from: "a@b.c", to: "x@y.z", auth: { user: "u", pass: 12345678 as never } });
    } catch (e) {
      expect(JSON.stringify({ m: String(e), i: (e as { issues: unknown }).issues })).not.toContain(
        "12345678",
      );
    }
  });
});
