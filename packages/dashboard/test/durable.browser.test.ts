import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import { type Dashboard, serveDashboard } from "../src/index.ts";
import { haveChromium, launch } from "./browser.ts";
import { makeDurableRuns, makeInterruptedRun } from "./durable-app.ts";

/**
 * Durable runs in a real browser, on the data dir of real runs (@tapline/plugin-durable + plugin-metrics): a
 * failed run resumed (its script and scenes replayed), a run suspended for approval, a run whose process was
 * killed.
 */
describe.skipIf(!haveChromium)("durable runs on the pages (Debian chromium)", () => {
  let root: string;
  let dir: string;
  let dashboard: Dashboard;
  let browser: Awaited<ReturnType<typeof launch>>;

  beforeAll(async () => {
    await buildClient();
    root = await mkdtemp(join(tmpdir(), "tapline dashboard durable browser "));
    dir = join(root, ".tapline");
    await makeDurableRuns(dir);
    await makeInterruptedRun(dir, "bat-run-1");
    dashboard = await serveDashboard({ dir });
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const open = async (hash: string): Promise<{ page: Page; errors: string[] }> => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${dashboard.url}${hash}`);
    return { page, errors };
  };

  it("the run detail labels the replayed units with what they saved, and shows the failed execution before", async () => {
    const { page, errors } = await open("#/runs/fox-run-1");
    const timeline = page.getByTestId("timeline");
    await timeline.waitFor();
    const replayed = timeline.locator('.unit[data-replayed="true"]');
    await expect.poll(() => replayed.count()).toBe(6); // script, scenes and its 3 items, review
    const script = timeline.locator('.unit[data-path="script"]');
    expect(await script.getByTestId("replayed").textContent()).toBe("replayed");
    expect(await script.getByTestId("saved").textContent()).toBe("saved $0.0040");
    expect(await script.locator(".dur").textContent()).toBe("replayed");
    // The render really ran in this execution: a bar with its duration, no replay label.
    const render = timeline.locator('.unit[data-path="render"]');
    expect(await render.getByTestId("replayed").count()).toBe(0);
    expect(await render.locator(".dur").textContent()).toMatch(/ms$/);
    // The first execution, failed at its render, below: nothing replayed there.
    const earlier = page.getByTestId("earlier");
    expect(await earlier.textContent()).toContain("failed at render");
    expect(await earlier.locator('.unit[data-replayed="true"]').count()).toBe(0);
    expect(await page.locator("h1 + p").textContent()).toContain("resumed: 2 executions, 5 units replayed");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the Runs table marks the resumed run and filters the suspended one", async () => {
    const { page, errors } = await open("#/runs");
    const fox = page.locator('tr[data-run="fox-run-1"]');
    await fox.waitFor();
    expect(await fox.getByTestId("resumed").textContent()).toContain("resumed");
    expect(await page.locator('tr[data-run="owl-run-1"]').getByTestId("resumed").count()).toBe(0);
    await page.selectOption('select[name="status"]', "suspended");
    await expect.poll(() => page.locator("table.runs tbody tr").count()).toBe(1);
    expect(await page.locator("table.runs tbody tr").getAttribute("data-run")).toBe("owl-run-1");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the Overview lists the waiting run with its reason, wait and approve command, the interrupted run, and the durable status part", async () => {
    const { page, errors } = await open("#/");
    const row = page.getByTestId("waiting").locator('tr[data-run="owl-run-1"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("approve the script before the voice is paid for");
    expect(await row.textContent()).toMatch(/\d+ (s|min)/);
    expect(await row.getByTestId("approve").textContent()).toBe(
      `tapline approve owl-run-1 <module> --dir '${dir}' --data '{"approved":true}'`,
    );
    expect(await page.getByTestId("suspended-runs").textContent()).toBe("1");
    const interrupted = page.getByTestId("interrupted").locator('tr[data-run="bat-run-1"]');
    expect(await interrupted.textContent()).toContain("tapline resume bat-run-1 <module>");
    // plugin-durable's status part, from the status.json plugin-metrics wrote, beside the others.
    const parts = page.getByTestId("status-part");
    await expect.poll(async () => (await parts.allTextContents()).join("\n")).toMatch(/durable\s*ok/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the Steps page counts replayed units apart", async () => {
    const { page, errors } = await open("#/steps");
    const script = page.locator('tr[data-step="script"]');
    await script.waitFor();
    expect(await script.locator(".replayed-count").textContent()).toBe("1");
    expect(await script.locator("td").nth(2).textContent()).toBe("2");
    expect(await page.locator('tr[data-step="render"] td').nth(3).textContent()).toBe("50.0%");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a run that suspends while the Overview is open joins the waiting list within 2 s", async () => {
    const { page, errors } = await open("#/");
    const waiting = page.getByTestId("waiting").locator("tbody tr");
    await expect.poll(() => waiting.count()).toBe(1);
    await makeDurableRuns(dir, { resumed: "cat-run-1", suspended: "newt-run-1" });
    const appeared = Date.now();
    await page.getByTestId("waiting").locator('tr[data-run="newt-run-1"]').waitFor({ timeout: 2000 });
    expect(Date.now() - appeared).toBeLessThan(2000);
    expect(await waiting.count()).toBe(2);
    expect(await page.getByTestId("suspended-runs").textContent()).toBe("2");
    expect(errors).toEqual([]);
    await page.close();
  });
});
