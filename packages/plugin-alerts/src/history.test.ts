import { appendFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readAlertHistory } from "./history.ts";
import { createAlertManager } from "./manager.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("alert history on disk", () => {
  it("writes transitions as JSON lines and reads them back, skipping a torn line", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline alerts '-history "));
    const m = createAlertManager({
      dir,
      rules: [
        {
          name: "Disk",
          metric: "disk",
          by: ["mount"],
          levels: { warning: 0.8, critical: 0.9 },
          unit: "ratio",
          message: "disk {{labels.mount}} {{value}} full",
        },
      ],
    });
    const t = Date.now();
    m.observe({ name: "disk", value: 0.85, labels: { mount: "/" }, time: t });
    m.observe({ name: "disk", value: 0.95, labels: { mount: "/data" }, time: t });
    m.observe({ name: "disk", value: 0.5, labels: { mount: "/" }, time: t });
    await m.close();
    const files = await readdir(join(dir, "alerts"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^alerts-\d{4}-\d{2}-\d{2}\.jsonl$/);
    await appendFile(join(dir, "alerts", files[0]!), '{"time": 1, "finger'); // a crash mid-write
    const warnings: string[] = [];
    const all = await readAlertHistory(dir, { onWarning: (w) => warnings.push(w) });
    expect(all.map((e) => `${e.labels.mount}:${e.state}:${e.level}`)).toEqual([
      "/:firing:warning",
      "/data:firing:critical",
      "/:resolved:warning",
    ]);
    expect(warnings).toHaveLength(1);
    const active = await readAlertHistory(dir, { active: true });
    expect(active.map((e) => e.message)).toEqual(["disk /data 95% full"]);
    expect(await readAlertHistory(dir, { rule: "Other" })).toEqual([]);
    expect(await readAlertHistory(dir, { since: t + 60_000 })).toEqual([]);
  });
  it("returns [] when there is no history yet", async () => {
    expect(await readAlertHistory(join(tmpdir(), "tapline-no-such-dir"))).toEqual([]);
  });
});
