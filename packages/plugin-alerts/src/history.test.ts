import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type AlertHistoryEntry, readAlertHistory, sortHistoryFiles } from "./history.ts";
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

  it("rotates to numbered files at the size cap, reads them back in order, and resumes after a restart", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline alerts rotate "));
    const cap = 600;
    const run = async (from: number, to: number) => {
      const m = createAlertManager({
        dir,
        historyMaxFileBytes: cap,
        rules: [
          {
            name: "Hot",
            metric: "temp",
            by: ["gpu"],
            levels: { warning: 80 },
            message: "gpu {{labels.gpu}}",
          },
        ],
      });
      // Each pair is a firing and a resolved transition: 2 lines of ~250 bytes per gpu, so many files.
      for (let gpu = from; gpu < to; gpu++) {
        m.observe({ name: "temp", value: 90, labels: { gpu: String(gpu) }, time: Date.now() });
        m.observe({ name: "temp", value: 10, labels: { gpu: String(gpu) }, time: Date.now() });
        if (gpu % 3 === 0) await m.flush(); // batches of several sizes
      }
      await m.close();
    };
    await run(0, 15);
    await run(15, 25); // a second process goes on in the newest file, then rotates on
    const folder = join(dir, "alerts");
    const names = await readdir(folder);
    const files = sortHistoryFiles(names);
    expect(files.length).toBeGreaterThan(10); // indexes past 9 must sort numerically, not as text
    for (const d of new Set(files.map((f) => f.day))) {
      const indexes = files.filter((f) => f.day === d).map((f) => f.index);
      expect(indexes).toEqual(indexes.map((_, i) => i)); // 0, 1, 2, ... per day (one day unless run at midnight)
    }
    for (const f of files) {
      const { size } = await stat(join(folder, f.name));
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(cap);
    }
    const all = await readAlertHistory(dir);
    const expected: string[] = [];
    for (let gpu = 0; gpu < 25; gpu++) expected.push(`${gpu}:firing`, `${gpu}:resolved`);
    expect(all.map((e) => `${e.labels.gpu}:${e.state}`)).toEqual(expected);
    expect(await readAlertHistory(dir, { active: true })).toEqual([]);
  });

  it("writes a line bigger than the cap alone in its own file instead of losing it", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-alerts-big-line-"));
    const m = createAlertManager({ dir, historyMaxFileBytes: 10 });
    m.raise({ rule: "A", level: "warning", state: "firing", labels: {}, message: "x".repeat(100) });
    m.raise({ rule: "B", level: "warning", state: "firing", labels: {}, message: "y" });
    await m.close();
    expect((await readdir(join(dir, "alerts"))).sort()).toHaveLength(2);
    expect((await readAlertHistory(dir)).map((e) => e.rule)).toEqual(["A", "B"]);
  });

  it("deletes files past retention, keeping newer ones, and keeps everything with historyRetention: false", async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-alerts-retention-"));
    const folder = join(dir, "alerts");
    await mkdir(folder);
    const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    const line = (daysAgo: number, rule: string): string => {
      const e: AlertHistoryEntry = {
        time: Date.parse(day(daysAgo)) + 1000,
        fingerprint: rule,
        rule,
        level: "warning",
        state: "resolved",
        labels: {},
        message: rule,
      };
      return `${JSON.stringify(e)}\n`;
    };
    const old = [`alerts-${day(40)}.jsonl`, `alerts-${day(40)}.1.jsonl`, `alerts-${day(11)}.jsonl`];
    const kept = [`alerts-${day(9)}.jsonl`, `alerts-${day(9)}.2.jsonl`, "notes.txt"];
    await writeFile(join(folder, old[0]!), line(40, "a"));
    await writeFile(join(folder, old[1]!), line(40, "b"));
    await writeFile(join(folder, old[2]!), line(11, "c"));
    await writeFile(join(folder, kept[0]!), line(9, "d"));
    await writeFile(join(folder, kept[1]!), line(9, "e"));
    await writeFile(join(folder, kept[2]!), "not history");

    const keepAll = createAlertManager({ dir, historyRetention: false });
    keepAll.tick();
    await keepAll.close();
    expect((await readdir(folder)).sort()).toEqual([...old, ...kept].sort());

    const m = createAlertManager({ dir, historyRetention: "10d", evaluationInterval: "1h" });
    m.tick(); // the first evaluation prunes
    m.raise({ rule: "now", level: "warning", state: "firing", labels: {}, message: "now" });
    await m.close();
    const left = (await readdir(folder)).sort();
    expect(left).toEqual([...kept, `alerts-${day(0)}.jsonl`].sort());
    expect((await readAlertHistory(dir)).map((e) => e.rule)).toEqual(["d", "e", "now"]);
    expect(await readFile(join(folder, "notes.txt"), "utf8")).toBe("not history");
  });

  it("rejects bad history limits with their path", () => {
    expect(() => createAlertManager({ historyRetention: "soon" })).toThrow(/historyRetention/);
    expect(() => createAlertManager({ historyRetention: 0 })).toThrow(/historyRetention/);
    expect(() => createAlertManager({ historyMaxFileBytes: -1 })).toThrow(/historyMaxFileBytes/);
  });
});
