import { appendFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import { type Dashboard, serveDashboard } from "../src/index.ts";
import { haveChromium, launch } from "./browser.ts";
import { type Fixture, makeDataDir, mapAvailable } from "./fixture.ts";

/** Opens a page and collects its console errors and page errors (there must be none). */
async function open(context: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("dialog", (d) => {
    errors.push(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url);
  return { page, errors };
}

/** A real 16-bit mono WAV of silence, `seconds` long. */
function wav(seconds: number): Buffer {
  const rate = 8000;
  const data = Math.round(rate * seconds) * 2;
  const b = Buffer.alloc(44 + data);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + data, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(data, 40);
  return b;
}

async function runsFile(dir: string): Promise<string> {
  const names = (await readdir(join(dir, "runs"))).sort();
  return join(dir, "runs", names[names.length - 1]!);
}

describe.skipIf(!haveChromium)("the dashboard in a real browser (Debian chromium)", () => {
  let fx: Fixture;
  let dashboard: Dashboard;
  let browser: Awaited<ReturnType<typeof launch>>;

  beforeAll(async () => {
    await buildClient();
    fx = await makeDataDir();
    dashboard = await serveDashboard({ dir: fx.dir, files: [fx.root], pollIntervalMs: 200 });
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    if (fx) await rm(fx.root, { recursive: true, force: true });
  });

  it("overview: loads with zero console errors, shows the runs, status parts and a chart holding the data", async () => {
    const { page, errors } = await open(browser.context, dashboard.url);
    await page
      .getByTestId("total-runs")
      .filter({ hasText: String(fx.runIds.length + (fx.mapRunId ? 1 : 0)) })
      .waitFor({ timeout: 5000 });
    expect(await page.getByTestId("success-rate").textContent()).toBe("80.0%");
    expect(await page.getByTestId("status-part").count()).toBeGreaterThanOrEqual(2);
    const chart = page.locator('figure.chart[data-title^="Runs per minute"]');
    expect(await chart.getAttribute("data-points")).toBe("60");
    // uPlot drew it: a canvas with a size.
    expect(await chart.locator("canvas").count()).toBe(1);
    const bars = await chart
      .locator("canvas")
      .evaluate((c) => (c as unknown as { clientWidth: number }).clientWidth);
    expect(bars).toBeGreaterThan(100);
    await page.waitForTimeout(300);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("escaping: a step named <script> and an error with <img onerror> stay text", async () => {
    const { page, errors } = await open(browser.context, `${dashboard.url}#/runs`);
    await page.locator("tr[data-run]").first().waitFor();
    await expect
      .poll(() => page.locator("td.err", { hasText: "<img src=x onerror=alert(1)>" }).count())
      .toBe(1);
    await page.goto(`${dashboard.url}#/`);
    await page.locator("td.mono", { hasText: "<script>alert(1)</script>" }).first().waitFor();
    expect(await page.locator("main script, main img").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("live: a run appended to the folder shows on the open Runs page within 2 s", async () => {
    const { page, errors } = await open(browser.context, `${dashboard.url}#/runs`);
    await page.locator("tr[data-run]").first().waitFor();
    const id = "appended-run-0001";
    const t = Date.now();
    const appended = Date.now();
    await appendFile(
      await runsFile(fx.dir),
      `${JSON.stringify({ t: "step", time: t, runId: id, pipeline: "story", step: "script", status: "success", durationMs: 3, attempts: 1 })}\n` +
        `${JSON.stringify({ t: "run", time: t, runId: id, pipeline: "story", status: "success", durationMs: 4 })}\n`,
    );
    await page.locator(`tr[data-run="${id}"]`).waitFor({ timeout: 2000 });
    expect(Date.now() - appended).toBeLessThan(2000);
    expect(await page.getByText("live", { exact: true }).count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("runs: the table filters by status, pipeline and text", async () => {
    const { page, errors } = await open(browser.context, `${dashboard.url}#/runs`);
    await page.locator("tr[data-run]").first().waitFor();
    await page.locator('select[name="status"]').selectOption("failed");
    const failed = fx.runIds[fx.runIds.length - 1]!;
    await expect
      .poll(() =>
        page.locator("tr[data-run]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run"))),
      )
      .toEqual([failed]);
    await page.locator('select[name="status"]').selectOption("");
    await page.locator('input[name="q"]').fill(fx.runIds[1]!.slice(0, 13));
    await expect.poll(() => page.locator("tr[data-run]").count()).toBe(1);
    await page.locator('input[name="q"]').fill("");
    await page.locator('select[name="pipeline"]').selectOption("story");
    await expect.poll(() => page.locator("tr[data-run]").count()).toBeGreaterThanOrEqual(fx.runIds.length);
    await expect.poll(() => page.url()).toContain("pipeline=story");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a run appended while the dashboard was down shows once the page reconnects", async () => {
    const own = await serveDashboard({ dir: fx.dir, pollIntervalMs: 200 });
    const { page, errors } = await open(browser.context, `${own.url}#/runs`);
    await page.locator("tr[data-run]").first().waitFor();
    await own.close();
    await page.getByText("offline", { exact: true }).waitFor();
    const id = "while-down-0001";
    await appendFile(
      await runsFile(fx.dir),
      `${JSON.stringify({ t: "run", time: Date.now(), runId: id, pipeline: "story", status: "success", durationMs: 4 })}\n`,
    );
    const again = await serveDashboard({ dir: fx.dir, port: own.port });
    try {
      await page.locator(`tr[data-run="${id}"]`).waitFor({ timeout: 5000 });
      // The browser reports the refused reconnection attempts; nothing else.
      expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED|EventSource/.test(e))).toEqual([]);
    } finally {
      await page.close();
      await again.close();
    }
  });

  it("a fetch that fails (the server went away mid-request) throws nothing in the page; the stream still fills the table", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/ERR_CONNECTION_REFUSED|ERR_FAILED/.test(m.text())) errors.push(m.text());
    });
    let refused = 0;
    await page.route(/\/api\/(runs|overview)/, (route) => {
      refused++;
      return route.abort("connectionrefused");
    });
    await page.goto(`${dashboard.url}#/runs`);
    await expect.poll(() => refused).toBeGreaterThanOrEqual(2);
    await page.getByText("live", { exact: true }).waitFor();
    const id = "after-refused-0001";
    await appendFile(
      await runsFile(fx.dir),
      `${JSON.stringify({ t: "run", time: Date.now(), runId: id, pipeline: "story", status: "success", durationMs: 4 })}\n`,
    );
    await page.locator(`tr[data-run="${id}"]`).waitFor({ timeout: 5000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("run detail: the unit timeline with each unit's attempts and the failure", async () => {
    const failed = fx.runIds[fx.runIds.length - 1]!;
    const { page, errors } = await open(browser.context, `${dashboard.url}#/runs/${failed}`);
    await page.getByTestId("timeline").waitFor();
    const units = page.locator(".unit");
    expect(await units.count()).toBe(3);
    expect(await units.nth(1).getAttribute("data-attempts")).toBe("2");
    expect(await units.nth(1).locator(".attempt").count()).toBe(2);
    const render = page.locator('.unit[data-path="<script>alert(1)</script>"]');
    expect(await render.getAttribute("data-attempts")).toBe("3");
    expect(await render.locator(".unit-error").textContent()).toContain("render failed");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("run detail: nested units, findings and artifacts (an audio player for a local file)", async () => {
    // Records as core's units write them (path, children), with findings and artifacts declared by the step.
    const id = "nested-run-0001";
    const t = Date.now();
    const audio = join(fx.root, "voice.wav");
    await writeFile(audio, wav(0.2));
    const lines = [
      {
        t: "step",
        time: t - 30,
        runId: id,
        pipeline: "story",
        step: "scenes",
        path: "scenes[0]",
        status: "success",
        durationMs: 20,
        attempts: 1,
      },
      {
        t: "step",
        time: t - 10,
        runId: id,
        pipeline: "story",
        step: "scenes",
        path: "scenes[1]",
        status: "success",
        durationMs: 30,
        attempts: 2,
        attemptsMs: [10, 12],
      },
      {
        t: "step",
        time: t,
        runId: id,
        pipeline: "story",
        step: "scenes",
        path: "scenes",
        status: "success",
        durationMs: 45,
        attempts: 1,
        findings: [
          { severity: "warning", message: "loudness -19 LUFS <b>low</b>", file: audio, check: "loudness" },
        ],
        artifacts: [
          { path: audio, kind: "audio" },
          { path: "/etc/passwd", kind: "text" },
        ],
      },
      { t: "run", time: t, runId: id, pipeline: "story", status: "success", durationMs: 50 },
    ];
    await appendFile(await runsFile(fx.dir), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const { page, errors } = await open(browser.context, `${dashboard.url}#/runs/${id}`);
    await page.locator('.unit[data-path="scenes[1]"]').waitFor({ timeout: 3000 });
    const paths = await page
      .locator(".unit")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-path")));
    expect(paths).toEqual(["scenes", "scenes[0]", "scenes[1]"]);
    expect(await page.locator('.unit[data-path="scenes[1]"] .attempt').count()).toBe(2);
    await page.getByText("loudness -19 LUFS <b>low</b>").waitFor();
    expect(await page.locator("audio").count()).toBe(1);
    expect(await page.getByText("(outside the served folders)").count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.skipIf(!mapAvailable)("run detail: a real .map() run lists its items and their retries", async () => {
    if (fx.mapError) throw new Error(fx.mapError);
    const id = fx.mapRunId!;
    const { page, errors } = await open(browser.context, `${dashboard.url}#/runs/${id}`);
    await page.getByTestId("timeline").waitFor();
    const paths = await page
      .locator(".unit")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-path")));
    expect(paths).toEqual(expect.arrayContaining(["items[0]", "items[1]", "items[2]"]));
    expect(await page.locator('.unit[data-path="items[1]"]').getAttribute("data-attempts")).toBe("2");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("steps, system and alerts pages load with zero console errors and chart the samples", async () => {
    const { page, errors } = await open(browser.context, `${dashboard.url}#/steps`);
    await page.locator('tr[data-step="voice"]').waitFor();
    expect(await page.locator("figure.chart").count()).toBeGreaterThanOrEqual(3);
    // The loudness each successful run measured (a quality sample of the run), one point per run.
    const loudness = page.locator('figure.chart[data-title^="tapline_audio_loudness_lufs"]');
    await loudness.waitFor();
    expect(await loudness.getAttribute("data-points")).toBe(String(fx.runIds.length - 1));
    // Two GPUs' samples as plugin-gpu writes them (no GPU on this machine): one chart, one line per GPU.
    const now = Date.now();
    const gpuSamples = [0, 1, 2].flatMap((i) =>
      ["0", "1"].map((gpu) => ({
        name: "nvidia_gpu_utilization_ratio",
        value: 0.2 * i + Number(gpu) * 0.1,
        unit: "ratio",
        labels: { gpu, name: "H200" },
        time: now - 3000 + i * 1000,
      })),
    );
    const metricsDir = join(fx.dir, "metrics");
    const metricsFile = join(metricsDir, (await readdir(metricsDir)).sort().at(-1)!);
    await appendFile(metricsFile, gpuSamples.map((g) => `${JSON.stringify(g)}\n`).join(""));
    await page.goto(`${dashboard.url}#/system`);
    const gpu = page.locator('figure.chart[data-title="nvidia_gpu_utilization_ratio"]');
    await gpu.waitFor({ timeout: 3000 });
    expect(await gpu.getAttribute("data-points")).toBe("3");
    expect(await gpu.locator(".u-legend .u-series").count()).toBe(3); // time + two GPUs
    const cpu = page.locator('figure.chart[data-title^="tapline_system_cpu"]').first();
    await cpu.waitFor();
    expect(Number(await cpu.getAttribute("data-points"))).toBeGreaterThan(2);
    await page.goto(`${dashboard.url}#/alerts`);
    await page.getByRole("heading", { name: "History" }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a token-protected dashboard: the page opened with ?token= loads and follows the stream", async () => {
    const token = "a-long-enough-secret-token";
    const secure = await serveDashboard({ dir: fx.dir, token });
    try {
      const { page, errors } = await open(browser.context, secure.url);
      await page.getByTestId("total-runs").waitFor();
      await page.getByText("live", { exact: true }).waitFor();
      expect(errors).toEqual([]);
      await page.close();
      const bare = await open(browser.context, secure.url.replace(/\?token=.*/, ""));
      expect(await bare.page.content()).toContain("a token is required");
      await bare.page.close();
    } finally {
      await secure.close();
    }
  });
});
