import { describe, expect, it } from "vitest";
import { DashboardModel, definitionPathOf, parentPathOf, type UnitRecord, unitTree } from "./model.ts";

const step = (runId: string, path: string, time: number, extra: object = {}) =>
  ({
    t: "step",
    time,
    runId,
    pipeline: "p",
    step: path.split(/[.[]/)[0]!,
    path,
    status: "success",
    durationMs: 1,
    attempts: 1,
    ...extra,
  }) as const;
const run = (runId: string, time: number, status = "success") => ({
  t: "run",
  time,
  runId,
  pipeline: "p",
  status,
  durationMs: 2,
});

describe("unit paths", () => {
  it("parents and definition paths", () => {
    expect(parentPathOf("script")).toBeUndefined();
    expect(parentPathOf("scenes[3]")).toBe("scenes");
    expect(parentPathOf("scenes[3].tts")).toBe("scenes[3]");
    expect(parentPathOf("media.voice")).toBe("media");
    expect(definitionPathOf("scenes[12].tts")).toBe("scenes[].tts");
  });

  it("unitTree nests map items and branches under their step, in end order; an orphan stays at the top", () => {
    const records = [
      step("r", "script", 1),
      step("r", "scenes[1].tts", 2),
      step("r", "scenes[1]", 3),
      step("r", "scenes[0]", 4),
      step("r", "scenes", 5),
      step("r", "media.voice", 6),
    ] as unknown as UnitRecord[];
    const tree = unitTree(records, () => undefined);
    const shape = (u: { path: string; children?: readonly unknown[] }): unknown =>
      u.children?.length ? { [u.path]: (u.children as typeof tree).map(shape) } : u.path;
    expect(tree.map(shape)).toEqual([
      "script",
      { scenes: [{ "scenes[1]": ["scenes[1].tts"] }, "scenes[0]"] },
      "media.voice",
    ]);
  });
});

describe("DashboardModel", () => {
  it("keeps the last keepRuns finished runs, and a run in progress over older finished ones", () => {
    const m = new DashboardModel("/x", 3);
    m.addActivity(step("long", "a", 0));
    for (let i = 0; i < 20; i++) {
      m.addActivity(step(`r${i}`, "a", i + 1));
      m.addActivity(run(`r${i}`, i + 1, i % 4 === 0 ? "failed" : "success"));
    }
    // Evicted in batches (down to keepRuns once 10% + 10 over it): memory stays bounded by that.
    const { runs } = m.runs({ limit: 100 });
    expect(runs.length).toBeLessThanOrEqual(3 * 1.1 + 10);
    expect(runs[0]!.runId).toBe("r19");
    expect(runs.map((r) => r.runId)).toContain("long");
    expect(runs.map((r) => r.runId)).not.toContain("r0");
    expect(m.evicted + runs.length).toBe(21);
    expect(m.totals).toEqual({ runs: 20, successes: 15, failures: 5, suspended: 0 });
    expect(m.overview().totals.running).toBe(1);
  });

  it("per-step p95, retries and top errors; secrets in errors are redacted", () => {
    const m = new DashboardModel("/x", 100);
    for (let i = 1; i <= 100; i++)
      m.addActivity(step(`r${i}`, "tts", i, { durationMs: i, attempts: i % 10 === 0 ? 2 : 1 }));
    m.addActivity(
      step("bad", "tts", 200, { status: "failed", error: "401 for sk-live-abcdefghijklmnop1234" }),
    );
    const [tts] = m.steps();
    expect(tts).toMatchObject({ step: "tts", count: 101, failures: 1, retries: 10, p50Ms: 50, p95Ms: 95 });
    expect(tts!.topErrors).toEqual([{ message: "401 for [redacted]", count: 1 }]);
  });
});

describe("cost", () => {
  const now = Date.UTC(2026, 11, 1, 12);
  const H = 3_600_000;

  it("each run's cost in its summary, each unit's in the tree; a running run shows its finished top-level steps'", () => {
    const m = new DashboardModel("/x", 100);
    m.addActivity(step("a", "script", now - 2000, { cost: { usd: 0.002, tokens: 400 } }));
    m.addActivity(step("a", "scenes[0]", now - 1500, { cost: { usd: 0.003, images: 1 } }));
    m.addActivity(step("a", "scenes", now - 1000, { cost: { usd: 0.003, images: 1 } }));
    // Running: the top-level steps (script, scenes) only; scenes[0] is inside scenes.
    expect(m.runs({ limit: 10 }).runs[0]!.cost).toEqual({ usd: 0.005, tokens: 400, images: 1 });
    m.addActivity({ ...run("a", now), cost: { usd: 0.0051, tokens: 400, images: 1, bogus: "x" } });
    expect(m.runs({ limit: 10 }).runs[0]!.cost).toEqual({ usd: 0.0051, tokens: 400, images: 1 });
    const tree = unitTree(m.run("a")!.units, () => undefined);
    expect(tree.map((u) => [u.path, u.cost])).toEqual([
      ["script", { usd: 0.002, tokens: 400 }],
      ["scenes", { usd: 0.003, images: 1 }],
    ]);
    expect(tree[1]!.children![0]!.cost).toEqual({ usd: 0.003, images: 1 });
    // A run that cost nothing carries no cost.
    m.addActivity(run("free", now));
    expect(m.runs({ limit: 10 }).runs.find((r) => r.runId === "free")).not.toHaveProperty("cost");
  });

  it("the overview's spend: all runs read, the last hour's and the last 24 hours'; window budgets from plugin-limits", () => {
    const m = new DashboardModel("/x", 100);
    m.addActivity({ ...run("old", now - 30 * H), cost: { usd: 1 } });
    m.addActivity({ ...run("day", now - 5 * H), cost: { usd: 0.25, tokens: 10 } });
    m.addActivity({ ...run("hour", now - 10 * 60_000), cost: { usd: 0.5 } });
    m.addActivity(run("none", now));
    m.setStatus({
      level: "healthy",
      message: "",
      time: now,
      parts: [
        {
          component: "limits",
          level: "ok",
          message: "",
          details: {
            keys: {},
            budget: { daily: { period: "2026-12-01", spent: { usd: 0.75 }, limit: { usd: 20 } } },
          },
        },
      ],
    });
    expect(m.overview(now).spend).toEqual({
      total: { usd: 1.75, tokens: 10 },
      last24h: { usd: 0.75, tokens: 10 },
      lastHour: { usd: 0.5 },
      windows: { daily: { period: "2026-12-01", spent: { usd: 0.75 }, limit: { usd: 20 } } },
    });
  });
});

describe("durable runs: executions and replayed units", () => {
  it("a run resumed after its process died (no run record between) splits where a path comes again; a map of 40 replayed items makes its shape replayed", () => {
    const m = new DashboardModel("/x", 100);
    const n = 40;
    // First execution: the script, 40 scene items, then the process died (no scenes record, no run record).
    m.addActivity(step("r", "script", 1, { durationMs: 30 }));
    for (let i = 0; i < n; i++) m.addActivity(step("r", `scenes[${i}]`, 2 + i, { durationMs: 20 }));
    // Resumed: everything replays, the shape's record has no attempt of its own, the render runs.
    m.addActivity(
      step("r", "script", 100, { replayed: true, attempts: 0, durationMs: 0.3, cost: { usd: 1 } }),
    );
    for (let i = 0; i < n; i++)
      m.addActivity(step("r", `scenes[${i}]`, 101 + i, { replayed: true, attempts: 0, durationMs: 0.2 }));
    m.addActivity(step("r", "scenes", 150, { attempts: 0, durationMs: 0.9 }));
    m.addActivity(step("r", "render", 160, { durationMs: 5 }));
    m.addActivity(run("r", 161));
    const summary = m.runs({ limit: 1 }).runs[0]!;
    expect(summary).toMatchObject({ status: "success", resumed: true, executions: 2, replayed: n + 1 });
    const stats = Object.fromEntries(m.steps().map((s) => [s.step, s]));
    expect(stats.script).toMatchObject({ count: 1, replayed: 1, p50Ms: 30 });
    expect(stats["scenes[]"]).toMatchObject({ count: n, replayed: n, p50Ms: 20 });
    expect(stats.scenes).toMatchObject({ count: 0, replayed: 1 });
    expect(stats.render).toMatchObject({ count: 1 });
    expect(stats.render!.replayed).toBeUndefined();
  });

  it("a shape with one executed unit inside is an execution, not a replay", () => {
    const m = new DashboardModel("/x", 100);
    m.addActivity(step("r", "scenes[0]", 1));
    m.addActivity(step("r", "scenes[1]", 2, { status: "failed" }));
    m.addActivity(step("r", "scenes", 3, { attempts: 0, status: "failed" }));
    m.addActivity(run("r", 4, "failed"));
    m.addActivity(step("r", "scenes[0]", 10, { replayed: true, attempts: 0 }));
    m.addActivity(step("r", "scenes[1]", 11));
    m.addActivity(step("r", "scenes", 12, { attempts: 0 }));
    m.addActivity(run("r", 13));
    const stats = Object.fromEntries(m.steps().map((s) => [s.step, s]));
    expect(stats.scenes).toMatchObject({ count: 2, failures: 1 });
    expect(stats.scenes!.replayed).toBeUndefined();
    expect(m.totals).toEqual({ runs: 1, successes: 1, failures: 0, suspended: 0 });
  });
});
