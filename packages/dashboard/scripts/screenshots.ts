// Takes the README's screenshots (docs/*.png) on the data folder of a real examples/story-video run (two quick
// stories, failures injected, so retries show): `pnpm exec node --conditions=@tapline/source scripts/screenshots.ts`
// from packages/dashboard (needs ffmpeg and Debian's chromium).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveDashboard } from "../src/index.ts";
import { launch } from "../test/browser.ts";
import { buildClient } from "./build-client.mjs";

// The demo is another project (it has the CLI as a devDependency): loaded at run time, not imported.
const demoModule = new URL("../../../examples/story-video/src/index.ts", import.meta.url).href;
const { runDemo } = (await import(demoModule)) as {
  runDemo(o: Record<string, unknown>): Promise<{ reports: { report: { runId: string; status: string } }[] }>;
};

await buildClient();
const root = await mkdtemp(join(tmpdir(), "tapline screenshots "));
const demo = await runDemo({
  quick: true,
  stories: 2,
  seed: 3,
  failureRate: 0.3,
  out: join(root, "out"),
  dir: join(root, ".tapline"),
  output: { isTTY: false, write: () => {} },
});
const shown = demo.reports.find((r) => r.report.status === "success") ?? demo.reports[0]!;
const dashboard = await serveDashboard({ dir: join(root, ".tapline"), files: [join(root, "out")] });
const { context, close } = await launch();
const page = await context.newPage();
await page.setViewportSize({ width: 1280, height: 860 });
for (const [name, hash, fullPage] of [
  ["overview", "#/", false],
  ["runs", "#/runs", false],
  ["run-detail", `#/runs/${shown.report.runId}`, true],
  ["steps", "#/steps", false],
  ["system", "#/system", false],
] as const) {
  await page.goto(`${dashboard.url}${hash}`);
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(500); // charts draw after their data arrives
  await page.screenshot({ path: new URL(`../docs/${name}.png`, import.meta.url).pathname, fullPage });
}
await close();
await dashboard.close();
await rm(root, { recursive: true, force: true });
