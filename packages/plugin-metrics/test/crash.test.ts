import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type JsonlWarning, readJsonl, readStatus, summarize } from "../src/files.ts";

const fixture = join(import.meta.dirname, "fixtures", "heavy-writer.ts");
const nodeArgs = [
  "--conditions=@tapline/source",
  ...(process.versions.node.split(".").map(Number)[0]! < 23
    ? ["--experimental-strip-types", "--no-warnings"]
    : []),
];

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline crash "));
});
afterEach(() => {
  for (const c of children.splice(0))
    if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a heavy writer; resolves its latest acknowledged count through `acked()`. */
function startWriter(folder: string, id: string, flushMs: number, script = fixture) {
  const args = script === fixture ? [folder, id, String(flushMs)] : [folder];
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let acked = 0;
  let buffer = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      const m = /^written (\d+)$/.exec(line);
      if (m) acked = Number(m[1]);
    }
  });
  return { child, acked: () => acked };
}

async function waitFor(predicate: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    process.kill(child.pid!, "SIGKILL");
  });
}

async function readBack(folder: string) {
  const warnings: JsonlWarning[] = [];
  const records: { id: string; seq: number; time: number }[] = [];
  for await (const r of readJsonl(folder, { onWarning: (w) => warnings.push(w) })) records.push(r as never);
  return { records, warnings };
}

describe("crash safety (kill -9 during heavy writing)", () => {
  it("loses at most the last flush interval: every acknowledged record reads back, in order, none torn inside", async () => {
    const folder = join(dir, "runs");
    const w = startWriter(folder, "a", 200);
    await waitFor(() => w.acked() > 50_000, 20_000);
    const ackedBeforeKill = w.acked();
    const killedAt = Date.now();
    await kill9(w.child);
    const { records, warnings } = await readBack(folder);
    // Only a torn final line may be skipped, never a corrupt line in the middle.
    expect(warnings.filter((x) => x.kind === "corrupt")).toEqual([]);
    expect(records.length).toBeGreaterThanOrEqual(ackedBeforeKill);
    records.forEach((r, i) => {
      if (r.seq !== i) throw new Error(`record ${i} has seq ${r.seq}: a gap or a duplicate`);
    });
    // What was lost was produced within the last flush interval (plus the time the kill took to land).
    const newestKept = records.at(-1)!.time;
    expect(killedAt - newestKept).toBeLessThanOrEqual(1000);
  });

  it("two processes writing the same folder never interleave bytes within a record", async () => {
    const folder = join(dir, "runs");
    const a = startWriter(folder, "a", 100);
    const b = startWriter(folder, "b", 100);
    await waitFor(() => a.acked() > 30_000 && b.acked() > 30_000, 20_000);
    await Promise.all([kill9(a.child), kill9(b.child)]);
    const { records, warnings } = await readBack(folder);
    expect(warnings.filter((x) => x.kind === "corrupt")).toEqual([]);
    for (const id of ["a", "b"]) {
      const seqs = records.filter((r) => r.id === id).map((r) => r.seq);
      expect(seqs.length).toBeGreaterThan(30_000);
      seqs.forEach((s, i) => {
        if (s !== i) throw new Error(`writer ${id}: record ${i} has seq ${s}`);
      });
    }
  });

  it("a whole app killed -9 mid-run: summarize() and readStatus() read everything acknowledged", async () => {
    const app = startWriter(dir, "app", 200, join(import.meta.dirname, "fixtures", "app-child.ts"));
    await waitFor(() => app.acked() > 3000, 20_000);
    await new Promise((r) => setTimeout(r, 300)); // past a snapshot interval, so status.json exists
    const acked = app.acked();
    await kill9(app.child);
    const warnings: JsonlWarning[] = [];
    const summary = await summarize(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings.filter((w) => w.kind === "corrupt")).toEqual([]);
    // Every record (steps and runs) written before the last acknowledgement reads back.
    expect(summary.records).toBeGreaterThanOrEqual(acked);
    expect(summary.operations.find((o) => o.kind === "run" && o.name === "story")!.count).toBeGreaterThan(0);
    expect(summary.runs.failureRate).toBeGreaterThan(0.1);
    expect(summary.runs.failureRate).toBeLessThan(0.2); // 1 in 7 inputs fails
    const status = await readStatus(dir);
    expect(status?.parts.some((p) => p.component === "metrics")).toBe(true);
  });
});
