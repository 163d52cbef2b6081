import { createTapline, isTaplineError } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { describe, expect, it } from "vitest";
import { gpu } from "./plugin.ts";
import { sampleGpus } from "./sample.ts";
import { watchGpus } from "./watcher.ts";

// Issue #12 (A): strict options through core's one mechanism, with did-you-mean: plugin, standalone and step.

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("did not throw");
}

type Issues = { issues: { path: string; suggestion?: string; message: string }[] };

describe("gpu options", () => {
  it("a step's `gpu: { device: [0] }` fails .step() with a did-you-mean `devices`", async () => {
    const app = createTapline({
      logger: silentLogger,
      plugins: [gpu({ binary: "/nonexistent/nvidia-smi", describeAdapters: false })],
    });
    try {
      const error = thrown(() =>
        app.pipeline("render").step("encode", async () => 1, { gpu: { device: [0] } } as never),
      ) as Error & Issues;
      expect(isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
      expect(error.message).toContain("gpu.device");
      expect(error.message).toContain('did you mean "devices"?');
      expect(error.issues).toMatchObject([{ path: "gpu.device", suggestion: "devices" }]);
      const bad = thrown(() =>
        app.pipeline("render").step("encode", async () => 1, { gpu: { devices: [-1] } }),
      ) as Error & Issues;
      expect(bad.issues[0]!.path).toBe("gpu.devices[0]");
      // Valid ones pass.
      app
        .pipeline("ok")
        .step("a", async () => 1, { gpu: false })
        .step("b", async () => 1, { gpu: { devices: [0, "GPU-x"] } });
    } finally {
      await app.close();
    }
  });

  it("gpu() rejects a misspelt option, nested ones too, at registration", () => {
    const error = thrown(() =>
      createTapline({
        logger: silentLogger,
        plugins: [gpu({ intervall: 500, restart: { maxAttempt: 3 } } as never)],
      }),
    ) as Issues;
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
    expect(Object.fromEntries(error.issues.map((i) => [i.path, i.suggestion]))).toEqual({
      intervall: "interval",
      "restart.maxAttempt": "maxAttempts",
    });
  });

  it("watchGpus() and sampleGpus() reject unknown keys with TAPLINE_ERR_GPU_OPTIONS (subject, issues, option)", async () => {
    const w = thrown(() => watchGpus({ procesInterval: 5 } as never, () => {})) as Error &
      Issues & { code: string; option: string };
    expect(isTaplineError(w, "TAPLINE_ERR_GPU_OPTIONS")).toBe(true);
    expect(isTaplineError(w) && "issues" in (w as object)).toBe(true);
    expect(w.code).toBe("TAPLINE_ERR_GPU_OPTIONS");
    expect(w.option).toBe("procesInterval");
    expect(w.issues[0]!.suggestion).toBe("processInterval");
    const s = (await sampleGpus({ timout: 5 } as never).catch((e: unknown) => e)) as Issues;
    expect(isTaplineError(s, "TAPLINE_ERR_GPU_OPTIONS")).toBe(true);
    expect(s.issues[0]!.suggestion).toBe("timeout");
  });
});
