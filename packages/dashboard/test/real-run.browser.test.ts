import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import { type Dashboard, serveDashboard } from "../src/index.ts";
import { haveChromium, launch } from "./browser.ts";
import { haveFfmpeg, startDemoLikeApp } from "./demo-like-app.ts";

/**
 * Findings and artifacts of a real run: what plugin-metrics writes for a pipeline whose step makes a WAV with
 * ffmpeg and plugin-validate checks it (a loudness warning on the last attempt, a silent first attempt
 * rejected and retried) is what the run detail shows. No hand-written record.
 */
describe.skipIf(!haveChromium || !haveFfmpeg)("run detail of a real run: findings and artifacts", () => {
  let root: string;
  let dashboard: Dashboard;
  let browser: Awaited<ReturnType<typeof launch>>;
  let runId: string;
  let wavPath: string;

  beforeAll(async () => {
    await buildClient();
    root = await mkdtemp(join(tmpdir(), "tapline dashboard real run "));
    const dir = join(root, ".tapline");
    const demo = startDemoLikeApp({ dir });
    try {
      await demo.app.ready();
      const report = await demo.story("fox", 2);
      expect(report.status).toBe("success");
      runId = report.runId;
      wavPath = report.steps.find((s) => s.path === "voiceover")!.artifacts[0]!.path;
    } finally {
      await demo.app.close();
    }
    // The WAV lies under the app's dir (<dir>/media/<runId>/voice.wav): served without a `files` option.
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
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${dashboard.url}${hash}`);
    return { page, errors };
  };

  it("shows plugin-validate's findings (the final warning and the rejected attempt's error) and plays the WAV", async () => {
    const { page, errors } = await open(`#/runs/${runId}`);
    await page.getByTestId("timeline").waitFor();
    await page
      .getByText(/integrated loudness -\d+(\.\d+)? LUFS is under the -14 ± 1 LUFS target/)
      .waitFor({ timeout: 5000 });
    // The silent first attempt that validate rejected and retry replaced, with its attempt number.
    const rejected = page.locator("tr", { hasText: "audio is silent or near-silent" });
    await rejected.waitFor({ timeout: 5000 });
    expect(await rejected.textContent()).toContain("attempt 1");
    const audio = page.locator("audio");
    expect(await audio.count()).toBe(1);
    const src = await audio.getAttribute("src");
    expect(src).toBeTruthy();
    const res = await page.request.get(new URL(src!, dashboard.url).href);
    expect(res.status()).toBe(200);
    const body = await res.body();
    expect(body.subarray(0, 4).toString()).toBe("RIFF");
    // The artifact's path and size (1 s of 48 kHz 16-bit mono: about 94 KiB) beside its player.
    const item = page.locator("li.artifact");
    expect(await item.textContent()).toContain(wavPath);
    expect(await item.textContent()).toMatch(/9\d(\.\d)? KiB/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
