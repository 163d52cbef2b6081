// A real Prometheus for integration tests (this package's and the dashboard's Grafana test): Debian's
// `prometheus` on 127.0.0.1, a free port, a temp folder, a 1 s scrape interval, stopped by its PID.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** The binary: `PROMETHEUS_PATH`, else Debian's. */
export const PROMETHEUS = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";
/** Whether it is installed; with `TAPLINE_REQUIRE_INTEGRATION=1` a missing one is an error, not a skip. */
export const havePrometheus = existsSync(PROMETHEUS);
if (!havePrometheus && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error(
    `${PROMETHEUS} is missing and TAPLINE_REQUIRE_INTEGRATION=1: install Debian's "prometheus" package`,
  );

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** An instant-query answer of the HTTP API (`/api/v1/query`). */
export interface PromResult {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** A running Prometheus. */
export interface PrometheusProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Its stderr, the last 4000 characters (for failure messages). */
  log(): string;
  /** An instant query; rejects while it is not listening yet. */
  query(q: string): Promise<PromResult>;
  /** A label's values among the series `match` selects (what Grafana's `label_values()` asks). */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Waits until `check` is true (polling, 250 ms), or throws with Prometheus' log after `ms`. */
  until(check: () => Promise<boolean>, ms: number, what: string): Promise<void>;
  /** SIGTERM by PID, SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * Starts Prometheus scraping `targets` (`host:port`, path `/metrics`) every second; data goes under `dir`.
 */
export async function startPrometheus(dir: string, targets: readonly string[]): Promise<PrometheusProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      "  - job_name: tapline",
      "    static_configs:",
      `      - targets: ${JSON.stringify(targets)}`,
      "",
    ].join("\n"),
  );
  mkdirSync(join(dir, "data"), { recursive: true });
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${url}${path}`)).json()) as T;
  return {
    url,
    log: () => log,
    query: (q) => api<PromResult>(`/api/v1/query?query=${encodeURIComponent(q)}`),
    async labelValues(label, match) {
      const r = await api<{ data: string[] }>(
        `/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`,
      );
      return r.data;
    },
    async until(check, ms, what) {
      const deadline = Date.now() + ms;
      for (;;) {
        try {
          if (await check()) return;
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null)
          throw new Error(`Prometheus exited (${child.exitCode}); its log:\n${log}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; Prometheus' log:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(child.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
    },
  };
}
