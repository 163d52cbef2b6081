// Takes the README's screenshots (docs/*.png) of a real fixture run: `pnpm exec node --conditions=@tapline/source scripts/screenshots.ts`.
import { rm } from "node:fs/promises";
import { serveDashboard } from "../src/index.ts";
import { launch } from "../test/browser.ts";
import { makeDataDir } from "../test/fixture.ts";

const fx = await makeDataDir(8);
const dashboard = await serveDashboard({ dir: fx.dir });
const { context, close } = await launch();
const page = await context.newPage();
await page.setViewportSize({ width: 1280, height: 860 });
for (const [name, hash] of [
  ["overview", "#/"],
  ["runs", "#/runs"],
  ["run-detail", `#/runs/${fx.runIds[fx.runIds.length - 1]}`],
  ["steps", "#/steps"],
  ["system", "#/system"],
] as const) {
  await page.goto(`${dashboard.url}${hash}`);
  await page.waitForTimeout(700);
  await page.screenshot({ path: new URL(`../docs/${name}.png`, import.meta.url).pathname });
}
await close();
await dashboard.close();
await rm(fx.root, { recursive: true, force: true });
