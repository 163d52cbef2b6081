import type { MetricSample } from "@tapline/core";
import { isTaplineError } from "@tapline/core";
import { describe, expect, it } from "vitest";
import type { ProbeError } from "../errors.ts";
import {
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseProcStat,
} from "./proc.ts";
import { createSystemSampler } from "./sampler.ts";

const linux = process.platform === "linux";

describe("/proc parsers", () => {
  it("parse /proc/stat into busy/total jiffies per cpu", () => {
    const { total, cores } = parseProcStat(
      "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 60 0 20 400 20 0 0 0 0 0\ncpu1 40 0 30 400 30 0 0 0 0 0\nintr 1\n",
    );
    expect(total).toEqual({ busy: 150, total: 1000 });
    expect(cores).toEqual([
      { busy: 80, total: 500 },
      { busy: 70, total: 500 },
    ]);
  });
  it("parse meminfo, loadavg, net/dev, diskstats and mounts", () => {
    expect(
      parseMeminfo(
        "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\nSwapTotal: 200 kB\nSwapFree: 50 kB\n",
      ),
    ).toEqual({
      total: 1024000,
      available: 409600,
      swapTotal: 204800,
      swapFree: 51200,
    });
    expect(parseLoadavg("0.50 1.25 2.00 2/130 11666\n")).toEqual([0.5, 1.25, 2]);
    const net = parseNetDev(
      "Inter-| Receive\n face |bytes\n    lo:    3193      29    0    0    0     0          0         0     4000      29    0    0    0     0       0          0\n",
    );
    expect(net.get("lo")).toEqual({ rx: 3193, tx: 4000 });
    const disks = parseDiskstats(
      "   7 0 loop0 1 0 8 0 0 0 0 0 0 0 0\n   8 0 sda 10 0 100 5 20 0 300 9 0 0 0\n",
    );
    expect([...disks.keys()]).toEqual(["sda"]);
    expect(disks.get("sda")).toEqual({ read: 51200, written: 153600 });
    expect(
      parseMounts(
        "proc /proc proc rw 0 0\n/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /my\\040data xfs rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n",
      ),
    ).toEqual(["/", "/my data"]);
  });
});

describe("SystemSampler", () => {
  it.skipIf(!linux)(
    "samples the contract's system and process metrics from /proc, with rates from the second sample on",
    async () => {
      const sampler = createSystemSampler({ source: "proc" });
      await sampler.sample();
      await new Promise((r) => setTimeout(r, 200));
      const samples = await sampler.sample();
      const names = new Set(samples.map((s) => s.name));
      for (const name of [
        "tapline_system_cpu_ratio",
        "tapline_system_load1",
        "tapline_system_memory_used_ratio",
        "tapline_system_swap_used_ratio",
        "tapline_system_disk_used_ratio",
        "tapline_process_resident_memory_bytes",
        "tapline_process_cpu_ratio",
        "tapline_system_processes",
        "tapline_system_network_receive_bytes_per_second",
        "tapline_sampler_duration_seconds",
        "tapline_sampler_cpu_seconds",
      ]) {
        expect(names, name).toContain(name);
      }
      const cpu = samples.filter((s) => s.name === "tapline_system_cpu_ratio");
      expect(cpu.some((s) => s.labels.cpu === "0")).toBe(true);
      for (const s of cpu) expect(s.value).toBeGreaterThanOrEqual(0);
      const mem = samples.find((s) => s.name === "tapline_system_memory_used_ratio")!;
      expect(mem.value).toBeGreaterThan(0);
      expect(mem.value).toBeLessThan(1);
      const root = samples.find((s) => s.name === "tapline_system_disk_used_ratio");
      expect(root?.labels.mount).toBeTypeOf("string");
      expect(sampler.stats.samples).toBe(2);
      expect(sampler.stats.lastWallMs).toBeGreaterThan(0);
      expect(sampler.stats.lastCpuMs).toBeGreaterThanOrEqual(0); // rusage may round a 1 ms sample to 0
      await sampler.stop();
    },
  );

  it("never overlaps: concurrent sample() calls share the one in progress", async () => {
    const sampler = createSystemSampler();
    const [a, b] = [sampler.sample(), sampler.sample()];
    expect(a).toBe(b);
    await a;
    expect(sampler.stats.samples).toBe(1);
  });

  it("reports a probe past its timeout as a ProbeError, never restarts it while it hangs, and carries on", async () => {
    const errors: ProbeError[] = [];
    let started = 0;
    let release!: () => void;
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sampler = createSystemSampler({
      probeTimeoutMs: 200,
      onError: (e) => errors.push(e),
      probes: {
        nfs: async (emit) => {
          started++;
          await hung; // a dead mount: never answers until released
          emit("tapline_test_value", 1);
        },
      },
    });
    const first = await sampler.sample();
    const nfs = errors.filter((e) => e.probe === "nfs"); // a loaded machine may time out a /proc probe too
    expect(nfs).toHaveLength(1);
    expect(isTaplineError(nfs[0], "TAPLINE_ERR_METRICS_PROBE")).toBe(true);
    expect(nfs[0]!.message).toMatch(/longer than 200 ms/);
    expect(first.some((s) => s.name === "tapline_system_memory_used_ratio")).toBe(true); // the others went on
    expect(first.find((s) => s.name === "tapline_sampler_probe_timeouts")!.value).toBeGreaterThanOrEqual(1);
    await sampler.sample();
    expect(started).toBe(1); // still hung: skipped, not started again
    expect(sampler.stats.skippedProbes).toBeGreaterThanOrEqual(1);
    expect(errors.filter((e) => e.probe === "nfs")).toHaveLength(1); // skipping is not reported again
    release();
    await new Promise((r) => setTimeout(r, 10));
    await sampler.sample();
    expect(started).toBe(2);
  });

  it("start() samples on an interval through onSample; stop() leaves no timer behind", async () => {
    const batches: MetricSample[][] = [];
    const sampler = createSystemSampler({ intervalMs: 100, onSample: (s) => batches.push(s) });
    sampler.start();
    await new Promise((r) => setTimeout(r, 350));
    await sampler.stop();
    const n = batches.length;
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 250));
    expect(batches.length).toBe(n);
  });

  it("falls back to systeminformation when asked (the path used off Linux)", async () => {
    const sampler = createSystemSampler({ source: "systeminformation" });
    const samples = await sampler.sample();
    const names = new Set(samples.map((s) => s.name));
    expect(names).toContain("tapline_system_memory_used_ratio");
    expect(names).toContain("tapline_system_cpu_ratio");
  });

  it("rejects bad options", () => {
    expect(() => createSystemSampler({ intervalMs: 5, source: "wmi" as never })).toSatisfy(() => {
      try {
        createSystemSampler({ intervalMs: 5, source: "wmi" as never });
        return false;
      } catch (error) {
        return (
          isTaplineError(error, "TAPLINE_ERR_METRICS_OPTIONS") &&
          (error as { issues: readonly unknown[] }).issues.length === 2
        );
      }
    });
  });
});
