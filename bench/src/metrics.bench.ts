// @tapline/plugin-metrics against its peers: prom-client (recording a duration), a plain array (memory),
// pino (JSON lines), systeminformation (system sampling). Run: `cd bench && node --expose-gc src/run.ts metrics`.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPerformanceTracker, createSystemSampler } from "@tapline/plugin-metrics";
import { JsonlWriter } from "@tapline/plugin-metrics/files";
import pino from "pino";
import { Histogram, Registry } from "prom-client";
import si from "systeminformation";
import { compare, note } from "./harness.ts";

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Self CPU plus reaped children's CPU (ms), the latter from /proc/self/stat (10 ms ticks). */
function cpuMs(): number {
  const self = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    children = ((Number(fields[13]) || 0) + (Number(fields[14]) || 0)) * 10; // cutime + cstime, in 100 Hz ticks
  } catch {}
  return (self.user + self.system) / 1000 + children;
}

async function recording(): Promise<void> {
  const tracker = createPerformanceTracker();
  const registry = new Registry();
  const histogram = new Histogram({
    name: "bench_step_duration_seconds",
    help: "bench",
    labelNames: ["pipeline", "step", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const labels = { pipeline: "story", step: "tts", status: "success" };
  // prom-client's fast path: the labelled child resolved once, as an exporter that caches children does.
  const child = histogram.labels(labels);
  let i = 0;
  await compare(
    "metrics: record one step duration (one series, labels pipeline/step/status)",
    [
      {
        name: "prom-client Histogram.observe(labels, v)",
        fn: () => histogram.observe(labels, (++i % 1000) / 1000),
      },
      {
        name: "prom-client histogram.labels(...).observe(v) (child cached)",
        fn: () => child.observe((++i % 1000) / 1000),
      },
      {
        name: "prom-client histogram.labels(...).observe(v) (labels resolved per call)",
        fn: () => histogram.labels(labels).observe((++i % 1000) / 1000),
      },
      {
        name: "tapline tracker.record (DDSketch, 4 windows)",
        fn: () => tracker.record("step", "story", "tts", ++i % 1000, true),
      },
    ],
    { time: 1500 },
  );
}

function memory(): void {
  const N = 1_000_000;
  const rows: [string, number][] = [];
  let base = heapAfterGc();
  const tracker = createPerformanceTracker();
  // Spread over 2 simulated hours so every window ring is filled: the worst case for memory.
  let now = 0;
  const clocked = createPerformanceTracker({ now: () => now });
  for (let i = 0; i < N; i++) {
    now = i * 7.2; // 1e6 records over 2 h
    clocked.record("step", "story", "tts", 1 + (i % 5000), true);
  }
  rows.push(["tapline tracker, 1e6 durations over 2 h (all windows filled)", heapAfterGc() - base]);
  base = heapAfterGc();
  for (let i = 0; i < N; i++) tracker.record("step", "story", "tts", 1 + (i % 5000), true);
  rows.push(["tapline tracker, 1e6 durations at once", heapAfterGc() - base]);
  base = heapAfterGc();
  const registry = new Registry();
  const h = new Histogram({
    name: "mem_seconds",
    help: "m",
    labelNames: ["pipeline", "step", "status"],
    registers: [registry],
  });
  for (let i = 0; i < N; i++)
    h.observe({ pipeline: "story", step: "tts", status: "success" }, (1 + (i % 5000)) / 1000);
  rows.push(["prom-client Histogram (11 buckets, no quantiles)", heapAfterGc() - base]);
  base = heapAfterGc();
  const array = new Float64Array(N);
  for (let i = 0; i < N; i++) array[i] = 1 + (i % 5000);
  rows.push(["plain Float64Array of every value (exact, unbounded)", heapAfterGc() - base]);
  console.log("\n## metrics: heap (+ array buffers) after 1,000,000 recorded durations in one series\n");
  console.log("| structure | heap KiB |");
  console.log("|---|---:|");
  for (const [name, bytes] of rows) console.log(`| ${name} | ${(bytes / 1024).toFixed(0)} |`);
  if (!gc) note("run with --expose-gc for exact figures");
  // keep them alive until measured
  void [tracker.size, clocked.size, array.length];
}

async function appendThroughput(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tapline-bench-"));
  const N = 300_000;
  const record = (i: number) => ({
    t: "step",
    time: Date.now(),
    runId: "0d9f6a52-55b6-4a3f-8e0e-4f4a3b7a2c11",
    pipeline: "story",
    step: "tts",
    status: "success",
    durationMs: i % 1000,
    attempts: 1,
  });
  try {
    let t0 = performance.now();
    const writer = new JsonlWriter({ folder: join(dir, "runs"), flushIntervalMs: 1000 });
    for (let i = 0; i < N; i++) {
      writer.append(record(i));
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r)); // let batches go out, as a live app does
    }
    await writer.close();
    const { written, dropped } = writer.stats;
    if (written + dropped !== N)
      throw new Error(`JsonlWriter lost track of records: ${written} written, ${dropped} dropped`);
    const ours = written / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    const dest = pino.destination({ dest: join(dir, "pino.log"), minLength: 4096, sync: false });
    const logger = pino({ base: undefined, timestamp: false }, dest);
    for (let i = 0; i < N; i++) {
      logger.info(record(i));
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    }
    dest.flushSync();
    await new Promise<void>((resolve) => {
      dest.once("close", () => resolve());
      dest.end();
    });
    const viaPino = N / ((performance.now() - t0) / 1000);
    console.log(
      "\n## metrics: JSONL append throughput (300,000 step records, batching on, written to disk)\n",
    );
    console.log("| writer | records/s | ratio vs tapline |");
    console.log("|---|---:|---:|");
    console.log(`| tapline JsonlWriter (one write() per batch, O_APPEND) | ${ours.toFixed(0)} | 1.00 |`);
    console.log(
      `| pino + sonic-boom (async, minLength 4 KiB) | ${viaPino.toFixed(0)} | ${(viaPino / ours).toFixed(2)} |`,
    );
    note(
      `target ≥ 100,000 records/s: ${ours >= 100_000 ? "met" : "NOT met"}; ${written} written, ${dropped} dropped (buffer cap)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function systemSampling(): Promise<void> {
  const sampler = createSystemSampler({ source: "proc" });
  await sampler.sample(); // primes rates
  const ROUNDS_OURS = 40;
  let c0 = cpuMs();
  let w0 = performance.now();
  for (let i = 0; i < ROUNDS_OURS; i++) {
    await sampler.sample();
    await new Promise((r) => setTimeout(r, 20));
  }
  const oursCpu = (cpuMs() - c0) / ROUNDS_OURS;
  const oursWall = (performance.now() - w0 - ROUNDS_OURS * 20) / ROUNDS_OURS;

  // The same fields through systeminformation: CPU total and per core, memory and swap, disk use per mount,
  // disk I/O, network per interface, process count (load averages come from os.loadavg() either way).
  const spec = {
    currentLoad: "currentLoad, cpus",
    mem: "total, active, swaptotal, swapused",
    fsSize: "mount, use",
    disksIO: "rIO_sec, wIO_sec",
    networkStats: "iface, rx_bytes, tx_bytes, rx_sec, tx_sec",
    processes: "all",
  };
  await si.get(spec); // cold call primes its caches (currentLoad waits 500 ms)
  const ROUNDS_SI = 8;
  c0 = cpuMs();
  w0 = performance.now();
  let wallSi = 0;
  for (let i = 0; i < ROUNDS_SI; i++) {
    const t = performance.now();
    await si.get(spec);
    wallSi += performance.now() - t;
    await new Promise((r) => setTimeout(r, 600)); // past its internal caches, as a 1 s sampler would be
  }
  const siCpu = (cpuMs() - c0) / ROUNDS_SI;

  // Ours for real at 1 s: the whole process's CPU over 5 s of sampling, idle otherwise.
  const live = createSystemSampler({ source: "proc", intervalMs: 1000 });
  await new Promise((r) => setTimeout(r, 200));
  c0 = cpuMs();
  w0 = performance.now();
  live.start();
  await new Promise((r) => setTimeout(r, 5000));
  await live.stop();
  const liveShare = ((cpuMs() - c0) / (performance.now() - w0)) * 100;

  console.log("\n## metrics: one full system sample (CPU incl. child processes)\n");
  console.log("| sampler | CPU ms/sample | wall ms/sample | % of one core at 1 s | ratio (CPU) |");
  console.log("|---|---:|---:|---:|---:|");
  console.log(
    `| tapline SystemSampler (/proc + statfs) | ${oursCpu.toFixed(2)} | ${oursWall.toFixed(2)} | ${(oursCpu / 10).toFixed(2)} | 1.00 |`,
  );
  console.log(
    `| systeminformation si.get (same fields) | ${siCpu.toFixed(2)} | ${(wallSi / ROUNDS_SI).toFixed(2)} | ${(siCpu / 10).toFixed(2)} | ${(siCpu / oursCpu).toFixed(1)} |`,
  );
  note(
    `tapline sampler running at 1 s for 5 s: ${liveShare.toFixed(2)}% of one core for the whole process (target ≤ 1%)`,
  );
}

export default async function run(): Promise<void> {
  await recording();
  memory();
  await appendThroughput();
  await systemSampling();
}
