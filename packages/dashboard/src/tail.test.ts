import { appendFile, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FolderTail } from "./tail.ts";

describe("FolderTail", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-tail-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const collect = async (tail: FolderTail) => {
    const out: unknown[] = [];
    const warnings: string[] = [];
    await tail.poll(
      (r) => out.push(r),
      (w) => warnings.push(w.message),
    );
    return { out, warnings };
  };

  it("reads only what was appended, and completes a torn last line on the next poll", async () => {
    const tail = new FolderTail(dir, /\.jsonl$/);
    const file = join(dir, "2026-01-01.0.jsonl");
    await writeFile(file, '{"a":1}\n{"a":2}\n{"a":');
    expect((await collect(tail)).out).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await collect(tail)).out).toEqual([]);
    await appendFile(file, '3}\n{"a":"é');
    expect((await collect(tail)).out).toEqual([{ a: 3 }]);
    await appendFile(file, 'ù"}\nnot json\n');
    const last = await collect(tail);
    expect(last.out).toEqual([{ a: "éù" }]);
    expect(last.warnings).toHaveLength(1);
  });

  it("reads a truncated or replaced file again from the start, and new files in name order", async () => {
    const tail = new FolderTail(dir, /\.jsonl$/);
    const file = join(dir, "2026-01-01.0.jsonl");
    await writeFile(file, '{"a":1}\n{"a":2}\n');
    await collect(tail);
    await truncate(file, 0);
    await writeFile(file, '{"b":1}\n');
    await writeFile(join(dir, "2026-01-01.10.jsonl"), '{"c":10}\n');
    await writeFile(join(dir, "2026-01-01.2.jsonl"), '{"c":2}\n');
    expect((await collect(tail)).out).toEqual([{ b: 1 }, { c: 2 }, { c: 10 }]);
  });

  it("a folder that does not exist yet reads as nothing", async () => {
    expect((await collect(new FolderTail(join(dir, "nope"), /x/))).out).toEqual([]);
  });
});
