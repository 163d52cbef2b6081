import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterEach, describe, expect, it } from "vitest";
import { type GpuSnapshot, type GpuWatcherStatus, watchGpus } from "../src/index.ts";
import { alive, FAKE, fakeEnv, fixture, starts, tempDir, until } from "./helpers.ts";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

function record(options: Parameters<typeof watchGpus>[0]) {
  const samples: GpuSnapshot[] = [];
  const statuses: GpuWatcherStatus[] = [];
  const errors: Error[] = [];
  const watcher = watchGpus(options, (s) => samples.push(s), {
    onStatus: (s) => statuses.push(s),
    onError: (e) => errors.push(e),
  });
  return { watcher, samples, statuses, errors };
}

describe("watchGpus against the fake nvidia-smi", () => {
  it("streams snapshots of several GPUs from one long-lived process, N/A fields absent", async () => {
    const log = join(tempDir(), "log");
    restore = fakeEnv({ FAKE_SMI_LOG: log });
    const { watcher, samples } = record({ binary: FAKE, interval: 50 });
    await until(() => samples.length >= 4, 10_000, "4 snapshots");
    await watcher.close();
    expect(starts(log)).toHaveLength(1); // one process for all samples
    expect(starts(log)[0]!.argv).toEqual([
      "--query-gpu=index,uuid,name,utilization.gpu,utilization.memory,memory.used,memory.total,temperature.gpu,power.draw,power.limit,clocks.current.sm,clocks.current.memory,pstate,clocks_throttle_reasons.active,persistence_mode",
      "--format=csv,noheader,nounits",
      "-lms",
      "50",
    ]);
    const first = samples[0]!;
    expect(first.gpus.map((g) => g.index)).toEqual([0, 1, 2]);
    expect(first.gpus[0]).toMatchObject({
      name: "NVIDIA H100 80GB HBM3",
      utilization: 0,
      powerDrawWatts: 69.85,
    });
    expect(samples[1]!.gpus[0]).toMatchObject({ utilization: 1, memoryUsedBytes: 19818 * 1048576 });
    const rtx = first.gpus[1]!;
    expect(rtx.memoryUsedBytes).toBe(575 * 1048576);
    expect(rtx.utilization).toBeUndefined();
    expect(rtx.powerDrawWatts).toBeUndefined();
    expect(rtx.throttleMask).toBeUndefined();
    expect(samples[2]!.gpus[0]!.throttleReasons).toEqual(["sw_power_cap"]);
    expect(watcher.status.state).toBe("closed");
  });

  it("splits iterations that arrive in one chunk into one snapshot each", async () => {
    restore = fakeEnv({ FAKE_SMI_BURST: "1" });
    const { watcher, samples } = record({ binary: FAKE, interval: 200 });
    await until(() => samples.length >= 4, 10_000, "4 snapshots");
    await watcher.close();
    for (const s of samples) expect(s.gpus.map((g) => g.index)).toEqual([0, 1, 2]);
    expect(samples[0]!.gpus[0]!.utilization).toBe(0);
    expect(samples[1]!.gpus[0]!.utilization).toBe(1);
  });

  it("restarts nvidia-smi with backoff when it dies mid-stream (torn line), and reports it", async () => {
    const dir = tempDir();
    const log = join(dir, "log");
    restore = fakeEnv({
      FAKE_SMI_LOG: log,
      FAKE_SMI_DIE_AFTER: "2",
      FAKE_SMI_DIE_PARTIAL: "1",
      FAKE_SMI_DIE_RUNS: "1",
      FAKE_SMI_COUNTER: join(dir, "count"),
    });
    const { watcher, samples, statuses, errors } = record({
      binary: FAKE,
      interval: 50,
      restart: { initialDelay: 20, maxDelay: 100 },
    });
    await until(() => samples.length >= 5, 10_000, "samples after the restart");
    await watcher.close();
    expect(starts(log)).toHaveLength(2);
    expect(errors).toHaveLength(1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_GPU_SAMPLER_EXITED")).toBe(true);
    expect(errors[0]!.message).toMatch(/exited with code 1; restarting in \d+ ms/);
    expect(statuses.map((s) => s.state)).toEqual(["running", "restarting", "running", "closed"]);
    expect(watcher.status.restarts).toBe(1);
    expect(watcher.status.badLines).toBe(1); // the torn line was dropped, not half-parsed
    for (const s of samples) for (const g of s.gpus) expect(g.uuid).toMatch(/^GPU-/);
  });

  it("is unavailable at once (no restart) when the first start dies without a sample", async () => {
    const log = join(tempDir(), "log");
    restore = fakeEnv({ FAKE_SMI_DIE_AFTER: "0", FAKE_SMI_LOG: log });
    const { watcher, statuses, errors } = record({
      binary: FAKE,
      interval: 50,
      restart: { initialDelay: 1 },
    });
    await until(() => watcher.status.state === "unavailable", 10_000, "unavailable");
    expect(watcher.status.error?.reason).toBe("rejected");
    expect(errors).toHaveLength(0);
    expect(statuses.map((s) => s.state)).toEqual(["unavailable"]);
    await new Promise((r) => setTimeout(r, 100));
    expect(starts(log)).toHaveLength(1);
    await watcher.close();
  });

  it("gives up after restart.maxAttempts deaths in a row without a sample", async () => {
    const dir = tempDir();
    const log = join(dir, "log");
    restore = fakeEnv({
      FAKE_SMI_DIE_AFTER: "2",
      FAKE_SMI_DIE_AFTER_RESTART: "0",
      FAKE_SMI_COUNTER: join(dir, "count"),
      FAKE_SMI_LOG: log,
    });
    const { watcher, statuses, errors } = record({
      binary: FAKE,
      interval: 50,
      restart: { initialDelay: 1, maxDelay: 5, maxAttempts: 3 },
    });
    await until(() => watcher.status.state === "unavailable", 10_000, "unavailable");
    expect(watcher.status.error?.reason).toBe("gave-up");
    expect(watcher.status.reason).toMatch(/died 4 times in a row/);
    expect(errors.map((e) => isTaplineError(e, "TAPLINE_ERR_GPU_SAMPLER_EXITED") && e.attempt)).toEqual([
      1, 2, 3,
    ]);
    expect(starts(log)).toHaveLength(4);
    expect(statuses.filter((s) => s.state === "unavailable")).toHaveLength(1);
    await watcher.close();
  });

  it("says unavailable once when the binary is missing", async () => {
    const { watcher, statuses, samples } = record({ binary: join(tempDir(), "no-such-nvidia-smi") });
    await until(() => watcher.status.state === "unavailable", 10_000, "unavailable");
    await new Promise((r) => setTimeout(r, 100));
    expect(statuses.map((s) => s.state)).toEqual(["unavailable"]);
    expect(watcher.status.error?.reason).toBe("missing");
    expect(watcher.status.reason).toMatch(/nvidia-smi not found.*NVIDIA_SMI_PATH/);
    expect(samples).toHaveLength(0);
    await watcher.close();
  });

  it.each([
    ["no-devices", /No devices were found/],
    ["driver", /couldn't communicate with the NVIDIA driver/],
  ])("says unavailable (no-gpu) when nvidia-smi fails with %s", async (mode, message) => {
    restore = fakeEnv({ FAKE_SMI_FAIL: mode });
    const { watcher } = record({ binary: FAKE, interval: 50 });
    await until(() => watcher.status.state === "unavailable", 10_000, "unavailable");
    expect(watcher.status.error?.reason).toBe("no-gpu");
    expect(watcher.status.reason).toMatch(message);
    await watcher.close();
  });

  it("drops a field an older driver rejects, and keeps sampling the rest", async () => {
    const log = join(tempDir(), "log");
    restore = fakeEnv({ FAKE_SMI_REJECT: "clocks_throttle_reasons.active", FAKE_SMI_LOG: log });
    const { watcher, samples } = record({ binary: FAKE, interval: 50 });
    await until(() => samples.length >= 1, 10_000, "a sample");
    await watcher.close();
    expect(watcher.status.droppedFields).toEqual(["clocks_throttle_reasons.active"]);
    expect(samples[0]!.gpus[0]!.persistenceMode).toBe(true);
    expect(samples[0]!.gpus[0]!.throttleMask).toBeUndefined();
    expect(starts(log)).toHaveLength(2);
  });

  it("is unavailable (rejected) when nvidia-smi rejects a required field", async () => {
    restore = fakeEnv({ FAKE_SMI_REJECT: "uuid" });
    const { watcher } = record({ binary: FAKE, interval: 50 });
    await until(() => watcher.status.state === "unavailable", 10_000, "unavailable");
    expect(watcher.status.error?.reason).toBe("rejected");
    expect(watcher.status.reason).toMatch(/Field "uuid" is not a valid field/);
    await watcher.close();
  });

  it("close() leaves no child process, and works with a binary path with spaces and a leading dash", async () => {
    const dir = join(tempDir(), "dir with space", "-odd");
    mkdirSync(dir, { recursive: true });
    const binary = join(dir, "nvidia smi");
    copyFileSync(FAKE, binary);
    const log = join(tempDir(), "log");
    restore = fakeEnv({ FAKE_SMI_LOG: log, FAKE_SMI_FIXTURE: fixture("h100.csv") });
    const { watcher, samples } = record({ binary, interval: 50 });
    await until(() => samples.length >= 1, 10_000, "a sample");
    const pid = watcher.status.pid!;
    expect(alive(pid)).toBe(true);
    expect(starts(log)[0]!.pid).toBe(pid);
    await watcher.close();
    expect(alive(pid)).toBe(false);
    expect(samples[0]!.gpus).toHaveLength(1);
    const count = samples.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(samples.length).toBe(count); // nothing after close
  });

  it("closes on abort signal", async () => {
    const controller = new AbortController();
    const samples: GpuSnapshot[] = [];
    const watcher = watchGpus({ binary: FAKE, interval: 50, signal: controller.signal }, (s) =>
      samples.push(s),
    );
    await until(() => samples.length >= 1, 10_000, "a sample");
    const pid = watcher.status.pid!;
    controller.abort();
    await until(() => watcher.status.state === "closed", 5000, "closed");
    await until(() => !alive(pid), 5000, "child gone");
  });

  it("reports this process tree's GPU memory from --query-compute-apps", async () => {
    // The fake replaces fixture pid 11345 (./gpu_burn) with its parent: this test process.
    restore = fakeEnv({ FAKE_SMI_OWN_PIDS: "11345" });
    const seen: { pid: number; memoryUsedBytes?: number }[][] = [];
    const watcher = watchGpus({ binary: FAKE, interval: 50, processInterval: 100 }, () => {}, {
      onProcesses: (s) => seen.push([...s.processes]),
    });
    await until(() => seen.length >= 1, 10_000, "a process snapshot");
    await watcher.close();
    expect(seen[0]).toEqual([
      {
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        pid: process.pid,
        memoryUsedBytes: 15690 * 1048576,
      },
    ]);
    expect(watcher.latestProcesses()!.memoryByGpu.get("GPU-00000000-0000-0000-0000-000000000000")).toBe(
      15690 * 1048576,
    );
  });

  it("rejects bad options at creation with a typed error", () => {
    for (const bad of [
      { interval: 0 },
      { interval: 1.5 },
      { binary: "" },
      { restart: { initialDelay: 10, maxDelay: 1 } },
    ]) {
      let error: unknown;
      try {
        watchGpus(bad as never, () => {});
      } catch (e) {
        error = e;
      }
      expect(isTaplineError(error, "TAPLINE_ERR_GPU_OPTIONS")).toBe(true);
      // Core's format: the subject, then one line per bad option with its path.
      const { option, message } = error as { option: string; message: string };
      expect(option).toMatch(/^(interval|binary|restart\.maxDelay)$/);
      expect(message).toContain(`watchGpus(): invalid options:\n  - ${option}: `);
    }
  });
});
