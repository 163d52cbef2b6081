import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline, definePlugin, type PluginErrorEvent } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getMetrics, metrics } from "../src/index.ts";

// Issue #12: a batch loop `for (...) await p.run(i)` whose steps never do I/O never lets the event loop turn,
// so timers never fire and async writes never complete. Records must still reach the disk, none dropped.

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline busy loop "));
});
afterEach(() => {
  for (const c of children.splice(0))
    if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function countRuns(folder: string): { runs: number; steps: number; corrupt: number } {
  let runs = 0;
  let steps = 0;
  let corrupt = 0;
  for (const f of readdirSync(folder)) {
    for (const line of readFileSync(join(folder, f), "utf8").split("\n")) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as { t: string };
        if (r.t === "run") runs++;
        else if (r.t === "step") steps++;
      } catch {
        corrupt++;
      }
    }
  }
  return { runs, steps, corrupt };
}

const errorSpy = (errors: PluginErrorEvent[]) =>
  definePlugin({
    name: "spy",
    version: "1.0.0",
    core: "^1.0.0",
    setup(api) {
      api.hooks.pluginError.tap("spy", (e) => void errors.push(e));
    },
  })();

describe("a batch loop that never yields to the event loop", () => {
  it("persists every run record of 150,000 pure-transform runs (none dropped, status ok)", async () => {
    const errors: PluginErrorEvent[] = [];
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [errorSpy(errors), metrics({ system: false, prometheus: false })],
    });
    await app.ready();
    const p = app
      .pipeline<number>("batch")
      .step("double", (i) => i * 2)
      .step("inc", (i) => i + 1)
      .build();
    const N = 150_000;
    for (let i = 0; i < N; i++) await p.run(i);
    const store = getMetrics(app)!.store!;
    expect(store.stats.runs.dropped).toBe(0);
    expect(store.stats.metrics.dropped).toBe(0);
    const part = app.status().parts.find((x) => x.component === "metrics")!;
    expect(part.level).toBe("ok");
    await app.close();
    const back = countRuns(join(dir, "runs"));
    expect(back.corrupt).toBe(0);
    expect(back.runs).toBe(N);
    expect(back.steps).toBe(2 * N);
    expect(errors).toEqual([]);
  }, 120_000);

  it("persists every record of 75,000 runs whose step fails fast", async () => {
    const errors: PluginErrorEvent[] = [];
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [errorSpy(errors), metrics({ system: false, prometheus: false })],
    });
    await app.ready();
    const p = app
      .pipeline<number>("batch")
      .step("fail", () => {
        throw new Error("circuit open");
      })
      .build();
    const N = 75_000;
    for (let i = 0; i < N; i++) await p.run(i);
    expect(getMetrics(app)!.store!.stats.runs.dropped).toBe(0);
    await app.close();
    const back = countRuns(join(dir, "runs"));
    expect(back.runs).toBe(N);
    expect(back.steps).toBe(N);
    expect(errors).toEqual([]);
  }, 120_000);

  it("a producer that ignores backpressure: a drop turns the status degraded and is reported through pluginError", async () => {
    const errors: PluginErrorEvent[] = [];
    let emit: ((i: number) => void) | undefined;
    const producer = definePlugin({
      name: "producer",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        emit = (i) => api.metric("bench_value", i, { pad: "x".repeat(100) });
      },
    })();
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [errorSpy(errors), metrics({ system: false, prometheus: false }), producer],
    });
    await app.ready();
    // Samples from a loop that never yields, past the 32 MiB buffer of the metrics stream.
    for (let i = 0; i < 300_000; i++) emit!(i);
    const store = getMetrics(app)!.store!;
    expect(store.stats.metrics.dropped).toBeGreaterThan(0);
    const part = app.status().parts.find((x) => x.component === "metrics")!;
    expect(part.level).toBe("degraded");
    expect(part.message).toContain("write buffer is full");
    expect((part.details as { dropped: number }).dropped).toBeGreaterThan(0);
    expect(
      errors.filter((e) => /write buffer is full/.test(String((e.error as Error).message))),
    ).toHaveLength(1);
    await app.close();
  }, 60_000);

  it("kill -9 mid-loop loses at most the records of the last second", async () => {
    const script = join(import.meta.dirname, "fixtures", "busy-loop-child.ts");
    const nodeArgs = [
      "--conditions=@tapline/source",
      ...(Number(process.versions.node.split(".")[0]) < 23
        ? ["--experimental-strip-types", "--no-warnings"]
        : []),
    ];
    const child = spawn(process.execPath, [...nodeArgs, script, dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    // The child prints "started" once, then loops without ever yielding; it writes its progress to a
    // shared counter we can read without the child's event loop turning.
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (s: string) => s.includes("started") && resolve());
      child.once("exit", () => reject(new Error("child exited early")));
    });
    await new Promise((r) => setTimeout(r, 3500));
    const before = Date.now();
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      process.kill(child.pid!, "SIGKILL");
    });
    // The child records its run index and time in each record; what was lost is the tail after the newest kept.
    let newest = 0;
    let kept = 0;
    for (const f of readdirSync(join(dir, "runs"))) {
      for (const line of readFileSync(join(dir, "runs", f), "utf8").split("\n")) {
        try {
          const r = JSON.parse(line) as { t: string; time: number };
          if (r.t === "run") {
            kept++;
            newest = Math.max(newest, r.time);
          }
        } catch {}
      }
    }
    expect(kept).toBeGreaterThan(1000);
    expect(before - newest).toBeLessThanOrEqual(1500);
  }, 30_000);
});
