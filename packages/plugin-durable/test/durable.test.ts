import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline, isTaplineError, type TaplineApp } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterAll, describe, expect, it } from "vitest";
import { type DurableStore, durable, sqliteStore } from "../src/index.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "tapline-durable-"));
  dirs.push(d);
  return d;
}
const open: TaplineApp[] = [];
function app(dir: string, options: Parameters<typeof durable>[0] = {}) {
  const a = createTapline({ dir, logger: silentLogger, plugins: [durable(options)] });
  open.push(a);
  return a;
}
afterAll(async () => {
  for (const a of open) await a.close();
});

/** A story pipeline whose paid stand-ins count their calls; `render` fails while `broken.render` is set. */
function story(a: TaplineApp, dir: string, broken = { render: false }) {
  const calls: string[] = [];
  const pipeline = a
    .pipeline<string>("story")
    .step("script", (idea: string, ctx) => {
      calls.push("script");
      ctx.cost(0.01, { unit: "usd" });
      return {
        idea,
        lines: [`${idea} one`, `${idea} two`],
        at: new Date(0),
        tags: new Map([["mood", "calm"]]),
      };
    })
    .step("voice", (script, ctx) => {
      calls.push("voice");
      const file = join(dir, "voice.wav");
      writeFileSync(file, script.lines.join("\n"));
      ctx.artifact(file, { kind: "audio" });
      ctx.cost(0.02, { unit: "usd" });
      return { file, chars: 12n, bytes: Buffer.from("RIFF") };
    })
    .step("render", (voice) => {
      calls.push("render");
      if (broken.render) throw new Error("ffmpeg exited with code 1");
      return `video of ${readFileSync(voice.file, "utf8").length} chars`;
    })
    .build();
  return { pipeline, calls };
}

describe("durable(): resume, replay rules and faults on the SQLite store", () => {
  it("a failed run resumes without redoing paid steps; rich outputs come back as they were", async () => {
    const dir = temp();
    const a = app(dir);
    const broken = { render: true };
    const { pipeline, calls } = story(a, dir, broken);
    const first = await pipeline.run("fox", { runId: "s-1" });
    expect(first.status).toBe("failed");
    broken.render = false;
    const second = await a.resume("s-1");
    expect(second.status).toBe("success");
    expect(calls).toEqual(["script", "voice", "render", "render"]);
    expect(second.steps.map((s) => s.replayed)).toEqual([true, true, false]);
    const script = second.outputs.script as { at: Date; tags: Map<string, string> };
    expect(script.at).toBeInstanceOf(Date);
    expect(script.tags.get("mood")).toBe("calm");
    const voice = second.outputs.voice as { chars: bigint; bytes: Buffer };
    expect(voice.chars).toBe(12n);
    expect(Buffer.isBuffer(voice.bytes) && voice.bytes.toString()).toBe("RIFF");
    expect(second.savedCost?.usd).toBeCloseTo(0.03, 9);
    expect(second.steps[1]!.artifacts.map((x) => x.path)).toEqual([join(dir, "voice.wav")]);
  });

  it("the saved run keeps the error of its last execution only: a resume that succeeds clears it", async () => {
    const dir = temp();
    const a = app(dir);
    const broken = { render: true };
    const { pipeline } = story(a, dir, broken);
    await pipeline.run("owl", { runId: "e-1" });
    const store = sqliteStore({ path: join(dir, "durable.sqlite") });
    try {
      expect((await store.getRun("e-1"))?.error).toContain("ffmpeg exited with code 1");
      broken.render = false;
      expect((await a.resume("e-1")).status).toBe("success");
      const row = await store.getRun("e-1");
      expect(row?.status).toBe("success");
      expect(row?.error).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("resume of an unknown run, and of a run that succeeded (returns its report, executes nothing)", async () => {
    const dir = temp();
    const a = app(dir);
    const { pipeline, calls } = story(a, dir);
    await expect(a.resume("never-ran")).rejects.toSatisfy((e) =>
      isTaplineError(e, "TAPLINE_ERR_RUN_NOT_FOUND"),
    );
    const first = await pipeline.run("owl", { runId: "ok-1" });
    expect(first.status).toBe("success");
    calls.length = 0;
    const again = await a.resume("ok-1");
    expect(again.status).toBe("success");
    expect(again.output).toBe(first.output);
    expect(calls).toEqual([]);
    expect(again.steps.every((s) => s.replayed)).toBe(true);
  });

  it("an artifact deleted or edited between failure and resume makes its unit (and the units after it) run again", async () => {
    for (const change of ["delete", "edit"] as const) {
      const dir = temp();
      const a = app(dir);
      const broken = { render: true };
      const { pipeline, calls } = story(a, dir, broken);
      await pipeline.run("cat", { runId: `art-${change}` });
      const file = join(dir, "voice.wav");
      if (change === "delete") rmSync(file);
      else writeFileSync(file, readFileSync(file, "utf8").replace("one", "ONE")); // same size, new content
      broken.render = false;
      calls.length = 0;
      const report = await a.resume(`art-${change}`);
      expect(report.status).toBe("success");
      expect(calls).toEqual(["voice", "render"]);
      expect(report.steps.map((s) => s.replayed)).toEqual([true, false, false]);
    }
  });

  it("two concurrent resumers: one runs, the other gets TAPLINE_ERR_RUN_LOCKED", async () => {
    const dir = temp();
    const a = app(dir);
    const b = app(dir);
    const broken = { render: true };
    story(b, dir, broken); // b knows the pipeline too
    const { pipeline } = story(a, dir, broken);
    await pipeline.run("yak", { runId: "lock-1" });
    broken.render = false;
    const results = await Promise.allSettled([a.resume("lock-1"), b.resume("lock-1")]);
    const refused = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const reason = (refused[0] as PromiseRejectedResult).reason;
    expect(isTaplineError(reason, "TAPLINE_ERR_RUN_LOCKED")).toBe(true);
    expect(reason.message).toMatch(/lock-1.*held by another resumer/);
    // Once the first is done, the lease is released: the run can be resumed again at once.
    await expect(b.resume("lock-1")).resolves.toMatchObject({ status: "success" });
  });

  it("suspend, then approve with data; approving a run that is not suspended is refused", async () => {
    const dir = temp();
    const a = app(dir);
    const calls: string[] = [];
    const p = a
      .pipeline<string>("approval")
      .step("script", (idea: string) => {
        calls.push("script");
        return `a script about ${idea}`;
      })
      .step("review", (script: string, ctx) => {
        const decision = ctx.resumeData as { approved: boolean; note?: string } | undefined;
        if (decision === undefined) return ctx.suspend({ reason: "approve the script", data: { script } });
        return decision.approved ? `${script} (${decision.note})` : "rejected";
      })
      .step("voice", (s: string) => {
        calls.push("voice");
        return `voice: ${s}`;
      })
      .build();
    const first = await p.run("a heron", { runId: "ap-1" });
    expect(first.status).toBe("suspended");
    expect(first.suspended).toEqual({
      unit: "review",
      reason: "approve the script",
      data: { script: "a script about a heron" },
    });
    // A new app on the same dir (the CLI's `tapline approve` is one): the suspension was kept.
    const later = app(dir);
    const q = later
      .pipeline<string>("approval")
      .step("script", () => "never called")
      .step("review", (script: string, ctx) => {
        const d = ctx.resumeData as { approved: boolean; note: string };
        return `${script} (${d.note})`;
      })
      .step("voice", (s: string) => `voice: ${s}`)
      .build();
    expect(q.name).toBe("approval");
    const approved = await later.resume("ap-1", { resumeData: { approved: true, note: "ok by Ana" } });
    expect(approved.status).toBe("success");
    expect(approved.output).toBe("voice: a script about a heron (ok by Ana)");
    expect(approved.steps.map((s) => s.replayed)).toEqual([true, false, false]);
    await expect(later.resume("ap-1", { resumeData: { approved: true } })).rejects.toSatisfy(
      (e) => isTaplineError(e, "TAPLINE_ERR_RUN_NOT_SUSPENDED") && e.status === "success",
    );
    expect(calls).toEqual(["script"]);
  });

  it("an output that cannot be kept fails its unit with the unit's name and what to do", async () => {
    const dir = temp();
    const a = app(dir, { maxOutputBytes: 4096 });
    class Handle {
      fd = 3;
    }
    const p = a
      .pipeline("p")
      .step("open", () => new Handle())
      .build();
    const report = await p.run(undefined, { runId: "bad-1" });
    expect(report.status).toBe("failed");
    const cause = (report.error as { cause?: unknown }).cause;
    expect(isTaplineError(cause, "TAPLINE_ERR_DURABLE_VALUE")).toBe(true);
    expect((cause as Error).message).toMatch(
      /the output of unit "open".*non-POJO.*a file and return its path/,
    );
    const big = a
      .pipeline("big")
      .step("blob", () => "x".repeat(10_000))
      .build();
    const r2 = await big.run(undefined, { runId: "bad-2" });
    expect(r2.status).toBe("failed");
    expect(String((r2.error as Error).message)).toMatch(/over maxOutputBytes \(4096\)/);
  });

  it("a corrupt or truncated database file: a clear error naming the file, and the file left as it was", () => {
    const dir = temp();
    const garbage = Buffer.from("this is not a sqlite database at all, but it is long enough ".repeat(80));
    writeFileSync(join(dir, "durable.sqlite"), garbage);
    let error: unknown;
    try {
      createTapline({ dir, logger: silentLogger, plugins: [durable()] });
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_PLUGIN_SETUP")).toBe(true);
    expect((error as Error).message).toContain(join(dir, "durable.sqlite"));
    expect((error as Error).message).toMatch(/not a SQLite database or is damaged/);
    expect(readFileSync(join(dir, "durable.sqlite")).equals(garbage)).toBe(true);

    // A real store cut in half (a torn copy).
    const other = temp();
    const store = sqliteStore({ path: join(other, "durable.sqlite") });
    for (let i = 0; i < 300; i++) {
      store.createRun({
        runId: `r${i}`,
        pipeline: "p",
        input: JSON.stringify("x".repeat(200)),
        status: "success",
        resumes: 0,
        createdAt: i,
        updatedAt: i,
      });
    }
    store.close();
    const size = readFileSync(join(other, "durable.sqlite")).length;
    truncateSync(join(other, "durable.sqlite"), Math.floor(size / 2));
    expect(() => sqliteStore({ path: join(other, "durable.sqlite") })).toThrow(
      /durable store .*durable\.sqlite/,
    );
  });

  it("an unwritable dir is a clear error at start; a full disk mid-run degrades without losing what was saved", async () => {
    const file = join(temp(), "a-file");
    writeFileSync(file, "");
    expect(() =>
      createTapline({ dir: join(file, "sub"), logger: silentLogger, plugins: [durable()] }),
    ).toThrow(/durable store .*cannot create its directory \(ENOTDIR\)/);
    if (process.getuid?.() !== 0) {
      const ro = join(temp(), "ro");
      mkdirSync(ro, { mode: 0o500 });
      expect(() => createTapline({ dir: ro, logger: silentLogger, plugins: [durable()] })).toThrow(
        /durable store/,
      );
    }

    // Full disk: the store's third write fails with ENOSPC, as a full volume would.
    const dir = temp();
    const real = sqliteStore({ path: join(dir, "durable.sqlite") });
    let writes = 0;
    const full: DurableStore = {
      ...real,
      location: real.location,
      putUnit(row) {
        if (++writes >= 2)
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        return real.putUnit(row);
      },
    };
    const a = createTapline({ dir, logger: silentLogger, plugins: [durable({ store: full })] });
    open.push(a);
    const problems: string[] = [];
    a.hooks.pluginError.tap("test", (e) => problems.push(e.error.message));
    const broken = { render: true };
    const { pipeline, calls } = story(a, dir, broken);
    const first = await pipeline.run("elk", { runId: "full-1" });
    expect(first.status).toBe("failed"); // render failed; voice ran but could not be saved
    expect(problems.some((m) => /no space left on device/.test(m))).toBe(true);
    expect(a.status().level).toBe("degraded");
    expect(a.status().message).toMatch(/durable: run "full-1" is no longer saved: ENOSPC/);
    // What was saved before the disk filled is intact: the script replays, voice and render run.
    writes = -100;
    broken.render = false;
    calls.length = 0;
    const second = await a.resume("full-1");
    expect(second.status).toBe("success");
    expect(calls).toEqual(["voice", "render"]);
  });

  it("retention: runs older than keep are pruned at start; a held run is not", async () => {
    const dir = temp();
    const store = sqliteStore({ path: join(dir, "durable.sqlite") });
    const old = Date.now() - 10 * 86_400_000;
    store.createRun({
      runId: "old",
      pipeline: "p",
      input: "[1]",
      status: "failed",
      resumes: 0,
      createdAt: old,
      updatedAt: old,
    });
    store.createRun({
      runId: "old-held",
      pipeline: "p",
      input: "[1]",
      status: "running",
      resumes: 0,
      createdAt: old,
      updatedAt: old,
      leaseHolder: "someone",
      leaseUntil: Date.now() + 60_000,
    });
    store.createRun({
      runId: "new",
      pipeline: "p",
      input: "[1]",
      status: "failed",
      resumes: 0,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
    store.close();
    const a = app(dir, { keep: "7d" });
    await a.ready();
    const check = sqliteStore({ path: join(dir, "durable.sqlite") });
    await expect
      .poll(async () => (await check.listRuns()).map((r) => r.runId).sort())
      .toEqual(["new", "old-held"]);
    check.close();
  });

  it("options are strict: an unknown key names the closest known one", () => {
    expect(() =>
      createTapline({ dir: temp(), logger: silentLogger, plugins: [durable({ kepp: "1d" } as never)] }),
    ).toThrow(/did you mean "keep"/);
    expect(() =>
      createTapline({ dir: temp(), logger: silentLogger, plugins: [durable({ keep: "soon" } as never)] }),
    ).toThrow(/keep: must be a duration/);
  });
});
