import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PersistError } from "./errors.ts";
import { type JsonlWarning, readJsonl } from "./jsonl-reader.ts";
import { JsonlWriter } from "./jsonl-writer.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline metrics 'w' "));
});
afterEach(() => {
  try {
    chmodSync(dir, 0o755);
  } catch {}
  rmSync(dir, { recursive: true, force: true });
});

async function readAll(folder: string, warnings: JsonlWarning[] = []) {
  const out: Record<string, unknown>[] = [];
  for await (const r of readJsonl(folder, { onWarning: (w) => warnings.push(w) })) out.push(r);
  return out;
}

describe("JsonlWriter", () => {
  it("batches records and writes them on the flush interval", async () => {
    const folder = join(dir, "runs");
    const w = new JsonlWriter({ folder, flushIntervalMs: 50 });
    for (let i = 0; i < 100; i++) w.append({ i });
    expect(w.stats.written).toBe(0); // still buffered
    await new Promise((r) => setTimeout(r, 120));
    expect(w.stats.written).toBe(100);
    expect(w.stats.flushes).toBe(1);
    const back = await readAll(folder);
    expect(back.map((r) => r.i)).toEqual([...Array(100).keys()]);
    await w.close();
  });

  it("flush() returns under a steady producer, and a backlog goes out without waiting for another append", async () => {
    const folder = join(dir, "runs");
    const w = new JsonlWriter({ folder, flushIntervalMs: 10_000, maxBatchBytes: 4096 });
    let producing = true;
    let produced = 0;
    const produce = () => {
      for (let i = 0; i < 200; i++) w.append({ i: produced++, pad: "p".repeat(40) });
      if (producing) setImmediate(produce);
    };
    produce();
    await new Promise((r) => setTimeout(r, 50));
    const atCall = produced;
    await w.flush(); // must not chase the producer forever
    expect(w.stats.written).toBeGreaterThanOrEqual(atCall);
    producing = false;
    await new Promise((r) => setTimeout(r, 100)); // no more appends, flush interval 10 s: the backlog still drains
    expect(w.stats.written).toBeGreaterThan(produced - 200);
    await w.close();
    expect(w.stats.written).toBe(produced);
  });

  it("rotates by size into numbered files, never splitting a record", async () => {
    const folder = join(dir, "runs");
    const w = new JsonlWriter({ folder, maxFileBytes: 4096, maxBatchBytes: 1000 });
    for (let i = 0; i < 500; i++) w.append({ i, pad: "x".repeat(20) });
    await w.close();
    const files = readdirSync(folder).sort();
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(readFileSync(join(folder, f)).length).toBeLessThanOrEqual(4096);
    const back = await readAll(folder);
    expect(back).toHaveLength(500);
    expect(back.map((r) => r.i)).toEqual([...Array(500).keys()]);
  });

  it("rotates by UTC day and deletes days past retention", async () => {
    const folder = join(dir, "metrics");
    mkdirSync(folder);
    writeFileSync(join(folder, "2026-01-01.0.jsonl"), '{"old":true}\n');
    writeFileSync(join(folder, "2026-03-09.0.jsonl"), '{"kept":true}\n');
    let now = Date.parse("2026-03-10T23:59:59Z");
    const w = new JsonlWriter({ folder, retentionDays: 3, now: () => now });
    w.append({ day: 1 });
    await w.flush();
    now = Date.parse("2026-03-11T00:00:01Z");
    w.append({ day: 2 });
    await w.close();
    await new Promise((r) => setTimeout(r, 50)); // pruning is asynchronous
    expect(readdirSync(folder).sort()).toEqual([
      "2026-03-09.0.jsonl",
      "2026-03-10.0.jsonl",
      "2026-03-11.0.jsonl",
    ]);
  });

  it("on a read-only dir reports one clear error, goes degraded, drops instead of looping, and recovers", async () => {
    const folder = join(dir, "ro", "runs");
    mkdirSync(join(dir, "ro"));
    writeFileSync(folder, "not a folder"); // mkdir/open under it fails with ENOTDIR/EEXIST, for root too
    const errors: PersistError[] = [];
    let recovered = 0;
    const w = new JsonlWriter({
      folder,
      flushIntervalMs: 20,
      onError: (e) => errors.push(e),
      onRecover: () => recovered++,
    });
    for (let round = 0; round < 5; round++) {
      w.append({ round });
      await w.flush();
    }
    expect(errors).toHaveLength(1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_METRICS_PERSIST")).toBe(true);
    expect(errors[0]!.code).toBe("TAPLINE_ERR_METRICS_PERSIST");
    expect(errors[0]!.message).toContain(folder);
    expect(w.stats.degraded).toBe(true);
    expect(w.stats.dropped).toBe(5);
    rmSync(folder);
    w.append({ round: 6 });
    await w.flush();
    expect(w.stats.degraded).toBe(false);
    expect(recovered).toBe(1);
    await w.close();
    expect(await readAll(folder)).toEqual([{ round: 6 }]);
  });

  it.skipIf(!existsSync("/dev/full"))(
    "on a full disk (ENOSPC from /dev/full) reports one PersistError with its errno",
    async () => {
      const folder = join(dir, "runs");
      mkdirSync(folder);
      const today = new Date().toISOString().slice(0, 10);
      symlinkSync("/dev/full", join(folder, `${today}.0.jsonl`)); // every write() there fails with ENOSPC
      const errors: PersistError[] = [];
      const w = new JsonlWriter({ folder, onError: (e) => errors.push(e) });
      for (let i = 0; i < 3; i++) {
        w.append({ i });
        await w.flush();
      }
      expect(errors).toHaveLength(1);
      expect(errors[0]!.errno).toBe("ENOSPC");
      expect(errors[0]!.message).toMatch(/free disk space/);
      expect(w.stats).toMatchObject({ degraded: true, dropped: 3, written: 0 });
      await w.close();
    },
  );

  it("two writers on the same folder never interleave bytes inside a record", async () => {
    const folder = join(dir, "runs");
    const a = new JsonlWriter({ folder, maxBatchBytes: 2048 });
    const b = new JsonlWriter({ folder, maxBatchBytes: 2048 });
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      a.append({ w: "a", i, pad: "a".repeat(i % 50) });
      b.append({ w: "b", i, pad: "b".repeat(i % 70) });
      if (i % 100 === 0) pending.push(a.flush(), b.flush());
    }
    await Promise.all(pending);
    await Promise.all([a.close(), b.close()]);
    const warnings: JsonlWarning[] = [];
    const back = await readAll(folder, warnings);
    expect(warnings).toEqual([]);
    expect(back.filter((r) => r.w === "a").map((r) => r.i)).toEqual([...Array(2000).keys()]);
    expect(back.filter((r) => r.w === "b").map((r) => r.i)).toEqual([...Array(2000).keys()]);
  });
});

describe("JsonlWriter after a crash and under a producer that never yields", () => {
  it("starts on a fresh line after a torn last line, so its first record is not lost", async () => {
    const folder = join(dir, "runs");
    mkdirSync(folder);
    const day = new Date().toISOString().slice(0, 10);
    writeFileSync(join(folder, `${day}.0.jsonl`), '{"a":1}\n{"a":2,"tor');
    const w = new JsonlWriter({ folder });
    w.append({ a: 3 });
    w.append({ a: 4 });
    await w.close();
    const warnings: JsonlWarning[] = [];
    const back = await readAll(folder, warnings);
    expect(back).toEqual([{ a: 1 }, { a: 3 }, { a: 4 }]);
    expect(warnings.map((x) => x.kind)).toEqual(["corrupt"]); // the torn line, now in the middle
  });

  it("starts a write from append() itself once a batch is full, with no timer and no event-loop turn", () => {
    const folder = join(dir, "runs");
    const w = new JsonlWriter({ folder, flushIntervalMs: 60_000, maxBatchBytes: 1024 });
    for (let i = 0; i < 100; i++) w.append({ i, pad: "x".repeat(20) });
    // The write was started synchronously: the bytes reach the file before any callback runs.
    return new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        try {
          expect(readdirSync(folder).length).toBe(1);
          expect(w.backlogged).toBe(false);
          void w.close().then(resolve, reject);
        } catch (e) {
          reject(e);
        }
      }, 50);
    });
  });

  it("says it is backlogged while a write is in flight and a full batch waits; drain() writes it all", async () => {
    const folder = join(dir, "runs");
    const w = new JsonlWriter({ folder, flushIntervalMs: 60_000, maxBatchBytes: 1024 });
    let i = 0;
    while (!w.backlogged && i < 10_000) w.append({ i: i++, pad: "x".repeat(20) });
    expect(w.backlogged).toBe(true);
    await w.drain();
    expect(w.stats.written).toBe(i);
    expect(w.stats.dropped).toBe(0);
    await w.close();
  });

  it("a drop (buffer full) degrades the writer and is reported once through onError", async () => {
    const folder = join(dir, "runs");
    const errors: PersistError[] = [];
    const w = new JsonlWriter({
      folder,
      maxBufferedBytes: 2048,
      maxBatchBytes: 1024,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 1000; i++) w.append({ i, pad: "x".repeat(20) });
    expect(w.stats.dropped).toBeGreaterThan(0);
    expect(w.stats.degraded).toBe(true);
    expect(errors).toHaveLength(1);
    expect(isTaplineError(errors[0], "TAPLINE_ERR_METRICS_PERSIST")).toBe(true);
    expect(errors[0]!.message).toContain("write buffer is full");
    await w.close();
    expect(w.stats.degraded).toBe(true); // still degraded for a while after the last drop
  });
});

describe("readJsonl", () => {
  it("skips a torn last line and a corrupt line with warnings, keeping every other record", async () => {
    const folder = join(dir, "runs");
    mkdirSync(folder);
    writeFileSync(join(folder, "2026-03-10.0.jsonl"), '{"a":1}\nnot json\n{"a":2}\n');
    writeFileSync(join(folder, "2026-03-11.0.jsonl"), '{"a":3}\n');
    appendFileSync(join(folder, "2026-03-11.0.jsonl"), '{"a":4,"tor');
    const warnings: JsonlWarning[] = [];
    const back = await readAll(folder, warnings);
    expect(back).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(warnings.map((w) => [w.kind, w.line])).toEqual([
      ["corrupt", 2],
      ["torn", 2],
    ]);
    expect(warnings[1]!.message).toContain("torn last line");
  });

  it("reads nothing from a folder that does not exist", async () => {
    expect(await readAll(join(dir, "none"))).toEqual([]);
  });
});

describe("reading a torn record in the middle of a file", () => {
  it("keeps the whole record another writer appended right after a torn one, and says what was skipped", async () => {
    const root = mkdtempSync(join(tmpdir(), "tapline torn middle "));
    const folder = join(root, "runs");
    mkdirSync(folder);
    writeFileSync(
      join(folder, "2026-12-01.0.jsonl"),
      '{"id":"a","seq":0}\n{"id":"a","se{"id":"b","seq":0}\n{"id":"b","seq":1}\n',
    );
    const warnings: string[] = [];
    const records: unknown[] = [];
    for await (const r of readJsonl(folder, { onWarning: (w) => warnings.push(w.kind) })) records.push(r);
    expect(records).toEqual([
      { id: "a", seq: 0 },
      { id: "b", seq: 0 },
      { id: "b", seq: 1 },
    ]);
    expect(warnings).toEqual(["torn"]);
    rmSync(root, { recursive: true, force: true });
  });
});
