import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRICES } from "../src/prices.ts";
import { haveFfmpeg, skipOrFail } from "./helpers.ts";

const skip = skipOrFail(await haveFfmpeg(), "ffmpeg/ffprobe");
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

describe.skipIf(skip)("the demo's --budget", () => {
  let root: string;
  let run: Awaited<ReturnType<typeof execa>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tapline budget "));
    // No failure injection: what the story spends before its render is then the same every time.
    run = await execa(
      process.execPath,
      [
        "--conditions=@tapline/source",
        main,
        "--quick",
        "--budget",
        "0.02",
        "--failure-rate",
        "0",
        "--out",
        join(root, "out"),
        "--dir",
        join(root, "d"),
      ],
      { reject: false, all: true },
    );
  }, 120_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("stops the story before its render, and prints the reason and what it cost", async () => {
    expect(run.exitCode, String(run.all)).toBe(1);
    const text = String(run.stdout);
    expect(text).toContain("budget $0.02 a story");
    expect(text).toMatch(
      /render: budget: "render" would cost 0\.\d+ usd on top of 0\.\d+ spent, past the run's limit of 0\.02 usd; it did not start/,
    );
    expect(text).toMatch(/cost \$0\.0\d{3} \(\d+ tokens, 4 images, \d+ characters\) of a \$0\.02 budget/);
    // Nothing was rendered.
    expect((await readdir(join(root, "out"))).filter((f) => f.endsWith(".mp4"))).toEqual([]);
    const [report] = JSON.parse(await readFile(join(root, "out", "reports.json"), "utf8"));
    expect(report).toMatchObject({
      status: "failed",
      failedStep: "render",
      error: { code: "TAPLINE_ERR_BUDGET_EXCEEDED" },
    });
    // Everything before the render was billed at the stand-ins' prices: 4 images, the script's characters.
    expect(report.cost.images).toBe(4);
    const script = await readFile(join(root, "out", "lighthouse", "script.txt"), "utf8");
    expect(report.cost.characters).toBe(script.trim().length);
    expect(report.cost.usd).toBeCloseTo(
      4 * PRICES.images.perImage +
        script.trim().length * PRICES.tts.perCharacter +
        (report.cost.tokens / 1000) * 0.01,
      2,
    );
    expect(report.cost.usd).toBeLessThanOrEqual(0.02);
  });

  it("rejects a budget that is not a number ≥ 0 (usage error, exit 2)", async () => {
    const bad = await execa(process.execPath, ["--conditions=@tapline/source", main, "--budget=-1"], {
      reject: false,
    });
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stderr)).toContain('--budget got "-1"');
  });
});
