// The dashboard's figures (issue #17): first paint with 10,000 runs of history, the server's memory with
// those runs, and the delay from a record appended to the folder to the open page showing it. Needs Debian's
// chromium (skipped with a reason without it). Times are wall clock on a shared machine: read them as orders
// of magnitude.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveDashboard } from "@tapline/dashboard";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const RUNS = 10_000;
const STEPS = ["script", "voice", "subtitles", "render"];

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

export default async function bench(): Promise<void> {
  console.log("\n## dashboard: 10,000 runs of history, first paint, memory, append-to-page delay");
  if (!existsSync(CHROMIUM)) {
    console.log(`skipped: ${CHROMIUM} is missing (sudo apt-get install chromium)`);
    return;
  }
  const root = await mkdtemp(join(tmpdir(), "tapline-dash-bench-"));
  const dir = join(root, ".tapline");
  await mkdir(join(dir, "runs"), { recursive: true });
  const file = join(dir, "runs", `${new Date().toISOString().slice(0, 10)}.0.jsonl`);
  const start = Date.now() - RUNS * 1000;
  const lines: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const runId = `run-${String(i).padStart(6, "0")}`;
    let t = start + i * 1000;
    for (const step of STEPS) {
      const failed = step === "render" && i % 17 === 0;
      const durationMs = 20 + ((i * 7919 + step.length * 131) % 400);
      t += durationMs;
      lines.push(
        JSON.stringify({
          t: "step",
          time: t,
          runId,
          pipeline: "story",
          step,
          status: failed ? "failed" : "success",
          durationMs,
          attempts: failed ? 3 : 1,
          ...(failed && { error: "Error: ffmpeg exited with 1" }),
        }),
      );
    }
    const failed = i % 17 === 0;
    lines.push(
      JSON.stringify({
        t: "run",
        time: t,
        runId,
        pipeline: "story",
        status: failed ? "failed" : "success",
        durationMs: 900,
        ...(failed && { failedStep: "render", error: "Error: ffmpeg exited with 1" }),
      }),
    );
  }
  await appendFile(file, `${lines.join("\n")}\n`);
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const dashboard = await serveDashboard({ dir, pollIntervalMs: 200 });
  const ingestMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  console.log(`records read at start: ${lines.length} in ${ingestMs.toFixed(0)} ms`);
  console.log(
    `server memory with ${RUNS} runs, in this process: heap +${mb(after.heapUsed - before.heapUsed)}`,
  );
  // The server alone in its own process (no browser driver loaded): what `tapline dashboard` holds.
  const alone = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      "--input-type=module",
      "-e",
      `import { serveDashboard } from "@tapline/dashboard";
       const d = await serveDashboard({ dir: ${JSON.stringify(dir)} });
       globalThis.gc(); const m = process.memoryUsage();
       console.log(JSON.stringify({ rss: m.rss, heap: m.heapUsed })); await d.close();`,
    ],
    { cwd: import.meta.dirname, encoding: "utf8" },
  );
  const m = JSON.parse(alone) as { rss: number; heap: number };
  console.log(`server alone (own process, ${RUNS} runs read): rss ${mb(m.rss)}, heap ${mb(m.heap)}`);

  const context = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), "tapline-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const paints: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await context.newPage();
      const p0 = performance.now();
      await page.goto(dashboard.url);
      await page
        .getByTestId("total-runs")
        .filter({ hasText: String(RUNS) })
        .waitFor();
      paints.push(performance.now() - p0);
      await page.close();
    }
    paints.sort((a, b) => a - b);
    console.log(
      `first paint of the overview with ${RUNS} runs (goto → numbers shown): median ${paints[2]!.toFixed(0)} ms, max ${paints[4]!.toFixed(0)} ms`,
    );

    const page = await context.newPage();
    await page.goto(`${dashboard.url}#/runs`);
    await page.locator("tr[data-run]").first().waitFor();
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const runId = `appended-${i}`;
      const a0 = performance.now();
      await appendFile(
        file,
        `${JSON.stringify({ t: "run", time: Date.now(), runId, pipeline: "story", status: "success", durationMs: 5 })}\n`,
      );
      await page.locator(`tr[data-run="${runId}"]`).waitFor({ timeout: 5000 });
      delays.push(performance.now() - a0);
      await new Promise((r) => setTimeout(r, 150));
    }
    delays.sort((a, b) => a - b);
    console.log(
      `append → shown on the open page (20 runs): median ${delays[10]!.toFixed(0)} ms, max ${delays[19]!.toFixed(0)} ms`,
    );
  } finally {
    await context.close();
    await dashboard.close();
    await rm(root, { recursive: true, force: true });
  }
}
