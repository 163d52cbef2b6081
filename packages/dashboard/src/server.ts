import { createHash, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunDetail, UpdateMessage } from "./api-types.ts";
import type { DashboardOptions } from "./dashboard-options.ts";
import { runDetail } from "./detail.ts";
import { DurableReader } from "./durable.ts";
import { DashboardStartError, DashboardTokenRequiredError } from "./errors.ts";
import { DataDirFollower } from "./follow.ts";
import { readRunFromFiles, readRunsFromFiles } from "./history-files.ts";
import { DashboardModel, type RunEntry } from "./model.ts";
import { isLoopback, normalizeOptions } from "./options.ts";
import { contentTypeOf, resolveServedFile } from "./safe-path.ts";

/** A running dashboard, from {@link serveDashboard}. */
export interface Dashboard {
  /** `http://127.0.0.1:<port>/` (with `?token=` when a token is set: the link to open). */
  readonly url: string;
  readonly port: number;
  /** Stops following the folder, ends every event stream and closes the server. */
  close(): Promise<void>;
}

/** Least time between two pushes to the page; records arriving faster are batched. */
const PUSH_EVERY_MS = 100;
const HEARTBEAT_MS = 15_000;

/**
 * Serves the live dashboard of a Tapline data folder: it reads the runs, steps, metrics, alerts and
 * `status.json` there, follows the folder as it grows, and pushes what changed to open pages over
 * Server-Sent Events. Works beside a running app and on the files of a stopped one. Listens on 127.0.0.1 by
 * default; any other host requires a token. Options are validated once (an `OptionsError` names every bad one).
 *
 * @example
 * const dashboard = await serveDashboard({ dir: ".tapline", port: 0 });
 * console.log(`open ${dashboard.url}`);
 * // ... later
 * await dashboard.close();
 */
export async function serveDashboard(options: DashboardOptions): Promise<Dashboard> {
  const o = normalizeOptions(options);
  if (!isLoopback(o.host) && !o.token) throw new DashboardTokenRequiredError({ host: o.host });
  const dir = resolve(o.dir);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new DashboardStartError({
      what: `data folder ${dir}`,
      why: "not found (pass the dir given to createTapline)",
    });
  const roots = [dir, ...o.files.map((f) => resolve(f))];
  const model = new DashboardModel(dir, o.keepRuns);
  const clients = new Set<ServerResponse>();
  const assets = await loadAssets();
  const tokenDigest = o.token ? digest(o.token) : undefined;
  const html = page(o.token);

  let pushTimer: NodeJS.Timeout | undefined;
  let lastPush = 0;
  const push = () => {
    if (pushTimer || clients.size === 0) {
      if (clients.size === 0) model.takeChanged();
      return;
    }
    const wait = Math.max(0, lastPush + PUSH_EVERY_MS - Date.now());
    pushTimer = setTimeout(() => {
      pushTimer = undefined;
      lastPush = Date.now();
      const changed = model.takeChanged();
      const message: UpdateMessage = {
        overview: model.overview(),
        runs: changed.runs,
        series: changed.series,
        alerts: changed.alerts,
      };
      const frame = `event: update\ndata: ${JSON.stringify(message)}\n\n`;
      for (const c of clients) c.write(frame);
    }, wait);
  };
  const follower = new DataDirFollower(dir, model, push, new DurableReader(dir));
  await follower.start(o.pollIntervalMs);

  const artifactUrl = (path: string): string | undefined => {
    const abs = resolve(dir, path);
    const ok = roots.some((r) => abs === r || abs.startsWith(r.endsWith("/") ? r : `${r}/`));
    return ok ? `/files?path=${encodeURIComponent(abs)}` : undefined;
  };
  const detail = (run: RunEntry): RunDetail => runDetail(run, artifactUrl, model.interrupted);

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (!tokenDigest) return true;
    const header = req.headers.authorization;
    const given = header?.startsWith("Bearer ") ? header.slice(7) : (url.searchParams.get("token") ?? "");
    return timingSafeEqual(digest(given), tokenDigest);
  };
  // Without a token the server trusts being reachable only from this machine; a page on another site must
  // not reach it through DNS rebinding either, so the Host header has to name this machine.
  const hostAllowed = (req: IncomingMessage): boolean => {
    if (o.token) return true;
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!hostAllowed(req)) return send(res, 403, "text/plain; charset=utf-8", "forbidden host\n");
    if (!authorized(req, url))
      return send(
        res,
        401,
        "text/plain; charset=utf-8",
        "a token is required (?token= or Authorization: Bearer)\n",
      );
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, "text/plain; charset=utf-8", "GET only\n");
    const path = url.pathname;
    if (path === "/" || path === "/index.html") return send(res, 200, "text/html; charset=utf-8", html, true);
    if (path === "/assets/app.js") return send(res, 200, "text/javascript; charset=utf-8", assets.js, true);
    if (path === "/assets/app.css") return send(res, 200, "text/css; charset=utf-8", assets.css, true);
    if (path === "/api/overview") return json(res, model.overview());
    if (path === "/api/runs") {
      const q = url.searchParams;
      const before = q.get("before");
      const filter = {
        limit: Math.min(500, Math.max(1, Number(q.get("limit")) || 100)),
        ...(q.get("status") && { status: q.get("status")! }),
        ...(q.get("pipeline") && { pipeline: q.get("pipeline")! }),
        ...(q.get("q") && { q: q.get("q")! }),
        ...(before && Number.isFinite(Number(before)) && { before: Number(before) }),
      };
      const mem = model.runs(filter);
      return json(res, { runs: mem.complete ? mem.runs : await readRunsFromFiles(dir, filter) });
    }
    if (path.startsWith("/api/runs/")) {
      let id: string;
      try {
        id = decodeURIComponent(path.slice("/api/runs/".length));
      } catch {
        return send(res, 404, "application/json", '{"error":"no such run"}');
      }
      const run = model.run(id) ?? (await readRunFromFiles(dir, id));
      return run ? json(res, detail(run)) : send(res, 404, "application/json", '{"error":"no such run"}');
    }
    if (path === "/api/steps") return json(res, model.steps());
    if (path === "/api/series") return json(res, model.series(url.searchParams.get("prefix") ?? undefined));
    if (path === "/api/alerts") return json(res, model.alerts());
    if (path === "/api/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ overview: model.overview() })}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    if (path === "/files") {
      const file = await resolveServedFile(roots, url.searchParams.get("path") ?? "");
      if (!file) return send(res, 404, "text/plain; charset=utf-8", "not found\n");
      return sendFile(req, res, file);
    }
    return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, "text/plain; charset=utf-8", `internal error: ${(error as Error).message}\n`);
      else res.destroy();
    });
  });
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(": keep-alive\n\n");
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(o.port, o.host, () => {
        server.off("error", fail);
        ok();
      });
    });
  } catch (error) {
    clearInterval(heartbeat);
    await follower.close();
    throw new DashboardStartError(
      { what: `listen on ${o.host}:${o.port}`, why: (error as Error).message },
      { cause: error },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/${o.token ? `?token=${encodeURIComponent(o.token)}` : ""}`,
    port,
    async close() {
      clearInterval(heartbeat);
      if (pushTimer) clearTimeout(pushTimer);
      await follower.close();
      for (const c of clients) c.end();
      clients.clear();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  // Everything the page loads is its own: no inline script, no CDN, no other origin.
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, cache = false): void {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": cache ? "no-cache" : "no-store",
    ...SECURITY_HEADERS,
  });
  res.end(body);
}

function json(res: ServerResponse, value: unknown): void {
  send(res, 200, "application/json; charset=utf-8", JSON.stringify(value));
}

async function sendFile(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
  const { size } = await stat(file);
  const type = contentTypeOf(file);
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] || range[2]) && size > 0) {
    start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    end = range[1] && range[2] ? Math.min(size - 1, Number(range[2])) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { "content-range": `bytes */${size}`, ...SECURITY_HEADERS });
      res.end();
      return;
    }
    status = 206;
  }
  res.writeHead(status, {
    "content-type": type,
    "content-length": end - start + 1,
    "accept-ranges": "bytes",
    ...(status === 206 && { "content-range": `bytes ${start}-${end}/${size}` }),
    ...(type === "application/octet-stream" && { "content-disposition": "attachment" }),
    "cache-control": "no-cache",
    ...SECURITY_HEADERS,
  });
  if (req.method === "HEAD" || size === 0) {
    res.end();
    return;
  }
  createReadStream(file, { start, end })
    .on("error", () => res.destroy())
    .pipe(res);
}

interface Assets {
  readonly js: Buffer;
  readonly css: Buffer;
}

/** The page's bundle, built into `dist/client/` (`pnpm build`); found from the sources too (tests). */
async function loadAssets(): Promise<Assets> {
  const candidates = [new URL("./client/", import.meta.url), new URL("../dist/client/", import.meta.url)];
  for (const base of candidates) {
    const js = await readFile(new URL("app.js", base)).catch(() => undefined);
    if (!js) continue;
    const css = await readFile(new URL("app.css", base)).catch(() => Buffer.alloc(0));
    return { js, css };
  }
  throw new DashboardStartError({
    what: "the page's bundle",
    why: `not found in ${candidates.map((c) => fileURLToPath(c)).join(" or ")} (build the package: pnpm --filter @tapline/dashboard build)`,
  });
}

/** The page; with a token, its asset URLs carry it (the page itself was only served to a request that had it). */
const page = (token: string | undefined): string => {
  const q = token ? `?token=${encodeURIComponent(token)}` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tapline dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.css${q}">
<script type="module" src="assets/app.js${q}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
};
