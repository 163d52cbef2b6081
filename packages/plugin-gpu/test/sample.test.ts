import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { sampleGpus } from "../src/index.ts";
import { FAKE, fakeEnv, fixture, starts, tempDir } from "./helpers.ts";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

describe("sampleGpus", () => {
  it("reads every GPU once, without a loop", async () => {
    const log = join(tempDir(), "log");
    restore = fakeEnv({ FAKE_SMI_LOG: log, FAKE_SMI_FIXTURE: fixture("h100.csv") });
    const s = await sampleGpus({ binary: FAKE });
    expect(s.gpus).toHaveLength(1);
    expect(s.gpus[0]).toMatchObject({
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      temperatureCelsius: 41,
      throttleReasons: ["gpu_idle"],
    });
    expect(starts(log)[0]!.argv).not.toContain("-lms");
  });

  it("uses NVIDIA_SMI_PATH when no binary is given", async () => {
    restore = fakeEnv({ NVIDIA_SMI_PATH: FAKE });
    const s = await sampleGpus();
    expect(s.gpus.map((g) => g.index)).toEqual([0, 1, 2]);
  });

  it("rejects with a GpuUnavailableError when the binary is missing", async () => {
    const error = await sampleGpus({ binary: join(tempDir(), "nope") }).catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_GPU_UNAVAILABLE")).toBe(true);
    expect(error).toMatchObject({ reason: "missing", code: "TAPLINE_ERR_GPU_UNAVAILABLE" });
  });

  it("rejects with reason no-gpu when nvidia-smi finds no device", async () => {
    restore = fakeEnv({ FAKE_SMI_FAIL: "no-devices" });
    const error = await sampleGpus({ binary: FAKE }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: "no-gpu",
      message: expect.stringMatching(/No devices were found/),
    });
  });

  it("drops fields an older driver rejects", async () => {
    restore = fakeEnv({ FAKE_SMI_REJECT: "persistence_mode,pstate" });
    const s = await sampleGpus({ binary: FAKE });
    expect(s.gpus[0]!.persistenceMode).toBeUndefined();
    expect(s.gpus[0]!.pstate).toBeUndefined();
    expect(s.gpus[0]!.powerDrawWatts).toBe(69.85);
  });

  it("the fake exits with nvidia-smi's error for bad arguments (so tests can trust it)", async () => {
    for (const args of [
      ["--bogus"],
      ["--query-gpu=index"],
      ["--query-gpu=index", "--format=csv", "-lms", "0"],
    ]) {
      const r = await execa(FAKE, args, { reject: false });
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toMatch(/Invalid combination of input arguments/);
    }
  });
});
