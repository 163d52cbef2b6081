import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeStatus } from "@tapline/plugin-metrics/files";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import { type Dashboard, serveDashboard } from "../src/index.ts";
import { haveChromium, launch } from "./browser.ts";

/** Cost on the pages: each run's in the Runs table and its detail (per unit), the spend in the overview. */
describe.skipIf(!haveChromium)("the dashboard shows cost (Debian chromium)", () => {
  let root: string;
  let dashboard: Dashboard;
  let browser: Awaited<ReturnType<typeof launch>>;
  const t = Date.now();

  beforeAll(async () => {
    await buildClient();
    root = await mkdtemp(join(tmpdir(), "tapline dashboard cost "));
    const dir = join(root, ".tapline");
    await mkdir(join(dir, "runs"), { recursive: true });
    const step = (runId: string, path: string, time: number, cost?: Record<string, number>) => ({
      t: "step",
      time,
      runId,
      pipeline: "story",
      step: path.replace(/\[\d+\]/g, "[]"),
      path,
      status: "success",
      durationMs: 20,
      attempts: 1,
      ...(cost && { cost }),
    });
    const lines = [
      step("costly-run-0001", "script", t - 300, { usd: 0.0015, tokens: 264 }),
      step("costly-run-0001", "scenes[0]", t - 200, { usd: 0.003, images: 1 }),
      step("costly-run-0001", "scenes", t - 100, { usd: 0.003, images: 1 }),
      {
        t: "run",
        time: t,
        runId: "costly-run-0001",
        pipeline: "story",
        status: "success",
        durationMs: 320,
        cost: { usd: 0.0045, tokens: 264, images: 1 },
      },
      step("free-run-0001", "script", t + 1),
      { t: "run", time: t + 2, runId: "free-run-0001", pipeline: "story", status: "success", durationMs: 5 },
    ];
    const day = new Date(t).toISOString().slice(0, 10);
    await writeFile(join(dir, "runs", `${day}.0.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    await writeStatus(dir, {
      level: "healthy",
      message: "healthy",
      time: t,
      parts: [
        {
          component: "limits",
          level: "ok",
          message: "no unit waiting",
          details: {
            keys: {},
            budget: { daily: { period: day, spent: { usd: 0.0045 }, reserved: {}, limit: { usd: 20 } } },
          },
        },
      ],
    } as never);
    dashboard = await serveDashboard({ dir, pollIntervalMs: 200 });
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("Runs table: a cost column, empty for a run that cost nothing", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${dashboard.url}#/runs`);
    const row = page.locator('tr[data-run="costly-run-0001"]');
    await row.waitFor();
    expect(await row.locator("td.cost").textContent()).toBe("$0.0045 · 264 tokens · 1 images");
    expect(await page.locator('tr[data-run="free-run-0001"] td.cost').textContent()).toBe("");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("run detail: the run's cost and each unit's", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${dashboard.url}#/runs/costly-run-0001`);
    await page.getByTestId("timeline").waitFor();
    expect(await page.getByTestId("run-cost").textContent()).toBe("$0.0045 · 264 tokens · 1 images");
    expect(await page.locator('.unit[data-path="script"] .cost').textContent()).toBe("$0.0015 · 264 tokens");
    expect(await page.locator('.unit[data-path="scenes[0]"] .cost').textContent()).toBe("$0.0030 · 1 images");
    await page.close();
  });

  it("overview: the spend (24 h, last hour, all) and the app's window budget", async () => {
    const page = await browser.context.newPage();
    await page.goto(dashboard.url);
    const spend = page.getByTestId("spend");
    await spend.locator(".big", { hasText: "$0.0045" }).waitFor();
    expect(await spend.textContent()).toContain("last hour $0.0045 · 264 tokens · 1 images");
    expect(await page.getByTestId("spend-window").textContent()).toMatch(
      /daily budget \(\d{4}-\d\d-\d\d\): 0\.0045 of 20 usd/,
    );
    await page.close();
  });
});
