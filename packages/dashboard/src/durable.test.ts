import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DurableReader, shellWord } from "./durable.ts";

describe("DurableReader", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline-dash-durable-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads nothing, and loads nothing, while the folder has no store", async () => {
    let loads = 0;
    const reader = new DurableReader(dir, async () => {
      loads++;
      throw new Error("must not load");
    });
    expect(await reader.read()).toBeUndefined();
    expect(loads).toBe(0);
  });

  it("without @tapline/plugin-durable installed: says so once, lists nothing, never throws", async () => {
    // A real store's header (the loader fails before anything opens it).
    await writeFile(
      join(dir, "durable.sqlite"),
      Buffer.from("SQLite format 3\u0000".padEnd(100, "\u0000"), "latin1"),
    );
    let loads = 0;
    const reader = new DurableReader(dir, async () => {
      loads++;
      throw Object.assign(new Error("Cannot find package '@tapline/plugin-durable'"), {
        code: "ERR_MODULE_NOT_FOUND",
      });
    });
    const first = await reader.read();
    expect(first?.view.error).toMatch(
      /@tapline\/plugin-durable is not installed beside the dashboard: install it/,
    );
    expect(first?.view).toMatchObject({ waiting: [], interrupted: [], store: join(dir, "durable.sqlite") });
    await reader.read();
    expect(loads).toBe(1);
    await reader.close();
  });

  it("an empty file (a store being created) is neither read nor opened, so never made a database", async () => {
    const empty = await mkdtemp(join(tmpdir(), "tapline-dash-durable-empty-"));
    try {
      await writeFile(join(empty, "durable.sqlite"), "");
      const reader = new DurableReader(empty);
      expect(await reader.read()).toBeUndefined();
      expect((await stat(join(empty, "durable.sqlite"))).size).toBe(0);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("a damaged store file is a reason on the page, not a crash", async () => {
    const bad = await mkdtemp(join(tmpdir(), "tapline-dash-durable-bad-"));
    try {
      await writeFile(join(bad, "durable.sqlite"), "this is not a database, just text ".repeat(200));
      const reader = new DurableReader(bad);
      const snapshot = await reader.read();
      expect(snapshot?.view.error).toMatch(/durable\.sqlite/);
      expect(snapshot?.view.waiting).toEqual([]);
      expect(await readFile(join(bad, "durable.sqlite"), "utf8")).toMatch(/^this is not a database/);
      await reader.close();
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});

describe("shellWord", () => {
  it("quotes only what a shell would split or expand", () => {
    expect(shellWord("fox-run-1")).toBe("fox-run-1");
    expect(shellWord("/srv/app/.tapline")).toBe("/srv/app/.tapline");
    expect(shellWord("/tmp/my dir")).toBe("'/tmp/my dir'");
    expect(shellWord(`it's $HOME`)).toBe(`'it'\\''s $HOME'`);
    expect(shellWord('{"approved":true}')).toBe(`'{"approved":true}'`);
  });
});
