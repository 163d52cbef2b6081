// Runs on many workers: real worker processes (test/fixtures/worker.ts), a real redis-server, a real Prometheus.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunQueue, type RunQueue } from "../src/index.ts";
import { haveRedis, type RedisServer, startRedis } from "./redis-server.ts";

const present = await haveRedis();
const fixture = join(import.meta.dirname, "fixtures", "worker.ts");
let redis: RedisServer;
const root = mkdtempSync(join(tmpdir(), "tapline queue workers "));
const children = new Set<ChildProcess>();

beforeAll(async () => {
  if (present) redis = await startRedis();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, "SIGKILL");
  await redis?.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** The part of plugin-metrics' test helper this test uses. */
type StartPrometheus = (
  dir: string,
  targets: readonly string[],
) => Promise<{
  query(q: string): Promise<{ data: { result: { value: [number, string] }[] } }>;
  until(check: () => Promise<boolean>, ms: number, what: string): Promise<void>;
  stop(): Promise<void>;
}>;

interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  /** host:port of its Prometheus endpoint. */
  readonly target: string;
}

async function startWorker(queue: string, name: string, env: Record<string, string> = {}): Promise<Started> {
  const dir = join(root, queue, name);
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    process.execPath,
    ["--conditions=@tapline/source", fixture, redis.url, queue, name, join(root, queue, "calls.log"), dir],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`worker ${name} exited (${code}): ${err}`)));
  });
  return { name, child, target: new URL(url).host };
}

const stop = async (w: Started) => {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once("exit", r));
  process.kill(w.child.pid!, "SIGTERM");
  await exited;
};

const calls = (queue: string): string[][] => {
  try {
    return readFileSync(join(root, queue, "calls.log"), "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" "));
  } catch {
    return [];
  }
};

const until = async (what: string, check: () => Promise<boolean> | boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(!present)("runs over several worker processes", () => {
  it("300 runs over 3 workers: each completes exactly once, its report readable from the queue; Prometheus sums the workers", async () => {
    const name = "three";
    const queue: RunQueue = await createRunQueue({ connection: redis.url, name });
    const workers = await Promise.all(["w1", "w2", "w3"].map((w) => startWorker(name, w)));
    let estimate = Number.NaN;
    let buckets: readonly number[] = [];
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `run-${i}`);
      for (const runId of ids) await queue.enqueue("story", { idea: `idea ${runId}` }, { runId });
      await until("300 completions", async () => (await queue.counts()).completed === 300, 120_000);
      const counts = await queue.counts();
      expect(counts).toMatchObject({ completed: 300, failed: 0, active: 0, waiting: 0 });

      // Exactly once: one script call per run, and each run's report says it succeeded.
      const scripts = calls(name).filter(([, what]) => what === "script");
      expect(scripts).toHaveLength(300);
      expect(new Set(scripts.map(([id]) => id)).size).toBe(300);
      const byWorker = new Map<string, number>();
      for (const [, , w] of scripts) byWorker.set(w!, (byWorker.get(w!) ?? 0) + 1);
      expect([...byWorker.keys()].sort()).toEqual(["w1", "w2", "w3"]);
      for (const runId of ["run-0", "run-150", "run-299"]) {
        const got = await queue.get(runId);
        expect(got.attempts).toBe(1);
        expect(got.state).toBe("completed");
        expect(got.report).toMatchObject({ runId, status: "success", resumed: false });
        expect(got.report!.output).toBe([0, 1, 2].map((i) => `IDEA ${runId.toUpperCase()} ${i}`).join("|"));
      }

      // A real Prometheus scrapes the three: the sum is every run, and a p95 from the summed buckets agrees with
      // the exact p95 of the run records within the bucket it falls in.
      // plugin-metrics' Prometheus helper, loaded at run time (a static import across projects breaks tsc -b).
      const helper = join(import.meta.dirname, "../../plugin-metrics/test/prometheus-server.ts");
      const { startPrometheus } = (await import(helper)) as { startPrometheus: StartPrometheus };
      const { DURATION_BUCKETS } = await import("@tapline/plugin-metrics");
      const prom = await startPrometheus(
        mkdtempSync(join(root, "prom-")),
        workers.map((w) => w.target),
      );
      buckets = DURATION_BUCKETS;
      try {
        const total = async () =>
          Number((await prom.query("sum(tapline_run_duration_seconds_count)")).data.result[0]?.value[1] ?? 0);
        await prom.until(async () => (await total()) === 300, 30_000, "sum over the workers = 300");
        const q = await prom.query(
          "histogram_quantile(0.95, sum by (le) (tapline_run_duration_seconds_bucket))",
        );
        estimate = Number(q.data.result[0]!.value[1]);
      } finally {
        await prom.stop();
      }
    } finally {
      await Promise.all(workers.map(stop));
      await queue.close();
    }
    // The exact p95 from the workers' run records (flushed when they stopped).
    const records = workers.flatMap((w) => {
      const dir = join(root, name, w.name, "runs");
      return readdirSync(dir)
        .filter((f) => f.endsWith(".jsonl"))
        .flatMap((f) => readFileSync(join(dir, f), "utf8").trim().split("\n"))
        .map((l) => JSON.parse(l) as { t: string; durationMs: number })
        .filter((r) => r.t === "run");
    });
    expect(records).toHaveLength(300);
    const sorted = records.map((r) => r.durationMs / 1000).sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.95 * sorted.length) - 1]!;
    const upper = buckets.find((b) => b >= exact)!;
    const lower = [...buckets].reverse().find((b) => b < exact) ?? 0;
    expect(estimate).toBeGreaterThanOrEqual(lower);
    expect(estimate).toBeLessThanOrEqual(upper);
  }, 240_000);

  it("kill -9 of a worker mid-run: another worker resumes the run; the units done before are not executed again", async () => {
    const name = "crash";
    const queue = await createRunQueue({ connection: redis.url, name, backoffMs: 100 });
    const env = { SCENES: "8", SCENE_MS: "150", LOCK_MS: "1500", CONCURRENCY: "1" };
    const a = await startWorker(name, "A", env);
    let b: Started | undefined;
    try {
      const { runId } = await queue.enqueue("story", { idea: "heron" }, { runId: "long-1" });
      const done = (i: number) => calls(name).some(([id, what]) => id === runId && what === `scene:${i}`);
      await until("5 scenes on A", () => done(4), 30_000);
      process.kill(a.child.pid!, "SIGKILL");
      await new Promise((r) => a.child.once("exit", r));
      const before = calls(name).filter(([id]) => id === runId);
      expect(before.every(([, , w]) => w === "A")).toBe(true);
      b = await startWorker(name, "B", env);
      await until("completion on B", async () => (await queue.get(runId)).state === "completed", 60_000);
      const all = calls(name).filter(([id]) => id === runId);
      const count = (what: string) => all.filter(([, w]) => w === what).length;
      expect(count("script")).toBe(1);
      for (let i = 0; i < 5; i++) expect(count(`scene:${i}`)).toBe(1); // done on A, replayed on B
      const onB = all.filter(([, , w]) => w === "B").map(([, what]) => what!);
      expect(onB.filter((w) => w.startsWith("scene:")).every((w) => Number(w.slice(6)) >= 5)).toBe(true);
      expect(onB).toContain("scene:7");
      const got = await queue.get(runId);
      expect(got.report).toMatchObject({ status: "success", resumed: true, worker: "B" });
      expect(got.report!.units.filter((u) => u.replayed).map((u) => u.path)).toEqual(
        expect.arrayContaining(["script", "scenes[0]", "scenes[4]"]),
      );
    } finally {
      if (b) await stop(b);
      await queue.close();
    }
  }, 120_000);
});
