import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../scripts/build-client.mjs";
import type { Overview, RunDetail, RunSummary, StepStats, UnitView } from "../src/api-types.ts";
import { type Dashboard, renderReport, serveDashboard } from "../src/index.ts";
import { gatherReport } from "../src/report-data.ts";
import { type DurableRuns, makeDurableRuns, makeInterruptedRun, until } from "./durable-app.ts";

const flat = (units: readonly UnitView[]): UnitView[] => units.flatMap((u) => [u, ...flat(u.children ?? [])]);

/**
 * The data dir of real durable runs (@tapline/plugin-durable + plugin-metrics, no hand-written record): a run
 * that failed and was resumed, one suspended for approval, one whose process was killed.
 */
describe("durable runs in the dashboard's API", () => {
  let root: string;
  let dir: string;
  let runs: DurableRuns;
  let dashboard: Dashboard;
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(new URL(path, dashboard.url));
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    await buildClient();
    root = await mkdtemp(join(tmpdir(), "tapline dashboard durable "));
    dir = join(root, ".tapline");
    runs = await makeDurableRuns(dir);
    expect([runs.failed.status, runs.resumed.status, runs.suspended.status]).toEqual([
      "failed",
      "success",
      "suspended",
    ]);
    await makeInterruptedRun(dir, "bat-run-1");
    dashboard = await serveDashboard({ dir, pollIntervalMs: 50 });
  }, 60_000);
  afterAll(async () => {
    await dashboard?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("the run detail shows the resumed execution with its replayed units (saved cost, not 0 ms executions) and the failed one before it", async () => {
    const run = await get<RunDetail>("api/runs/fox-run-1");
    expect(run.status).toBe("success");
    expect(run).toMatchObject({ resumed: true, executions: 2, replayed: 5 });
    const last = flat(run.units);
    const byPath = Object.fromEntries(last.map((u) => [u.path, u]));
    expect(Object.keys(byPath).sort()).toEqual(
      ["render", "review", "scenes", "scenes[0]", "scenes[1]", "scenes[2]", "script"].sort(),
    );
    for (const p of ["script", "scenes[0]", "scenes[1]", "scenes[2]", "review", "scenes"])
      expect(byPath[p]!.replayed, p).toBe(true);
    expect(byPath.render!.replayed).toBeUndefined();
    // What a replay saved is not what the run spent.
    expect(byPath.script!.savedCost).toEqual({ usd: 0.004 });
    expect(byPath.script!.cost).toBeUndefined();
    expect(byPath.scenes!.savedCost!.usd).toBeCloseTo(0.006);
    expect(run.earlier).toHaveLength(1);
    expect(run.earlier![0]).toMatchObject({ status: "failed", failedStep: "render" });
    expect(flat(run.earlier![0]!.units).some((u) => u.replayed)).toBe(false);
  });

  it("step statistics leave replayed units out of counts, durations and failure rates", async () => {
    const steps = await get<StepStats[]>("api/steps");
    const of = (step: string) => steps.find((s) => s.step === step)!;
    // script: executed by fox's first execution and by owl; replayed once (fox's resume).
    expect(of("script")).toMatchObject({ count: 2, replayed: 1, failures: 0 });
    expect(of("scenes[]")).toMatchObject({ count: 6, replayed: 3 });
    expect(of("scenes")).toMatchObject({ count: 2, replayed: 1 });
    // render: failed once, then succeeded: 50 %, whatever was replayed around it.
    expect(of("render")).toMatchObject({ count: 2, failures: 1 });
    expect(of("render").replayed).toBeUndefined();
    // No replay (well under 10 ms) drags the script's p50 (15 ms sleeps) down.
    expect(of("script").p50Ms).toBeGreaterThanOrEqual(10);
  });

  it("the Runs table marks the resumed run; the suspended one is counted as suspended, not as a failure", async () => {
    const { runs: list } = await get<{ runs: RunSummary[] }>("api/runs");
    expect(list.find((r) => r.runId === "fox-run-1")).toMatchObject({ resumed: true, status: "success" });
    expect(list.find((r) => r.runId === "owl-run-1")?.resumed).toBeUndefined();
    const o = await get<Overview>("api/overview");
    expect(o.totals).toMatchObject({ runs: 2, successes: 1, failures: 0, suspended: 1 });
    // Runs per minute count the resumed run as the success it became, and the suspended one as neither.
    const perMinute = o.perMinute.reduce((t, m) => [t[0]! + m[1], t[1]! + m[2]], [0, 0]);
    expect(perMinute).toEqual([1, 0]);
    const suspended = await get<{ runs: RunSummary[] }>("api/runs?status=suspended");
    expect(suspended.runs.map((r) => r.runId)).toEqual(["owl-run-1"]);
  });

  it("the Overview lists the waiting run with its reason and approve command, and the interrupted run", async () => {
    const o = await get<Overview>("api/overview");
    expect(o.durable?.error).toBeUndefined();
    expect(o.durable?.store).toBe(join(dir, "durable.sqlite"));
    expect(o.durable?.waiting).toEqual([
      expect.objectContaining({
        runId: "owl-run-1",
        pipeline: "story",
        unit: "review",
        reason: "approve the script before the voice is paid for",
        data: { images: 3 },
        approve: `tapline approve owl-run-1 <module> --dir '${dir}' --data '{"approved":true}'`,
      }),
    ]);
    expect(o.durable!.waiting[0]!.since).toBeLessThanOrEqual(o.now);
    expect(o.durable?.interrupted).toEqual([
      expect.objectContaining({
        runId: "bat-run-1",
        resume: `tapline resume bat-run-1 <module> --dir '${dir}'`,
      }),
    ]);
  });

  it("never writes to the store", async () => {
    const file = join(dir, "durable.sqlite");
    const before = await stat(file);
    const other = await serveDashboard({ dir, pollIntervalMs: 20 });
    try {
      await until(async () => {
        const o = (await (await fetch(new URL("api/overview", other.url))).json()) as Overview;
        return (o.durable?.waiting.length ?? 0) === 1;
      }, "the second dashboard's read");
    } finally {
      await other.close();
    }
    const after = await stat(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  });

  it("tapline report counts a resumed run once, by its outcome, and leaves replayed units out of the step figures", async () => {
    const data = await gatherReport(dir, 0, Date.now() + 1);
    expect(data.runs).toEqual({
      count: 2,
      successes: 1,
      failures: 0,
      cancelled: 0,
      suspended: 1,
      resumed: 1,
    });
    const of = (step: string) => data.steps.find((s) => s.step === step)!;
    expect(of("script")).toMatchObject({ replayed: 1, failures: 0 });
    expect(of("script").durations.count).toBe(2);
    expect(of("script").durations.min).toBeGreaterThanOrEqual(10);
    expect(of("scenes")).toMatchObject({ replayed: 1 });
    expect(of("render")).toMatchObject({ replayed: 0, failures: 1 });
    const md = await renderReport({ dir, format: "md" });
    expect(md).toContain("2 runs, success rate 100.0%, 0 failed, 0 cancelled, 1 suspended, 1 resumed");
  });
});
