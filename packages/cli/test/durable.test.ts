import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { durable, sqliteStore } from "@tapline/plugin-durable";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

const fixture = join(import.meta.dirname, "fixtures", "durable-story.mjs");
type Calls = { script: number; voice: number; image: number; render: number };
const g = globalThis as { __storyCalls?: Calls; __renderFails?: boolean };
const calls = () => ({ ...g.__storyCalls! });

/** The run id of the one report a `--json` run printed. */
const runIdOf = (stdout: string): string => JSON.parse(stdout)[0].runId;

describe("tapline runs, resume and approve (a real SQLite store from real runs)", () => {
  let root: string;
  let data: string;
  let config: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tapline durable "));
    data = join(root, "data");
    config = join(root, "tapline.yaml");
    await writeFile(config, "dir: ./data\nplugins:\n  durable: {}\n");
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  beforeEach(() => {
    g.__storyCalls = { script: 0, voice: 0, image: 0, render: 0 };
    g.__renderFails = false;
  });

  it("resumes a failed run: the paid steps replay, only the render runs; runs and runs show say so", async () => {
    g.__renderFails = true;
    const failed = await tapline(["run", fixture, "--config", config, "--json", "--quiet"]);
    expect(failed.code).toBe(1);
    const runId = runIdOf(failed.stdout);
    expect(calls()).toMatchObject({ script: 1, voice: 1, render: 1 });

    const list = await tapline(["runs", "--dir", data, "--json"]);
    expect(list.code).toBe(0);
    const row = JSON.parse(list.stdout).find((r: { runId: string }) => r.runId === runId);
    expect(row).toMatchObject({
      pipeline: "durable-story",
      status: "failed",
      resumes: 0,
      cost: { usd: 0.006 },
      error: expect.stringContaining("ffmpeg exited with code 1"),
    });
    const text = await tapline(["runs", "--dir", data, "--status", "failed"]);
    expect(text.stdout).toMatch(new RegExp(`${runId}\\s+durable-story\\s+failed`));
    expect(text.stdout).toContain("0.006 usd");

    g.__renderFails = false;
    const resumed = await tapline(["resume", runId, fixture, "--config", config]);
    expect(resumed.code).toBe(0);
    expect(calls()).toMatchObject({ script: 1, voice: 1, render: 2 }); // nothing paid twice
    expect(resumed.stdout).toMatch(/script\s+success ↺\s+0\s+replayed/);
    expect(resumed.stdout).toMatch(/render\s+success\s+1/);
    expect(resumed.stdout).toContain("resumed: 3 unit(s) replayed, 1 ran; replaying saved 0.006 usd");
    expect(resumed.stderr).toContain("↺ voice replayed");

    const show = await tapline(["runs", "show", runId, "--dir", data]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Run ${runId} (durable-story): success`);
    expect(show.stdout).toContain("resumed 1 time(s)");
    // A replayed unit made no attempt and cost nothing now; its saved cost is what replaying saved.
    expect(show.stdout).toMatch(/script\s+success\s+replayed\s+0\s+0\s+0.004 usd/);
    expect(show.stdout).not.toContain("ffmpeg exited"); // the earlier execution's error is not this one's
    expect(show.stdout).toMatch(/render\s+success\s+ran\s+1/);
    expect(show.stdout).toContain(`voice: ${join(data, `voice-${runId}.txt`)}`);
    const json = JSON.parse((await tapline(["runs", "show", runId, "--dir", data, "--json"])).stdout);
    expect(json).toMatchObject({ status: "success", resumes: 1, input: { idea: "a fox" } });
    expect(json.tree.map((u: { path: string; replayed: boolean }) => [u.path, u.replayed])).toEqual([
      ["script", true],
      ["review", true],
      ["voice", true],
      ["render", false],
    ]);
    expect(json.savedUnits.map((u: { path: string }) => u.path).sort()).toEqual(
      ["render", "review", "script", "voice"].sort(),
    );
  });

  it("approves a suspended run with --data; approving a run that is not suspended is exit 2", async () => {
    const first = await tapline([
      "run",
      fixture,
      "--config",
      config,
      "--input",
      '{"idea":"an owl","approve":true}',
      "--json",
      "--quiet",
    ]);
    expect(first.code).toBe(1);
    const runId = runIdOf(first.stdout);
    expect(JSON.parse(first.stdout)[0]).toMatchObject({
      status: "suspended",
      suspended: { unit: "review", reason: "approve the script" },
    });
    expect(calls()).toMatchObject({ script: 1, voice: 0 });

    const suspended = await tapline(["runs", "--dir", data, "--status", "suspended"]);
    expect(suspended.stdout).toMatch(
      new RegExp(`${runId}\\s+durable-story\\s+suspended.*approve the script`),
    );
    const show = await tapline(["runs", "show", runId, "--dir", data]);
    expect(show.stdout).toContain("Suspended at review: approve the script");
    expect(show.stdout).toContain("A short story about an owl.");
    expect(show.stdout).toContain(`approve: tapline approve ${runId} <module>`);

    const approved = await tapline([
      "approve",
      runId,
      fixture,
      "--config",
      config,
      "--data",
      '{"approved":true,"note":"ok by Ana"}',
      "--json",
    ]);
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)[0]).toMatchObject({
      status: "success",
      resumed: true,
      output: "video of an owl (ok by Ana)",
    });
    expect(calls()).toMatchObject({ script: 1, voice: 1, render: 1 });

    const again = await tapline(["approve", runId, fixture, "--config", config]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`run "${runId}" is success, not suspended`);
    expect(again.stderr).toContain("TAPLINE_ERR_RUN_NOT_SUSPENDED");
    expect(calls()).toMatchObject({ script: 1, voice: 1, render: 1 });
  });

  it("approve without --data sends {approved:true}; bad --data is a usage error", async () => {
    const first = await tapline([
      "run",
      fixture,
      "--config",
      config,
      "--input",
      '{"idea":"a cat","approve":true}',
      "--json",
      "--quiet",
    ]);
    const runId = runIdOf(first.stdout);
    const bad = await tapline(["approve", runId, fixture, "--config", config, "--data", "{nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--data is not valid JSON");
    const ok = await tapline(["approve", runId, fixture, "--config", config, "--json", "--quiet"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)[0].output).toBe("video of a cat");
  });

  it("an unknown run id is exit 3; an app without plugin-durable is exit 2 saying to add it", async () => {
    const unknown = await tapline(["resume", "no-such-run", fixture, "--config", config]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no saved run "no-such-run"');
    expect((await tapline(["runs", "show", "no-such-run", "--dir", data])).code).toBe(3);

    const bare = join(root, "bare.yaml");
    await writeFile(bare, "dir: ./data\nplugins: {}\n");
    const without = await tapline(["resume", "any", fixture, "--config", bare]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("has no @tapline/plugin-durable");
    expect(without.stderr).toContain(`add it to the plugins of ${bare} (plugins: { durable: {} })`);
    const noConfig = await tapline(["approve", "any", fixture, "--dir", data]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain("pass --config <file> with the plugin listed");
  });

  it("a run another app holds is exit 1 with TAPLINE_ERR_RUN_LOCKED; a dead holder's run shows as interrupted", async () => {
    const app = createTapline({ dir: data, logger: silentLogger, plugins: [durable()] });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = app
      .pipeline("held")
      .step("wait", () => gate)
      .build()
      .run(undefined, { runId: "held-run" });
    try {
      // Wait on state: the run is saved (running, lease held) before the CLI tries it.
      for (let i = 0; i < 500; i++) {
        const r = await tapline(["runs", "--dir", data, "--status", "running", "--json"]);
        if (JSON.parse(r.stdout).some((x: { runId: string }) => x.runId === "held-run")) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const locked = await tapline(["resume", "held-run", fixture, "--config", config]);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('run "held-run" is held by another resumer');
      expect(locked.stderr).toContain("TAPLINE_ERR_RUN_LOCKED");
    } finally {
      open();
      await held;
      await app.close();
    }

    // A process that died mid-run leaves its row `running` with a lease that runs out.
    const store = sqliteStore({ path: join(data, "durable.sqlite") });
    const now = Date.now();
    store.createRun({
      runId: "dead-run",
      pipeline: "durable-story",
      input: "[{}]",
      status: "running",
      resumes: 0,
      createdAt: now - 60_000,
      updatedAt: now - 60_000,
      leaseHolder: "gone:1",
      leaseUntil: now - 30_000,
    });
    store.close();
    const list = await tapline(["runs", "--dir", data, "--status", "interrupted", "--json"]);
    expect(
      JSON.parse(list.stdout).map((r: { runId: string; status: string }) => [r.runId, r.status]),
    ).toEqual([["dead-run", "interrupted"]]);
    const running = await tapline(["runs", "--dir", data, "--status", "running", "--json"]);
    expect(JSON.parse(running.stdout)).toEqual([]);
    const show = await tapline(["runs", "show", "dead-run", "--dir", data]);
    expect(show.stdout).toContain("interrupted");
    expect(show.stdout).toContain("No unit tree saved");
    expect(show.stdout).toContain("resume: tapline resume dead-run <module>");
  });

  it("prunes runs older than --keep and says how many; bad options are usage errors; no store is exit 3", async () => {
    await tapline(["run", fixture, "--config", config, "--quiet"]);
    const kept = await tapline(["runs", "prune", "--dir", data]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toMatch(/^Pruned 0 run\(s\) last updated more than 7d ago/);
    const before = JSON.parse(
      (await tapline(["runs", "--dir", data, "--json", "--limit", "1000"])).stdout,
    ).length;
    expect(before).toBeGreaterThan(1);
    // Updated at least 1 ms ago: wait on that state, not a fixed sleep.
    const start = Date.now();
    while (Date.now() - start < 5) await new Promise((resolve) => setTimeout(resolve, 2));
    const all = await tapline(["runs", "prune", "--keep", "1ms", "--dir", data, "--json"]);
    expect(JSON.parse(all.stdout)).toMatchObject({ pruned: before, keep: "1ms" });
    expect((await tapline(["runs", "--dir", data])).stdout).toContain("No saved runs");

    for (const [argv, message] of [
      [["runs", "--dir", data, "--status", "done"], /--status "done" is not one of failed, suspended/],
      [["runs", "--dir", data, "--limit", "0"], /--limit "0"/],
      [["runs", "prune", "--dir", data, "--keep", "soon"], /--keep "soon" is not a duration/],
      [["runs", "show", "--dir", data], /expected one run id, got 0/],
      [["runs", "show", "x", "--dir", data, "--status", "failed"], /--status does not apply here/],
      [["runs", "frob", "--dir", data], /unknown action "frob"/],
      [["resume", "only-id"], /expected a run id and a module, got 1/],
    ] as const) {
      const r = await tapline(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const empty = await mkdtemp(join(tmpdir(), "tapline-nostore-"));
    try {
      const r = await tapline(["runs", "--dir", empty]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`no durable store at ${join(empty, "durable.sqlite")}`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
