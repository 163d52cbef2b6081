import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * docs/errors.md is checked against the code: every `TAPLINE_ERR_*` string literal in a package's sources is
 * documented in that package's table, and every documented code still exists. Codes are collected from the
 * source text, so it does not matter how a package makes its errors (createError, a class, a code union).
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PACKAGES = join(ROOT, "packages");
const CODE = /"(TAPLINE_ERR_[A-Z0-9_]+)"/g;

/** The sources of a package, tests excluded. */
async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.m?ts$/.test(e.name) && !/\.test(-d)?\.m?ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The package whose prefix a code carries (`TAPLINE_ERR_RETRY_*` is plugin-retry's); core's are unprefixed. */
function owner(code: string, prefixes: ReadonlyMap<string, string>): string {
  for (const [prefix, pkg] of prefixes) if (code.startsWith(prefix)) return pkg;
  return "core";
}

async function codesInCode() {
  const dirs = (await readdir(PACKAGES, { withFileTypes: true })).filter((d) => d.isDirectory());
  // packages/plugin-retry -> TAPLINE_ERR_RETRY_, packages/cli -> TAPLINE_ERR_CLI_.
  const prefixes = new Map(
    dirs
      .filter((d) => d.name !== "core")
      .map((d) => [`TAPLINE_ERR_${d.name.replace(/^plugin-/, "").toUpperCase()}_`, d.name] as const),
  );
  const byPackage = new Map<string, Set<string>>(dirs.map((d) => [d.name, new Set()]));
  /** Where each code occurs: a code used by one package and made by another must exist in its owner. */
  const foundIn = new Map<string, Set<string>>();
  for (const d of dirs) {
    for (const file of await sources(join(PACKAGES, d.name, "src"))) {
      for (const [, code] of (await readFile(file, "utf8")).matchAll(CODE)) {
        byPackage.get(owner(code!, prefixes))!.add(code!);
        if (!foundIn.has(code!)) foundIn.set(code!, new Set());
        foundIn.get(code!)!.add(d.name);
      }
    }
  }
  // A code without a package prefix belongs to core, unless core never uses it and a single package does
  // (plugin-durable's TAPLINE_ERR_RUN_LOCKED, the name the durable-runs issue gives it).
  for (const [code, where] of foundIn) {
    if (owner(code, prefixes) !== "core" || where.has("core") || where.size !== 1) continue;
    byPackage.get("core")!.delete(code);
    byPackage.get([...where][0]!)!.add(code);
  }
  return { byPackage, foundIn, prefixes };
}

/** The codes in each `## @tapline/<package>` section's table (first column). */
async function codesInDoc(): Promise<Map<string, string[]>> {
  const text = await readFile(join(ROOT, "docs/errors.md"), "utf8");
  const sections = new Map<string, string[]>();
  for (const section of text.split(/^## /m).slice(1)) {
    const pkg = /^@tapline\/(\S+)/.exec(section)?.[1];
    if (pkg === undefined) continue;
    sections.set(
      pkg,
      [...section.matchAll(/^\|\s*`(TAPLINE_ERR_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!),
    );
  }
  return sections;
}

describe("docs/errors.md", () => {
  it("lists exactly the error codes each package's sources use, in that package's table", async () => {
    const { byPackage } = await codesInCode();
    const doc = await codesInDoc();
    // Every problem at once, so one run says everything to fix.
    const problems: string[] = [];
    for (const [pkg, codes] of byPackage) {
      const documented = doc.get(pkg);
      if (documented === undefined) {
        if (codes.size > 0) problems.push(`no "## @tapline/${pkg}" section for ${[...codes].join(", ")}`);
        continue;
      }
      for (const c of codes)
        if (!documented.includes(c)) problems.push(`${c} (@tapline/${pkg}) is not documented`);
      for (const c of documented)
        if (!codes.has(c)) problems.push(`${c} is listed under @tapline/${pkg}, but no source of it uses it`);
      if (new Set(documented).size !== documented.length)
        problems.push(`a code is listed twice under @tapline/${pkg}`);
    }
    for (const pkg of doc.keys())
      if (!byPackage.has(pkg)) problems.push(`a section for unknown package @tapline/${pkg}`);
    expect(problems).toEqual([]);
  });

  it("every code occurs in the sources of the package it is named after", async () => {
    // A code only one package refers to (cli checking core's TAPLINE_ERR_PLUGIN_OPTIONS) must still be made
    // by its owner, or the reference is stale.
    const { byPackage, foundIn } = await codesInCode();
    const orphans = [...byPackage].flatMap(([pkg, codes]) =>
      [...codes].filter((c) => !foundIn.get(c)!.has(pkg)).map((c) => `${c} (owner ${pkg})`),
    );
    expect(orphans).toEqual([]);
  });

  it("gives every code a meaning and what to do", async () => {
    const text = await readFile(join(ROOT, "docs/errors.md"), "utf8");
    const rows = [...text.matchAll(/^\|\s*`(TAPLINE_ERR_[A-Z0-9_]+)`\s*\|(.*)\|\s*$/gm)];
    expect(rows.length).toBeGreaterThan(0);
    for (const [, code, rest] of rows) {
      const cells = rest!.split(/(?<!\\)\|/).map((c) => c.trim());
      expect(cells.length, `${code}: columns`).toBeGreaterThanOrEqual(2);
      for (const cell of cells) expect(cell, `${code}: an empty cell`).not.toBe("");
    }
  });
});
