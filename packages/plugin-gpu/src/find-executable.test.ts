import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { executableExists } from "./find-executable.ts";

describe("executableExists", () => {
  const dir = mkdtempSync(join(tmpdir(), "find exe "));
  const exe = join(dir, "fake-smi");
  writeFileSync(exe, "#!/bin/sh\n");
  chmodSync(exe, 0o755);
  const plain = join(dir, "not-executable");
  writeFileSync(plain, "");

  it("finds a path and a name on PATH, and refuses what a spawn would not run", () => {
    expect(executableExists(exe)).toBe(true);
    expect(executableExists("fake-smi", { PATH: `/nonexistent:${dir}` })).toBe(true);
    expect(executableExists("fake-smi", { PATH: "/nonexistent" })).toBe(false);
    expect(executableExists(plain)).toBe(false);
    expect(executableExists(dir)).toBe(false);
    expect(executableExists(join(dir, "missing"))).toBe(false);
  });
});
