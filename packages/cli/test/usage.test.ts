import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS, parseSince, VERSION } from "../src/index.ts";
import { tapline } from "./helpers.ts";

describe("tapline usage", () => {
  it("prints help with exit 0, and usage with exit 2 when no command is given", async () => {
    const help = await tapline(["--help"]);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.name}`);
    const none = await tapline([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: tapline <command>");
  });

  it.each(COMMANDS.map((c) => c.name))("%s --help exits 0 and documents the exit status", async (name) => {
    const r = await tapline([name, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: tapline ${name}`));
    expect(r.stdout).toContain("Exit status");
    expect((await tapline(["help", name])).stdout).toBe(r.stdout);
  });

  it.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [["metrics", "--bogus"], /Unknown option '--bogus'/],
    [["status", "extra"], /Unexpected argument 'extra'|positional/i],
    [["alerts", "--since"], /argument missing|--since/],
    [["validate"], /no files given/],
    [["validate", "a.mp4", "--profile"], /--profile/],
    [
      ["validate", "a.mp4", "--profile", "nope"],
      /unknown validation profile "nope" \(known: default, youtube-shorts/,
    ],
    [["run"], /expected one module, got 0/],
    [["run", "a.ts", "--input", "{", "--input-file", "x"], /not both/],
    [["metrics", "--dir", ".", "--since", "yesterday-ish"], /neither a duration/],
  ])("%j is a usage error (exit 2) with a clear message", async (argv, message) => {
    const r = await tapline(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  it.each([
    ["metrics", "--since", "2x"],
    ["alerts", "--since", "2x"],
  ])("checks usage before data: %s %s %s without a data folder is exit 2", async (...argv) => {
    const cwd = await mkdtemp(join(tmpdir(), "tapline-nodata-"));
    try {
      const r = await tapline(argv, { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--since "2x" is neither a duration/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("reports a missing data folder with exit 3", async () => {
    for (const cmd of ["metrics", "status", "alerts"]) {
      const r = await tapline([cmd, "--dir", "/definitely/not/here"]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("no Tapline data folder at /definitely/not/here");
    }
  });

  it("prints colours only on a terminal", async () => {
    expect((await tapline(["frobnicate"], { tty: true })).stderr).toContain("\x1b[31m");
    expect((await tapline(["frobnicate"], { tty: true, env: { NO_COLOR: "1" } })).stderr).not.toContain(
      "\x1b[",
    );
    expect((await tapline(["frobnicate"])).stderr).not.toContain("\x1b[");
  });

  it("--version prints the package's version", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    expect(VERSION).toBe(pkg.version);
    expect((await tapline(["--version"])).stdout).toBe(`${pkg.version}\n`);
  });

  it("reads --since as a duration, epoch ms or a date", () => {
    const now = Date.parse("2026-05-01T12:00:00Z");
    expect(parseSince("90m", now)).toBe(now - 90 * 60_000);
    expect(parseSince("2d", now)).toBe(now - 2 * 86_400_000);
    expect(parseSince("1700000000000", now)).toBe(1_700_000_000_000);
    expect(parseSince("2026-05-01T10:00:00Z", now)).toBe(now - 2 * 3_600_000);
  });
});
