import { join } from "node:path";
import { createTapline, isTaplineError, type MetricSample, type PluginErrorEvent } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it } from "vitest";
import { type GpuStepUsage, gpu } from "../src/index.ts";
import { alive, FAKE, fakeEnv, starts, tempDir, until } from "./helpers.ts";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function app(options: Parameters<typeof gpu>[0]) {
  const samples: MetricSample[] = [];
  const errors: PluginErrorEvent[] = [];
  const a = createTapline({ plugins: [gpu(options)], dir: tempDir(), logger: silentLogger });
  a.hooks.metric.tap("test", (s) => {
    samples.push(s);
  });
  a.hooks.pluginError.tap("test", (e) => {
    errors.push(e);
  });
  return { app: a, samples, errors };
}

describe("gpu() plugin", () => {
  it("publishes nvidia_gpu_* samples in base units and annotates each step with its GPU usage", async () => {
    const log = join(tempDir(), "log");
    restore = fakeEnv({ FAKE_SMI_LOG: log });
    const { app: a, samples } = app({ binary: FAKE, interval: 50, processInterval: 0 });
    await until(
      () => samples.some((s) => s.name === "nvidia_gpu_energy_joules_total"),
      10_000,
      "energy samples",
    );
    const p = a
      .pipeline("render")
      .step("encode", async () => {
        await sleep(400);
        return "ok";
      })
      .step("mux", async () => "done", { gpu: { devices: [1] } })
      .step("text", async () => "t", { gpu: false })
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("success");
    const usage = report.steps[0]!.extensions.gpu as GpuStepUsage;
    expect(usage.attribution).toBe("all");
    expect(usage.gpus.map((g) => g.index)).toEqual([0, 1, 2]);
    const h100 = usage.gpus[0]!;
    expect(h100.samples).toBeGreaterThanOrEqual(3);
    expect(h100.utilizationPeak).toBe(1);
    expect(h100.utilizationMean).toBeGreaterThan(0);
    expect(h100.memoryUsedPeakBytes).toBe(19818 * 1048576);
    // ~0.4 s at 70..632 W
    expect(h100.energyJoules).toBeGreaterThan(0.4 * 69);
    expect(h100.energyJoules).toBeLessThan(0.6 * 632);
    expect(usage.gpus[1]!.energyJoules).toBeUndefined(); // the RTX row has power [N/A]
    expect(usage.energyJoules).toBeCloseTo(h100.energyJoules!);
    expect((report.steps[1]!.extensions.gpu as GpuStepUsage).gpus.map((g) => g.index)).toEqual([1]);
    expect(report.steps[2]!.extensions.gpu).toBeUndefined();

    const util = samples.find((s) => s.name === "nvidia_gpu_utilization_ratio" && s.value === 1)!;
    expect(util).toMatchObject({
      unit: "ratio",
      labels: { gpu: "0", uuid: "GPU-00000000-0000-0000-0000-000000000000", name: "NVIDIA H100 80GB HBM3" },
    });
    const mem = samples.find((s) => s.name === "nvidia_gpu_memory_total_bytes")!;
    expect(mem).toMatchObject({ value: 81559 * 1048576, unit: "bytes" });
    expect(samples.find((s) => s.name === "nvidia_gpu_power_draw_watts")).toMatchObject({ unit: "watts" });
    expect(samples.find((s) => s.name === "nvidia_gpu_temperature_celsius")).toMatchObject({
      unit: "celsius",
    });
    const energy = samples.find((s) => s.name === "nvidia_gpu_energy_joules_total")!;
    expect(energy).toMatchObject({ type: "counter", unit: "joules" });
    expect(
      samples.some(
        (s) => s.name === "nvidia_gpu_throttle_active" && s.labels.reason === "sw_power_cap" && s.value === 1,
      ),
    ).toBe(true);
    expect(
      samples.some((s) => s.name === "tapline_step_gpu_energy_joules_total" && s.labels.step === "encode"),
    ).toBe(true);
    for (const s of samples) expect(Number.isFinite(s.value)).toBe(true);
    // nothing for the RTX's [N/A] utilisation
    expect(samples.some((s) => s.name === "nvidia_gpu_utilization_ratio" && s.labels.gpu === "1")).toBe(
      false,
    );

    const status = a.status();
    expect(status.parts.find((p) => p.component === "gpu")).toMatchObject({
      level: "ok",
      message: "3 GPUs sampled",
    });
    const pid = starts(log)[0]!.pid;
    expect(alive(pid)).toBe(true);
    await a.close();
    expect(alive(pid)).toBe(false);
    expect(starts(log)).toHaveLength(1);
    // After close the part keeps the last live state (what a status.json written on dispose should say).
    expect(a.status().parts.find((p) => p.component === "gpu")).toMatchObject({
      level: "ok",
      message: "3 GPUs sampled",
    });
  });

  it("measures GPU usage per unit of work: each map item and parallel branch gets its own, by its options", async () => {
    const { app: a, samples } = app({ binary: FAKE, interval: 50, processInterval: 0 });
    await until(() => samples.some((s) => s.name === "nvidia_gpu_utilization_ratio"), 10_000, "samples");
    const report = await a
      .pipeline("render")
      .parallel("media", {
        voice: [async () => sleep(250), { gpu: { devices: [1] } }],
        notes: [async () => "t", { gpu: false }],
      })
      .map(
        "scenes",
        () => [0, 1, 2],
        async () => sleep(250),
        { concurrency: 3, gpu: { devices: [0] } },
      )
      .build()
      .run(undefined);
    expect(report.status).toBe("success");
    const [media, scenes] = report.steps;
    const voice = media!.children![0]!.extensions.gpu as GpuStepUsage;
    expect(voice.gpus.map((g) => g.index)).toEqual([1]);
    expect(voice.attribution).toBe("option");
    expect(voice.gpus[0]!.samples).toBeGreaterThanOrEqual(2);
    expect(media!.children![1]!.extensions.gpu).toBeUndefined();
    for (const item of scenes!.children!) {
      const usage = item.extensions.gpu as GpuStepUsage;
      expect(usage.gpus.map((g) => g.index)).toEqual([0]);
      expect(usage.gpus[0]!.samples).toBeGreaterThanOrEqual(2);
      expect(usage.gpus[0]!.energyJoules).toBeGreaterThan(0);
    }
    await a.close();
  });

  it("attributes a step to the GPUs its own processes use", async () => {
    restore = fakeEnv({ FAKE_SMI_OWN_PIDS: "11345" });
    const { app: a } = app({ binary: FAKE, interval: 50, processInterval: 60 });
    const report = await a
      .pipeline("p")
      .step("train", async () => {
        await sleep(400);
      })
      .build()
      .run(undefined);
    const usage = report.steps[0]!.extensions.gpu as GpuStepUsage;
    expect(usage.attribution).toBe("process");
    expect(usage.gpus).toHaveLength(1);
    expect(usage.gpus[0]).toMatchObject({ index: 0, processMemoryPeakBytes: 15690 * 1048576 });
    await a.close();
  });

  it("on a machine without nvidia-smi, status says unavailable from the start, never 'starting'", () => {
    const { app: a } = app({ binary: join(tempDir(), "no-such-smi"), describeAdapters: false });
    const status = a.status();
    expect(status.message).toBe("healthy");
    expect(status.parts.find((p) => p.component === "gpu")).toMatchObject({
      level: "ok",
      message: expect.stringMatching(/^unavailable: nvidia-smi not found/),
    });
    void a.close();
  });

  it("reports unavailable once in status and the app carries on when nvidia-smi is missing", async () => {
    const {
      app: a,
      errors,
      samples,
    } = app({ binary: join(tempDir(), "missing-smi"), describeAdapters: false });
    await until(
      () => a.status().parts.some((p) => p.message.startsWith("unavailable")),
      10_000,
      "unavailable",
    );
    const part = a.status().parts.find((p) => p.component === "gpu")!;
    expect(part.level).toBe("ok");
    expect(part.message).toMatch(/unavailable: nvidia-smi not found/);
    expect(part.details).toMatchObject({ state: "unavailable", reason: "missing" });
    expect(a.status().level).toBe("healthy");
    const report = await a
      .pipeline("p")
      .step("s", async () => 1)
      .build()
      .run(undefined);
    expect(report.status).toBe("success");
    expect(report.steps[0]!.extensions.gpu).toBeUndefined();
    expect(errors).toHaveLength(0);
    expect(samples).toHaveLength(0);
    await a.close();
  });

  it("makes an unavailable GPU critical when required", async () => {
    const { app: a } = app({
      binary: join(tempDir(), "missing-smi"),
      required: true,
      describeAdapters: false,
    });
    await until(() => a.status().level === "critical", 10_000, "critical");
    await a.close();
  });

  it("reports a dying nvidia-smi through pluginError and recovers", async () => {
    const dir = tempDir();
    const log = join(dir, "log");
    restore = fakeEnv({
      FAKE_SMI_DIE_AFTER: "2",
      FAKE_SMI_DIE_RUNS: "1",
      FAKE_SMI_COUNTER: join(dir, "count"),
      FAKE_SMI_LOG: log,
    });
    const { app: a, errors } = app({ binary: FAKE, interval: 50, restart: { initialDelay: 20 } });
    await until(() => errors.length === 1 && starts(log).length === 2, 10_000, "restart");
    expect(errors[0]!.error.plugin).toBe("@tapline/plugin-gpu");
    expect(errors[0]!.error.hook).toBe("sampler");
    expect(isTaplineError(errors[0]!.error.cause, "TAPLINE_ERR_GPU_SAMPLER_EXITED")).toBe(true);
    await until(
      () => a.status().parts.some((p) => p.component === "gpu" && p.level === "ok"),
      10_000,
      "running again",
    );
    const pids = starts(log).map((s) => s.pid);
    await a.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it("rejects bad options at registration and a bad step option at build", () => {
    let error: unknown;
    try {
      createTapline({ plugins: [gpu({ interval: -5 })], logger: silentLogger, dir: tempDir() });
    } catch (e) {
      error = e;
    }
    expect(
      isTaplineError(error, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ]),
    ).toBe(true);
    expect((error as { issues: { path: string }[] }).issues[0]!.path).toBe("interval");
    expect(() =>
      createTapline({ plugins: [gpu({ intervall: 5 } as never)], logger: silentLogger, dir: tempDir() }),
    ).toThrow(/intervall/);

    const { app: a } = app({ binary: join(tempDir(), "missing"), describeAdapters: false });
    let buildError: unknown;
    try {
      a.pipeline("p")
        .step("s", async () => 1, { gpu: { devices: [-1] } })
        .build();
    } catch (e) {
      buildError = e;
    }
    expect(isTaplineError(buildError, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
    expect((buildError as Error).message).toMatch(/gpu.devices/);
    return a.close();
  });
});
