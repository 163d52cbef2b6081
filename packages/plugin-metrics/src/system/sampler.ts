import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { MetricSample } from "@tapline/core";
import { ProbeError } from "../errors.ts";
import { parseFactoryOptions } from "../options.ts";
import { SamplerOptionsSchema } from "../schemas.ts";
import {
  type CpuTimes,
  diskUsedRatio,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseProcStat,
  processCount,
  readProc,
} from "./proc.ts";

/** Where system figures come from. `auto`: /proc and statfs on Linux, systeminformation elsewhere. */
export type SystemSource = "auto" | "proc" | "systeminformation";

/** Options of {@link createSystemSampler}. */
export interface SystemSamplerOptions {
  /** Sampling interval in ms. Default 1000; at least 100. */
  intervalMs?: number;
  /** A probe that takes longer is abandoned for this sample and reported (a hung NFS statfs). Default 500 (5000 through systeminformation). */
  probeTimeoutMs?: number;
  /** Mount points whose usage to report. Default: every data filesystem in /proc/mounts (at most 20). */
  mounts?: readonly string[];
  /** Default `auto`. */
  source?: SystemSource;
  /**
   * Extra probes sampled alongside the built-in ones (queue depth, a service's health...), with the same
   * guarantees: never overlapping themselves, a timeout each, async, counted in the sampler's cost.
   */
  probes?: Readonly<Record<string, SystemProbe>>;
  /** Receives every sample batch (the plugin forwards them to core's `metric` hook). */
  onSample?: (samples: MetricSample[]) => void;
  /** Receives probe failures and timeouts (a {@link ProbeError}); the sampler carries on. */
  onError?: (error: ProbeError) => void;
}

/** What the sampler knows about its own cost. */
export interface SamplerStats {
  readonly samples: number;
  /** Probe runs skipped because the previous run of the same probe had not finished. */
  readonly skippedProbes: number;
  readonly timeouts: number;
  readonly errors: number;
  /** Wall and CPU time of the last sample, ms. */
  readonly lastWallMs: number;
  readonly lastCpuMs: number;
  /** Total CPU ms spent sampling (approximate: `process.cpuUsage()` across each sample). */
  readonly totalCpuMs: number;
}

/** Publishes one value from a probe: metric name, value, labels, unit. Non-finite values are dropped. */
export type ProbeEmit = (name: string, value: number, labels?: Record<string, string>, unit?: string) => void;
/** A probe: reads something and emits samples; may be async. */
export type SystemProbe = (emit: ProbeEmit) => Promise<void> | void;
type Emit = ProbeEmit;
type Probe = (emit: Emit) => Promise<void>;

/**
 * Samples CPU (total and per core), load averages, memory and swap, disk usage per mount and disk I/O rates,
 * network rx/tx bytes and rates per interface, process count, and this process's CPU, RSS, heap and
 * event-loop lag; on Linux straight from /proc and statfs (about 1 ms of CPU), elsewhere through
 * systeminformation. Samples never overlap (the next starts after the previous ends), each probe has a
 * timeout, all I/O is asynchronous, and every sample reports its own cost (`tapline_sampler_*`).
 */
export class SystemSampler {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #source: "proc" | "systeminformation";
  readonly #onSample: ((samples: MetricSample[]) => void) | undefined;
  readonly #onError: ((error: ProbeError) => void) | undefined;
  readonly #probes: [string, Probe][];
  readonly #inFlight = new Set<string>();
  #mounts: readonly string[] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<MetricSample[]> | undefined;
  #stopped = true;
  #prevCpu: { total: CpuTimes; cores: CpuTimes[] } | undefined;
  #prevNet: { time: number; data: Map<string, { rx: number; tx: number }> } | undefined;
  #prevDisk: { time: number; data: Map<string, { read: number; written: number }> } | undefined;
  #prevProc: { time: number; cpu: NodeJS.CpuUsage } | undefined;
  #loop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  #samples = 0;
  #skipped = 0;
  #timeouts = 0;
  #errors = 0;
  #lastWall = 0;
  #lastCpu = 0;
  #totalCpu = 0;

  constructor(options: SystemSamplerOptions = {}) {
    options = parseFactoryOptions(SamplerOptionsSchema, options, "createSystemSampler()");
    const interval = options.intervalMs ?? 1000;
    const source = options.source ?? "auto";
    const viaSi = source === "systeminformation" || (source === "auto" && process.platform !== "linux");
    // systeminformation's first currentLoad() waits 500 ms to prime, and it spawns tools: give it longer.
    const timeout = options.probeTimeoutMs ?? (viaSi ? 5000 : 500);
    this.#interval = interval;
    this.#timeout = timeout;
    this.#source = source === "auto" ? (process.platform === "linux" ? "proc" : "systeminformation") : source;
    this.#onSample = options.onSample;
    this.#onError = options.onError;
    this.#mounts = options.mounts;
    this.#probes =
      this.#source === "proc" ? this.#procProbes() : [["systeminformation", (emit) => this.#siProbe(emit)]];
    this.#probes.push(["process", (emit) => this.#processProbe(emit)]);
    for (const [name, probe] of Object.entries(options.probes ?? {})) {
      this.#probes.push([name, async (emit) => probe(emit)]);
    }
  }

  /** Starts sampling every `intervalMs` (the first sample at once). The timer does not keep the process alive. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop ??= monitorEventLoopDelay({ resolution: 20 });
    this.#loop.enable();
    const tick = () => {
      const started = performance.now();
      this.sample()
        .then(
          (samples) => this.#onSample?.(samples),
          () => {},
        )
        .finally(() => {
          if (this.#stopped) return;
          // Never overlap: the next sample starts after this one ended, at the next interval boundary.
          const wait = Math.max(0, this.#interval - (performance.now() - started));
          this.#timer = setTimeout(tick, wait);
          this.#timer.unref();
        });
    };
    tick();
  }

  /** Stops sampling and waits for a sample in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#loop?.disable();
    if (this.#running) await this.#running.catch(() => {});
  }

  /**
   * Takes one sample now (or returns the one in progress: calls never overlap). Rates (CPU, disk I/O,
   * network) need two samples: the first one reports none.
   */
  sample(): Promise<MetricSample[]> {
    this.#running ??= this.#sample().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The sampler's own counters and cost. */
  get stats(): SamplerStats {
    return {
      samples: this.#samples,
      skippedProbes: this.#skipped,
      timeouts: this.#timeouts,
      errors: this.#errors,
      lastWallMs: this.#lastWall,
      lastCpuMs: this.#lastCpu,
      totalCpuMs: this.#totalCpu,
    };
  }

  async #sample(): Promise<MetricSample[]> {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const time = Date.now();
    const out: MetricSample[] = [];
    const emit: Emit = (name, value, labels = {}, unit) => {
      if (Number.isFinite(value))
        out.push(unit ? { name, value, labels, time, unit } : { name, value, labels, time });
    };
    await Promise.all(this.#probes.map(([name, probe]) => this.#runProbe(name, probe, emit)));
    const cpu = process.cpuUsage(cpu0);
    this.#lastCpu = (cpu.user + cpu.system) / 1000;
    this.#lastWall = performance.now() - t0;
    this.#totalCpu += this.#lastCpu;
    this.#samples++;
    emit("tapline_sampler_duration_seconds", this.#lastWall / 1000, {}, "seconds");
    emit("tapline_sampler_cpu_seconds", this.#lastCpu / 1000, {}, "seconds");
    emit("tapline_sampler_probe_timeouts", this.#timeouts);
    return out;
  }

  async #runProbe(name: string, probe: Probe, emit: Emit): Promise<void> {
    if (this.#inFlight.has(name)) {
      this.#skipped++;
      return;
    }
    this.#inFlight.add(name);
    const run = probe(emit).finally(() => this.#inFlight.delete(name));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeout);
      timer.unref();
    });
    try {
      const result = await Promise.race([run, timeout]);
      if (result === "timeout") {
        this.#timeouts++;
        run.catch(() => {});
        this.#onError?.(
          new ProbeError({
            probe: name,
            reason: `took longer than ${this.#timeout} ms and was skipped (it is not started again until it ends)`,
          }),
        );
      }
    } catch (error) {
      this.#errors++;
      this.#onError?.(
        new ProbeError({
          probe: name,
          reason: `failed: ${(error as Error)?.message ?? String(error)}`,
          cause: error,
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  #procProbes(): [string, Probe][] {
    return [
      [
        "cpu",
        async (emit) => {
          const now = parseProcStat(await readProc("/proc/stat"));
          const prev = this.#prevCpu;
          this.#prevCpu = now;
          if (!prev) return;
          emit("tapline_system_cpu_ratio", ratio(now.total, prev.total), {}, "ratio");
          now.cores.forEach((core, i) => {
            const before = prev.cores[i];
            if (before) emit("tapline_system_cpu_ratio", ratio(core, before), { cpu: String(i) }, "ratio");
          });
        },
      ],
      [
        "load",
        async (emit) => {
          const [l1, l5, l15] = parseLoadavg(await readProc("/proc/loadavg"));
          emit("tapline_system_load1", l1);
          emit("tapline_system_load5", l5);
          emit("tapline_system_load15", l15);
        },
      ],
      [
        "memory",
        async (emit) => {
          const m = parseMeminfo(await readProc("/proc/meminfo"));
          emit("tapline_system_memory_total_bytes", m.total, {}, "bytes");
          emit("tapline_system_memory_used_bytes", m.total - m.available, {}, "bytes");
          emit(
            "tapline_system_memory_used_ratio",
            m.total > 0 ? (m.total - m.available) / m.total : 0,
            {},
            "ratio",
          );
          emit(
            "tapline_system_swap_used_ratio",
            m.swapTotal > 0 ? (m.swapTotal - m.swapFree) / m.swapTotal : 0,
            {},
            "ratio",
          );
        },
      ],
      [
        "disk",
        async (emit) => {
          this.#mounts ??= parseMounts(await readProc("/proc/mounts")).slice(0, 20);
          const ratios = await Promise.all(this.#mounts.map((m) => diskUsedRatio(m).catch(() => Number.NaN)));
          this.#mounts.forEach((mount, i) => {
            emit("tapline_system_disk_used_ratio", ratios[i]!, { mount }, "ratio");
          });
        },
      ],
      [
        "diskio",
        async (emit) => {
          const data = parseDiskstats(await readProc("/proc/diskstats"));
          const now = performance.now();
          const prev = this.#prevDisk;
          this.#prevDisk = { time: now, data };
          if (!prev) return;
          const seconds = (now - prev.time) / 1000;
          for (const [device, d] of data) {
            const p = prev.data.get(device);
            if (!p || seconds <= 0) continue;
            emit(
              "tapline_system_disk_read_bytes_per_second",
              Math.max(0, d.read - p.read) / seconds,
              { device },
              "bytes",
            );
            emit(
              "tapline_system_disk_written_bytes_per_second",
              Math.max(0, d.written - p.written) / seconds,
              { device },
              "bytes",
            );
          }
        },
      ],
      [
        "network",
        async (emit) => {
          const data = parseNetDev(await readProc("/proc/net/dev"));
          const now = performance.now();
          const prev = this.#prevNet;
          this.#prevNet = { time: now, data };
          for (const [iface, d] of data) {
            emit("tapline_system_network_receive_bytes", d.rx, { interface: iface }, "bytes");
            emit("tapline_system_network_transmit_bytes", d.tx, { interface: iface }, "bytes");
            const p = prev?.data.get(iface);
            const seconds = prev ? (now - prev.time) / 1000 : 0;
            if (!p || seconds <= 0) continue;
            emit(
              "tapline_system_network_receive_bytes_per_second",
              Math.max(0, d.rx - p.rx) / seconds,
              { interface: iface },
              "bytes",
            );
            emit(
              "tapline_system_network_transmit_bytes_per_second",
              Math.max(0, d.tx - p.tx) / seconds,
              { interface: iface },
              "bytes",
            );
          }
        },
      ],
      ["processes", async (emit) => emit("tapline_system_processes", await processCount())],
    ];
  }

  async #processProbe(emit: Emit): Promise<void> {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const prev = this.#prevProc;
    this.#prevProc = { time: now, cpu };
    if (prev && now > prev.time) {
      const used = (cpu.user - prev.cpu.user + cpu.system - prev.cpu.system) / 1000;
      emit("tapline_process_cpu_ratio", used / (now - prev.time), {}, "ratio");
    }
    const mem = process.memoryUsage();
    emit("tapline_process_resident_memory_bytes", mem.rss, {}, "bytes");
    emit("tapline_process_heap_used_bytes", mem.heapUsed, {}, "bytes");
    emit("tapline_process_heap_total_bytes", mem.heapTotal, {}, "bytes");
    const loop = this.#loop;
    if (loop && loop.count > 0) {
      // Delay beyond the 20 ms sampling resolution, p99 since the last sample.
      emit(
        "tapline_process_event_loop_lag_seconds",
        Math.max(0, loop.percentile(99) / 1e9 - 0.02),
        {},
        "seconds",
      );
      loop.reset();
    }
  }

  /** Cross-platform fallback: systeminformation's async calls (no process list, no sync exec). */
  async #siProbe(emit: Emit): Promise<void> {
    const si = (await import("systeminformation")).default;
    const [load, mem, fs, net] = await Promise.all([
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      si.networkStats("*"),
    ]);
    emit("tapline_system_cpu_ratio", load.currentLoad / 100, {}, "ratio");
    load.cpus.forEach((c, i) => {
      emit("tapline_system_cpu_ratio", c.load / 100, { cpu: String(i) }, "ratio");
    });
    const [l1, l5, l15] = loadavg();
    emit("tapline_system_load1", l1 ?? 0);
    emit("tapline_system_load5", l5 ?? 0);
    emit("tapline_system_load15", l15 ?? 0);
    emit("tapline_system_memory_total_bytes", mem.total, {}, "bytes");
    emit("tapline_system_memory_used_bytes", mem.active, {}, "bytes");
    emit("tapline_system_memory_used_ratio", mem.total > 0 ? mem.active / mem.total : 0, {}, "ratio");
    emit("tapline_system_swap_used_ratio", mem.swaptotal > 0 ? mem.swapused / mem.swaptotal : 0, {}, "ratio");
    for (const f of fs)
      if (!this.#mounts || this.#mounts.includes(f.mount))
        emit("tapline_system_disk_used_ratio", f.use / 100, { mount: f.mount }, "ratio");
    for (const n of net) {
      emit("tapline_system_network_receive_bytes", n.rx_bytes, { interface: n.iface }, "bytes");
      emit("tapline_system_network_transmit_bytes", n.tx_bytes, { interface: n.iface }, "bytes");
      if (n.rx_sec !== null && n.rx_sec >= 0)
        emit("tapline_system_network_receive_bytes_per_second", n.rx_sec, { interface: n.iface }, "bytes");
      if (n.tx_sec !== null && n.tx_sec >= 0)
        emit("tapline_system_network_transmit_bytes_per_second", n.tx_sec, { interface: n.iface }, "bytes");
    }
  }
}

function ratio(now: CpuTimes, prev: CpuTimes): number {
  const total = now.total - prev.total;
  return total > 0 ? Math.min(1, Math.max(0, (now.busy - prev.busy) / total)) : 0;
}

/** Creates a {@link SystemSampler} (options validated here); call `start()` or `sample()`. */
export function createSystemSampler(options?: SystemSamplerOptions): SystemSampler {
  return new SystemSampler(options);
}

/** Static facts about the host (OS, CPU model, cores, memory), from systeminformation; call once, it spawns tools. */
export interface SystemFacts {
  readonly platform: string;
  readonly distro: string;
  readonly release: string;
  readonly kernel: string;
  readonly arch: string;
  readonly hostname: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly physicalCores: number;
  readonly memoryBytes: number;
}

/** Reads {@link SystemFacts} through systeminformation (tens of ms, once; never on the sampling path). */
export async function systemFacts(): Promise<SystemFacts> {
  const si = (await import("systeminformation")).default;
  const [os, cpu, mem] = await Promise.all([si.osInfo(), si.cpu(), si.mem()]);
  return {
    platform: os.platform,
    distro: os.distro,
    release: os.release,
    kernel: os.kernel,
    arch: os.arch,
    hostname: os.hostname,
    cpuModel: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cores: cpu.cores,
    physicalCores: cpu.physicalCores,
    memoryBytes: mem.total,
  };
}
