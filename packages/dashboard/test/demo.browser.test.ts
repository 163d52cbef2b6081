import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import { type Dashboard, serveDashboard } from "../src/index.ts";
import { haveChromium, launch } from "./browser.ts";

// The story-video demo is another project (it has the CLI as a devDependency): loaded at run time, not imported.
const demoModule = new URL("../../../examples/story-video/src/index.ts", import.meta.url).href;
const haveFfmpeg = (() => {
  try {
    execFileSync(process.env.FFPROBE_PATH || "ffprobe", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!haveFfmpeg && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error("ffmpeg/ffprobe are required (TAPLINE_REQUIRE_INTEGRATION=1)");

/** The demo's top-level steps (media is a parallel of the voice chain and the scenes map). */
const STEPS = ["script", "revise", "media", "render", "validate"];

/** The dashboard on the data folder of a real demo run (one quick story, failures injected). */
describe.skipIf(!haveChromium || !haveFfmpeg)("the dashboard on a real story-video demo run", () => {
  let root: string;
  let dashboard: Dashboard;
  let browser: Awaited<ReturnType<typeof launch>>;
  let runId: string;
  /** What the run's report says, to compare with what the page shows. */
  let units: { path: string; attempts: number }[];

  beforeAll(async () => {
    await buildClient();
    root = await mkdtemp(join(tmpdir(), "tapline dashboard demo "));
    const { runDemo } = (await import(demoModule)) as {
      runDemo(
        o: Record<string, unknown>,
      ): Promise<{ reports: { report: { runId: string; steps: { attempts: unknown[] }[] } }[] }>;
    };
    const demo = await runDemo({
      quick: true,
      seed: 3,
      failureRate: 0.3,
      out: join(root, "out"),
      dir: join(root, ".tapline"),
      output: { isTTY: false, write: () => {} },
    });
    runId = demo.reports[0]!.report.runId;
    // Every unit of the report tree, depth first: a shape has no attempts of its own.
    const flat: { path: string; attempts: number }[] = [];
    const walk = (
      units: readonly { path: string; attempts: readonly unknown[]; children?: readonly unknown[] }[],
    ) => {
      for (const u of units) {
        flat.push({ path: u.path, attempts: u.attempts.length });
        if (u.children) walk(u.children as typeof units);
      }
    };
    walk(demo.reports[0]!.report.steps as unknown as Parameters<typeof walk>[0]);
    units = flat;
    dashboard = await serveDashboard({ dir: join(root, ".tapline"), files: [join(root, "out")] });
    browser = await launch();
  }, 120_000);
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

  it("every page loads with zero console errors; the overview counts the run and lists its steps", async () => {
    const { page, errors } = await open("#/");
    await page.getByTestId("total-runs").filter({ hasText: "1" }).waitFor();
    for (const step of STEPS)
      expect(await page.locator("td.mono", { hasText: new RegExp(`^${step}$`) }).count()).toBe(1);
    for (const hash of ["#/runs", `#/runs/${runId}`, "#/steps", "#/system", "#/alerts"]) {
      await page.goto(`${dashboard.url}${hash}`);
      await page.waitForTimeout(300);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("run detail: the demo's unit tree on the timeline (scene items included), each with the attempts its report counted", async () => {
    const { page, errors } = await open(`#/runs/${runId}`);
    await page.getByTestId("timeline").waitFor();
    const shown = new Map(
      (
        await page
          .locator(".unit")
          .evaluateAll((els) =>
            els.map((e) => [e.getAttribute("data-path"), Number(e.getAttribute("data-attempts"))]),
          )
      ).map(([p, n]) => [String(p), Number(n)]),
    );
    for (const step of STEPS) expect(shown.has(step)).toBe(true);
    expect(units.some((u) => /\[\d+\]$/.test(u.path))).toBe(true);
    for (const unit of units) if (unit.attempts > 0) expect(shown.get(unit.path)).toBe(unit.attempts);
    // The injected failures were retried (seeded: the same units every time), and the page says so.
    const retried = units.filter((u) => u.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const unit of retried)
      expect(await page.locator(`.unit[data-path="${unit.path}"] .retries`).textContent()).toBe(
        `${unit.attempts} attempts`,
      );
    // The records carry the steps' artifacts: the voiceover and the video play inline (from the served out/).
    expect(await page.locator("li.artifact video").count()).toBeGreaterThan(0);
    expect(await page.locator("li.artifact audio").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("system: the charts hold the samples the demo's sampler wrote", async () => {
    const { page, errors } = await open("#/system");
    const chart = page.locator("figure.chart").first();
    await chart.waitFor();
    expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await page.close();
  });
});
