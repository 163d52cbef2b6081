// Runs only where a real nvidia-smi answers (a GPU machine). CI has no GPU, so this file skips there; set
// TAPLINE_REQUIRE_GPU=1 on a GPU machine to make a missing or failing nvidia-smi a failure instead.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type GpuSnapshot, sampleGpus, watchGpus } from "../src/index.ts";
import { alive, until } from "./helpers.ts";

function hasNvidiaSmi(): boolean {
  try {
    execFileSync("nvidia-smi", ["-L"], { stdio: "ignore", timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

const required = process.env.TAPLINE_REQUIRE_GPU === "1";
const present = hasNvidiaSmi();
if (!present && !required) {
  console.warn(
    "skipping real-nvidia-smi tests: no working nvidia-smi here (set TAPLINE_REQUIRE_GPU=1 to require one)",
  );
}

describe.skipIf(!present && !required)("against the real nvidia-smi", () => {
  it("samples every GPU once", async () => {
    const { gpus } = await sampleGpus();
    expect(gpus.length).toBeGreaterThan(0);
    for (const g of gpus) {
      expect(g.uuid).toMatch(/^(GPU|MIG)-/);
      expect(g.memoryTotalBytes).toBeGreaterThan(0);
      for (const v of Object.values(g)) if (typeof v === "number") expect(Number.isFinite(v)).toBe(true);
    }
  });

  it("streams from one long-lived process and leaves none behind", async () => {
    const samples: GpuSnapshot[] = [];
    const w = watchGpus({ interval: 200 }, (s) => samples.push(s));
    await until(() => samples.length >= 3, 30_000, "3 snapshots");
    const pid = w.status.pid!;
    expect(w.status.restarts).toBe(0);
    await w.close();
    expect(alive(pid)).toBe(false);
    expect(new Set(samples.map((s) => s.gpus.length)).size).toBe(1);
  });
});
