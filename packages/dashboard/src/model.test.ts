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
    expect(m.totals).toEqual({ runs: 20, successes: 15, failures: 5 });
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
