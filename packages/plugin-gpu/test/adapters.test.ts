import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { describe, expect, it } from "vitest";
import { gpu } from "../src/index.ts";
import { tempDir, until } from "./helpers.ts";

describe("non-NVIDIA adapters through systeminformation", () => {
  it("names the machine's adapters in the status when nvidia-smi is unavailable", async () => {
    // An lspci listing an Intel iGPU; no nvidia-smi. systeminformation reads PATH when it is first loaded.
    const bin = tempDir();
    writeFileSync(
      join(bin, "lspci"),
      "#!/bin/sh\nprintf '00:02.0 VGA compatible controller: Intel Corporation UHD Graphics 630 (rev 02)\\n\\tKernel driver in use: i915\\n\\n'\n",
    );
    chmodSync(join(bin, "lspci"), 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      const app = createTapline({
        plugins: [gpu({ binary: join(bin, "nvidia-smi") })],
        logger: silentLogger,
        dir: tempDir(),
      });
      await until(
        () => /adapters: /.test(app.status().parts.find((p) => p.component === "gpu")?.message ?? ""),
        15_000,
        "adapters",
      );
      const part = app.status().parts.find((p) => p.component === "gpu")!;
      expect(part.message).toMatch(
        /^unavailable: nvidia-smi not found.*\(adapters: Intel Corporation UHD Graphics 630\)$/,
      );
      expect(part.details!.adapters).toEqual([
        expect.objectContaining({ vendor: "Intel Corporation", model: "UHD Graphics 630" }),
      ]);
      await app.close();
    } finally {
      process.env.PATH = oldPath;
    }
  });
});
