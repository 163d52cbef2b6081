import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const fixture = join(import.meta.dirname, "fixtures", "scenes.ts");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "tapline durable 'crash' "));
  dirs.push(d);
  return d;
}

/** Runs the fixture in a child process (the repo's Node), returns its exit and its one JSON line. */
function child(dir: string, runId: string, mode: "run" | "resume", crashAt?: number) {
  const r = spawnSync(
    process.execPath,
    [
      "--conditions=@tapline/source",
      fixture,
      dir,
      runId,
      mode,
      ...(crashAt === undefined ? [] : [String(crashAt)]),
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  const line = r.stdout.trim().split("\n").filter(Boolean).at(-1);
  return { status: r.status, signal: r.signal, stderr: r.stderr, out: line ? JSON.parse(line) : undefined };
}

const calls = (dir: string): string[] => readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");

describe("kill -9 in the middle of a map, then resume (real child processes, the SQLite store)", () => {
  it("resume executes exactly the 3 unfinished items; the outputs equal an uninterrupted run's", () => {
    const clean = temp();
    const whole = child(clean, "fox-1", "run");
    expect(whole.status).toBe(0);
    expect(whole.out.status).toBe("success");
    expect(calls(clean)).toHaveLength(9); // plan + 8 scenes

    const dir = temp();
    const crashed = child(dir, "fox-1", "run", 5);
    expect(crashed.signal).toBe("SIGKILL");
    expect(calls(dir)).toEqual(["plan", "scene:0", "scene:1", "scene:2", "scene:3", "scene:4", "scene:5"]);

    // The dead process's lease (1 s here) still holds the run for a moment: a resume is refused until it expires.
    let resumed = child(dir, "fox-1", "resume");
    const deadline = Date.now() + 30_000;
    while (resumed.status === 3 && resumed.out?.error === "TAPLINE_ERR_RUN_LOCKED" && Date.now() < deadline) {
      resumed = child(dir, "fox-1", "resume");
    }
    expect(resumed.stderr).toBe("");
    expect(resumed.status).toBe(0);
    expect(resumed.out.status).toBe("success");
    expect(calls(dir).slice(7)).toEqual(["scene:5", "scene:6", "scene:7"]);
    expect(resumed.out.output).toBe(whole.out.output);
    expect(resumed.out.replayed).toEqual([
      "plan",
      "scenes[0]",
      "scenes[1]",
      "scenes[2]",
      "scenes[3]",
      "scenes[4]",
    ]);
    expect(resumed.out.savedCost.usd).toBeCloseTo(0.002 + 5 * 0.01, 9);

    // Resuming the finished run executes nothing and returns the same output.
    const again = child(dir, "fox-1", "resume");
    expect(again.out.status).toBe("success");
    expect(again.out.output).toBe(whole.out.output);
    expect(calls(dir)).toHaveLength(10);
  }, 120_000);
});
