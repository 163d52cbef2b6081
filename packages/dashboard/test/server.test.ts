import { appendFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import { type Dashboard, serveDashboard } from "../src/index.ts";

/** A raw GET (no URL normalisation by fetch: `../` and encoded variants reach the server as written). */
function raw(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
        if (res.headers["content-type"]?.startsWith("text/event-stream")) req.destroy();
      });
      res.on("end", () => ok({ status: res.statusCode ?? 0, body }));
      res.on("close", () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("serveDashboard over HTTP", () => {
  let root: string;
  let dir: string;
  let dashboard: Dashboard;
  beforeAll(async () => {
    await buildClient();
    root = await mkdtemp(join(tmpdir(), "tapline-dash-http-"));
    dir = join(root, ".tapline");
    await mkdir(join(dir, "runs"), { recursive: true });
    await writeFile(join(root, "secret.txt"), "outside\n");
    await writeFile(join(dir, "inside.txt"), "inside\n");
    await symlink(join(root, "secret.txt"), join(dir, "link-out.txt"));
    await appendFile(
      join(dir, "runs", "2026-01-01.0.jsonl"),
      `${JSON.stringify({ t: "step", time: 1, runId: "r1", pipeline: "p", step: "tts", status: "failed", durationMs: 1, attempts: 1, error: "tts said 401 for key sk-live-abcdefghijklmnop1234", request: { headers: { Authorization: "Basic dXNlcjpwYXNzd29yZA==" } } })}\n`,
    );
    await appendFile(
      join(dir, "runs", "2026-01-01.0.jsonl"),
      `${JSON.stringify({ t: "run", time: 1, runId: "r1", pipeline: "p", status: "failed", durationMs: 1, error: "Authorization: Bearer abcdefghijklmnop", token: "hunter2hunter2" })}\n`,
    );
    dashboard = await serveDashboard({ dir });
  });
  afterAll(async () => {
    await dashboard.close();
    await rm(root, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 and a free port by default", () => {
    expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/`);
    expect(dashboard.port).toBeGreaterThan(0);
  });

  it.each([
    "/files?path=../secret.txt",
    "/files?path=..%2Fsecret.txt",
    "/files?path=%2e%2e%2fsecret.txt",
    "/files?path=..%252Fsecret.txt",
    "/files?path=ROOT%2Fsecret.txt",
    "/files?path=../../../../etc/passwd",
    "/files?path=%2Fetc%2Fpasswd",
    "/files?path=link-out.txt",
    "/files?path=inside.txt%00.png",
    "/files?path=",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
  ])("path traversal %s gets 404", async (path) => {
    const r = await raw(dashboard.port, path.replace("ROOT", encodeURIComponent(root)));
    expect(r.status).toBe(404);
    expect(r.body).not.toContain("outside");
  });

  it("serves a file under the data folder, with ranges", async () => {
    expect(await raw(dashboard.port, "/files?path=inside.txt")).toEqual({ status: 200, body: "inside\n" });
    expect(await raw(dashboard.port, "/files?path=inside.txt", { range: "bytes=2-4" })).toEqual({
      status: 206,
      body: "sid",
    });
  });

  it("redacts secrets in what it sends, as in the records", async () => {
    const r = await raw(dashboard.port, "/api/runs");
    expect(r.body).not.toContain("abcdefghijklmnop");
    expect(r.body).not.toContain("hunter2");
    expect(r.body).toContain("[redacted]");
    const detail = await raw(dashboard.port, "/api/runs/r1");
    expect(detail.body).toContain("tts said 401");
    expect(detail.body).not.toContain("abcdefghijklmnop1234");
    expect(detail.body).not.toContain("dXNlcjpwYXNzd29yZA");
    const steps = await raw(dashboard.port, "/api/steps");
    expect(steps.body).toContain("tts said 401");
    expect(steps.body).not.toContain("abcdefghijklmnop1234");
  });

  it("refuses a Host header that is not this machine (DNS rebinding)", async () => {
    expect((await raw(dashboard.port, "/api/overview", { host: "evil.example:80" })).status).toBe(403);
  });

  it("with a token: every request needs it, the event stream included; the token is compared in full", async () => {
    const token = "0123456789abcdef-token";
    const secure = await serveDashboard({ dir, token });
    try {
      for (const path of ["/", "/assets/app.js", "/api/overview", "/api/events", "/files?path=inside.txt"]) {
        expect((await raw(secure.port, path)).status, path).toBe(401);
        expect(
          (await raw(secure.port, `${path}${path.includes("?") ? "&" : "?"}token=${token}x`)).status,
          path,
        ).toBe(401);
        expect(
          (await raw(secure.port, path, { authorization: `Bearer ${token.slice(0, -1)}` })).status,
          path,
        ).toBe(401);
        expect((await raw(secure.port, path, { authorization: `Bearer ${token}` })).status, path).toBe(200);
      }
      const stream = await raw(secure.port, `/api/events?token=${token}`);
      expect(stream.status).toBe(200);
      expect(stream.body).toContain("event: hello");
      expect(secure.url).toBe(`http://127.0.0.1:${secure.port}/?token=${token}`);
    } finally {
      await secure.close();
    }
  });

  it("keeps only keepRuns runs in memory; older runs and their units are read back from the files", async () => {
    const paged = join(root, "paged");
    await mkdir(join(paged, "runs"), { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) {
      lines.push(
        JSON.stringify({
          t: "step",
          time: 100 + i * 10,
          runId: `p${i}`,
          pipeline: "p",
          step: "a",
          status: "success",
          durationMs: 1,
          attempts: i % 2 ? 2 : 1,
        }),
      );
      lines.push(
        JSON.stringify({
          t: "run",
          time: 101 + i * 10,
          runId: `p${i}`,
          pipeline: "p",
          status: i === 0 ? "failed" : "success",
          durationMs: 2,
        }),
      );
    }
    await writeFile(join(paged, "runs", "2026-01-01.0.jsonl"), `${lines.join("\n")}\n`);
    const small = await serveDashboard({ dir: paged, keepRuns: 2 });
    try {
      const all = JSON.parse((await raw(small.port, "/api/runs?limit=10")).body) as {
        runs: { runId: string }[];
      };
      expect(all.runs.map((r) => r.runId)).toEqual(["p5", "p4", "p3", "p2", "p1", "p0"]);
      const older = JSON.parse((await raw(small.port, "/api/runs?limit=2&before=131")).body) as {
        runs: { runId: string }[];
      };
      expect(older.runs.map((r) => r.runId)).toEqual(["p2", "p1"]);
      const failed = JSON.parse((await raw(small.port, "/api/runs?status=failed")).body) as {
        runs: { runId: string }[];
      };
      expect(failed.runs.map((r) => r.runId)).toEqual(["p0"]);
      const detail = JSON.parse((await raw(small.port, "/api/runs/p1")).body) as {
        units: { path: string; attempts: number }[];
      };
      expect(detail.units).toMatchObject([{ path: "a", attempts: 2 }]);
      expect((await raw(small.port, "/api/runs/nope")).status).toBe(404);
      expect((await raw(small.port, "/api/runs/%E0%A4%A")).status).toBe(404); // not valid percent-encoding
      const overview = JSON.parse((await raw(small.port, "/api/overview")).body) as { totals: object };
      expect(overview.totals).toMatchObject({ runs: 6, successes: 5, failures: 1 });
    } finally {
      await small.close();
    }
  });

  it("a non-loopback host without a token is refused before anything listens", async () => {
    const error = await serveDashboard({ dir, host: "0.0.0.0" }).catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_DASHBOARD_TOKEN")).toBe(true);
    expect((error as Error).message).toMatch(/0\.0\.0\.0.*token is required/);
  });

  it("strict options: a misspelt key is named with a did-you-mean; a missing folder is a typed error", async () => {
    const bad = await serveDashboard({ dir, prot: 0 } as never).catch((e: unknown) => e);
    expect(isTaplineError(bad, "TAPLINE_ERR_OPTIONS")).toBe(true);
    expect((bad as Error).message).toMatch(/prot.*did you mean "port"/);
    const short = await serveDashboard({ dir, token: "short" }).catch((e: unknown) => e);
    expect((short as Error).message).toMatch(/token.*at least 16/);
    const missing = await serveDashboard({ dir: join(root, "nope") }).catch((e: unknown) => e);
    expect(isTaplineError(missing, "TAPLINE_ERR_DASHBOARD_START")).toBe(true);
  });
});
