import { describe, expect, it } from "vitest";
import { createTapline, definePlugin, isTaplineError, type RunReport, type SavedRun } from "../src/index.ts";
import { silentLogger } from "../src/kit.ts";

/**
 * Core's side of durable runs, with a minimal store plugin written here against the public hooks (the real
 * store is @tapline/plugin-durable, tested in its own package). The store keys saved outputs by run id, path
 * and input (JSON), as a real store would by input hash.
 */
function memoryStore() {
  const runs = new Map<
    string,
    { pipeline: string; input: unknown; status: string; suspended?: SavedRun["suspended"] }
  >();
  const units = new Map<string, { input: string; output: unknown; cost: Record<string, number> }>();
  const released: string[] = [];
  const starts: { path: string; replayed: boolean }[] = [];
  const plugin = definePlugin({
    name: "memory-store",
    version: "1.0.0",
    core: "^1.0.0",
    setup({ hooks }) {
      hooks.runStart.tap("memory-store", ({ ctx, input, resumed }) => {
        if (!resumed) runs.set(ctx.runId, { pipeline: ctx.pipeline, input, status: "running" });
      });
      hooks.stepStart.tap("memory-store", ({ ctx, replayed }) => {
        starts.push({ path: ctx.path, replayed });
      });
      hooks.loadRun.tapPromise("memory-store", async ({ runId }) => {
        const run = runs.get(runId);
        if (!run) return undefined;
        return {
          runId,
          pipeline: run.pipeline,
          input: run.input,
          status: run.status as SavedRun["status"],
          ...(run.suspended && { suspended: run.suspended }),
          release: () => {
            released.push(runId);
          },
        };
      });
      hooks.replayUnit.tapPromise("memory-store", async ({ ctx, input }) => {
        const saved = units.get(`${ctx.runId}/${ctx.path}`);
        if (!saved || saved.input !== JSON.stringify(input)) return undefined;
        return { output: saved.output, cost: saved.cost };
      });
      hooks.saveUnit.tapPromise("memory-store", async ({ ctx, input, report }) => {
        if (report.output === "unsaveable") throw new Error("output too big: return a file path instead");
        units.set(`${ctx.runId}/${ctx.path}`, {
          input: JSON.stringify(input),
          output: report.output,
          cost: report.cost,
        });
      });
      hooks.runEnd.tap("memory-store", ({ ctx, report }) => {
        const run = runs.get(ctx.runId)!;
        run.status = report.status;
        if (report.suspended) run.suspended = report.suspended;
        else delete run.suspended;
      });
    },
  });
  return { plugin: plugin(), runs, units, released, starts };
}

describe("app.resume() and ctx.suspend() (core)", () => {
  it("without a store plugin, resume and suspend fail with a typed error naming the package", async () => {
    const app = createTapline({ logger: silentLogger });
    await expect(app.resume("any")).rejects.toSatisfy(
      (e) => isTaplineError(e, "TAPLINE_ERR_NO_DURABLE_STORE") && /@tapline\/plugin-durable/.test(e.message),
    );
    const p = app
      .pipeline("p")
      .step("wait", (_: void, ctx) => ctx.suspend({ reason: "approve" }))
      .build();
    const report = await p.run();
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_NO_DURABLE_STORE")).toBe(true);
    await app.close();
  });

  it("a failed run resumes: saved units replay (no call, no attempt, flagged), the rest run", async () => {
    const store = memoryStore();
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin] });
    const calls: string[] = [];
    let failRender = true;
    const p = app
      .pipeline<string>("story")
      .step("script", (idea: string, ctx) => {
        calls.push("script");
        ctx.cost(0.01, { unit: "usd" });
        return `${idea}!`;
      })
      .step("render", (script: string) => {
        calls.push("render");
        if (failRender) throw new Error("ffmpeg died");
        return `video(${script})`;
      })
      .build();
    const first = await p.run("idea", { runId: "r1" });
    expect(first.status).toBe("failed");
    expect(calls).toEqual(["script", "render"]);
    failRender = false;
    store.starts.length = 0;
    const second = await app.resume("r1");
    expect(second.status).toBe("success");
    expect(second.resumed).toBe(true);
    expect(second.output).toBe("video(idea!)");
    expect(calls).toEqual(["script", "render", "render"]);
    const [script, render] = second.steps;
    expect(script).toMatchObject({ replayed: true, attempts: [], cost: {}, savedCost: { usd: 0.01 } });
    expect(render).toMatchObject({ replayed: false, status: "success" });
    expect(render!.attempts).toHaveLength(1);
    expect(second.cost).toEqual({});
    expect(second.savedCost).toEqual({ usd: 0.01 });
    expect(store.starts).toEqual([
      { path: "script", replayed: true },
      { path: "render", replayed: false },
    ]);
    await app.close();
  });

  it("a map of 8 whose item 5 failed resumes by executing only the items without a saved success", async () => {
    const store = memoryStore();
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin] });
    const executed: number[] = [];
    let broken = true;
    const p = app
      .pipeline<number>("scenes")
      .map(
        "scenes",
        (n: number) => Array.from({ length: n }, (_, i) => i),
        (i: number) => {
          executed.push(i);
          if (broken && i === 5) throw new Error("image API 503");
          return i * 10;
        },
        { concurrency: 1 },
      )
      .build();
    const first = await p.run(8, { runId: "m1" });
    expect(first.status).toBe("failed");
    expect(first.failedStep).toBe("scenes[5]");
    broken = false;
    executed.length = 0;
    const second = await app.resume("m1");
    expect(second.status).toBe("success");
    expect(executed).toEqual([5, 6, 7]);
    expect(second.output).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(second.steps[0]!.children!.map((c) => c.replayed)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    await app.close();
  });

  it("a unit whose input changed because an earlier unit re-ran executes again", async () => {
    const store = memoryStore();
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin] });
    let version = 1;
    const executed: string[] = [];
    const p = app
      .pipeline("p")
      .step("a", () => {
        executed.push("a");
        return version;
      })
      .step("b", (n: number) => {
        executed.push("b");
        return n * 2;
      })
      .build();
    await p.run(undefined, { runId: "c1" });
    store.units.delete("c1/a"); // a's saved result is gone (as when its artifact changed): it re-runs
    version = 2;
    executed.length = 0;
    const again = await app.resume("c1");
    expect(executed).toEqual(["a", "b"]);
    expect(again.output).toBe(4);
    await app.close();
  });

  it("suspend ends the run as suspended; resume with data runs that unit again with ctx.resumeData", async () => {
    const store = memoryStore();
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin] });
    const calls: string[] = [];
    const p = app
      .pipeline("approval")
      .step("script", () => {
        calls.push("script");
        return "a script";
      })
      .step("approve", (script: string, ctx) => {
        calls.push(`approve:${JSON.stringify(ctx.resumeData)}`);
        const data = ctx.resumeData as { ok: boolean } | undefined;
        if (!data) return ctx.suspend({ reason: "approve the script", data: { script } });
        return data.ok ? script : "rejected";
      })
      .step("voice", (s: string) => {
        calls.push("voice");
        return `voice(${s})`;
      })
      .build();
    const first: RunReport = await p.run(undefined, { runId: "s1" });
    expect(first.status).toBe("suspended");
    expect(first.suspended).toEqual({
      unit: "approve",
      reason: "approve the script",
      data: { script: "a script" },
    });
    expect(first.steps.map((s) => s.status)).toEqual(["success", "suspended", "skipped"]);
    expect(first.failedStep).toBeUndefined();
    expect(calls).toEqual(["script", "approve:undefined"]);

    const second = await app.resume("s1", { resumeData: { ok: true } });
    expect(second.status).toBe("success");
    expect(second.output).toBe("voice(a script)");
    expect(calls).toEqual(["script", "approve:undefined", 'approve:{"ok":true}', "voice"]);
    expect(second.steps.map((s) => s.replayed)).toEqual([true, false, false]);

    // Approving a run that is not suspended is refused, and the store lets go of the run.
    await expect(app.resume("s1", { resumeData: { ok: true } })).rejects.toSatisfy(
      (e) => isTaplineError(e, "TAPLINE_ERR_RUN_NOT_SUSPENDED") && e.status === "success",
    );
    expect(store.released).toEqual(["s1"]);
    await app.close();
  });

  it("a suspension inside a map item suspends the map and the run; no retry wrapper calls it again", async () => {
    const store = memoryStore();
    const retried = definePlugin({
      name: "always-retry",
      version: "1.0.0",
      core: "^1.0.0",
      setup({ hooks }) {
        hooks.wrapStep.tap({ name: "always-retry", stage: 300 }, (next) => async (input, signal) => {
          try {
            return await next(input, signal);
          } catch {
            return next(input, signal);
          }
        });
      },
    });
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin, retried()] });
    let calls = 0;
    const p = app
      .pipeline("p")
      .map(
        "items",
        () => [0, 1],
        (i: number, ctx) => {
          calls++;
          if (i === 1) ctx.suspend({ reason: "wait for the render farm" });
          return i;
        },
        { concurrency: 1 },
      )
      .build();
    const report = await p.run(undefined, { runId: "ms1" });
    expect(report.status).toBe("suspended");
    expect(report.suspended?.unit).toBe("items[1]");
    expect(report.steps[0]!.status).toBe("suspended");
    expect(calls).toBe(2);
    await app.close();
  });

  it("unknown runs, unbuilt pipelines and bad options are typed errors", async () => {
    const store = memoryStore();
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin] });
    await expect(app.resume("nope")).rejects.toSatisfy((e) => isTaplineError(e, "TAPLINE_ERR_RUN_NOT_FOUND"));
    store.runs.set("orphan", { pipeline: "gone", input: 1, status: "failed" });
    await expect(app.resume("orphan")).rejects.toSatisfy(
      (e) => isTaplineError(e, "TAPLINE_ERR_RESUME_PIPELINE") && /"gone"/.test(e.message),
    );
    expect(store.released).toEqual(["orphan"]);
    await expect(app.resume("nope", { resumeDta: 1 } as never)).rejects.toSatisfy(
      (e) => isTaplineError(e, "TAPLINE_ERR_OPTIONS") && /did you mean "resumeData"/.test(e.message),
    );
    await app.close();
  });

  it("a store that cannot save fails the unit with its reason; one that cannot read lets the unit execute", async () => {
    const store = memoryStore();
    const errors: unknown[] = [];
    const app = createTapline({ logger: silentLogger, plugins: [store.plugin] });
    app.hooks.pluginError.tap("test", (e) => errors.push(e.error));
    const p = app
      .pipeline("p")
      .step("big", () => "unsaveable")
      .build();
    const report = await p.run(undefined, { runId: "u1" });
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_PLUGIN_HOOK")).toBe(true);
    expect(String((report.error as Error).message)).toMatch(/saveUnit.*return a file path/);
    expect(report.steps[0]!.output).toBeUndefined();

    const flaky = createTapline({
      logger: silentLogger,
      plugins: [
        definePlugin({
          name: "broken-reader",
          version: "1.0.0",
          core: "^1.0.0",
          setup({ hooks }) {
            hooks.replayUnit.tapPromise("broken-reader", async () => {
              throw new Error("database is locked");
            });
          },
        })(),
        memoryStore().plugin,
      ],
    });
    const seen: unknown[] = [];
    flaky.hooks.pluginError.tap("test", (e) => seen.push(e.error));
    let n = 0;
    const q = flaky
      .pipeline("q")
      .step("a", () => ++n)
      .step("b", (x: number) => {
        if (n === 1) throw new Error("first time");
        return x;
      })
      .build();
    await q.run(undefined, { runId: "f1" });
    const again = await flaky.resume("f1");
    expect(again.status).toBe("success");
    expect(n).toBe(2); // the store could not say: a executed again
    expect(seen.some((e) => /database is locked/.test(String((e as Error).message)))).toBe(true);
    await flaky.close();
    await app.close();
  });
});
