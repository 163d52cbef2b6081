import { lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

// Every ```ts block of every README in the repository must type-check as a module of its own, the way a
// reader pastes it: against the workspace's packages (resolved like an install would: node_modules links to
// each workspace package), strict, with library types checked. A block that is deliberately a fragment says
// so with ```ts fragment, or an HTML comment `<!-- not-compiled: why -->` on the line before the fence.

const root = resolve(import.meta.dirname, "../../..");
const checkDir = join(root, ".docs-check"); // gitignored
const blocksDir = join(checkDir, "blocks");

/**
 * READMEs owned by other engineers while their packages change in parallel: their failing blocks are reported
 * (this test fails for them as `it.fails`) and fixed after merging. Remove an entry once its README compiles:
 * its `it.fails` then fails, on purpose.
 */
const PENDING: Readonly<Record<string, string>> = {};

/** One fenced ```ts block. */
interface Block {
  readme: string; // relative to the repo root
  fenceLine: number; // 1-based line of the opening fence
  code: string;
  file: string; // where it is written for the compiler
}

/** Problems found while reading READMEs (an exemption without a reason, an unclosed fence). */
interface Problem {
  readme: string;
  line: number;
  message: string;
}

async function findReadmes(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findReadmes(path)));
    else if (entry.name === "README.md") found.push(path);
  }
  return found.sort();
}

/** Extracts the blocks of one README (`readme` relative to the root, for messages). */
export function extractBlocks(readme: string, text: string): { blocks: Block[]; problems: Problem[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  const problems: Problem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w+)?(?:\s+(.*))?$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!;
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== "```") end++;
    if (end === lines.length) {
      problems.push({ readme, line: i + 1, message: "unclosed code fence" });
      break;
    }
    const lang = open[2];
    if (lang === "ts" || lang === "typescript") {
      const info = open[3]?.trim() ?? "";
      const before =
        lines
          .slice(0, i)
          .findLast((l) => l.trim() !== "")
          ?.trim() ?? "";
      const exempt = /^<!--\s*not-compiled:(.*?)-->$/.exec(before);
      if (exempt && exempt[1]!.trim() === "")
        problems.push({ readme, line: i, message: "<!-- not-compiled: --> needs a reason" });
      if (!exempt && !/\bfragment\b/.test(info)) {
        const code = lines
          .slice(i + 1, end)
          .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
          .join("\n");
        const slug = readme.replace(/[^A-Za-z0-9]+/g, "_");
        blocks.push({ readme, fenceLine: i + 1, code, file: join(blocksDir, `${slug}.L${i + 1}.ts`) });
      }
    }
    i = end;
  }
  return { blocks, problems };
}

/**
 * Type-checks each block in a program of its own (a plugin's `declare module` augmentation applies to every file
 * of a program, so one program for all blocks would hide a block's missing import), sharing parsed files.
 * Returns the messages of each README: `README.md:line:col (block at line n) TS1234: ...`.
 */
function typeCheck(blocks: readonly Block[]): Map<string, string[]> {
  const configPath = join(checkDir, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const host = ts.createCompilerHost(parsed.options);
  const cache = new Map<string, ts.SourceFile | undefined>();
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (!cache.has(fileName)) cache.set(fileName, getSourceFile(fileName, languageVersion, ...rest));
    return cache.get(fileName);
  };
  const byReadme = new Map<string, string[]>();
  for (const block of blocks) {
    const program = ts.createProgram({ rootNames: [block.file], options: parsed.options, host });
    const file = program.getSourceFile(block.file);
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ];
    const list = byReadme.get(block.readme) ?? [];
    for (const d of diagnostics) {
      const text = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      let where = `${block.readme} (block at line ${block.fenceLine})`;
      if (d.file && d.start !== undefined) {
        const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
        where =
          resolve(d.file.fileName) === resolve(block.file)
            ? `${block.readme}:${block.fenceLine + 1 + line}:${character + 1} (block at line ${block.fenceLine})`
            : `${where} in ${relative(root, d.file.fileName)}:${line + 1}:${character + 1}`;
      }
      list.push(`${where} ${text}`);
    }
    byReadme.set(block.readme, list);
  }
  return byReadme;
}

/** Links each workspace package into the check folder's node_modules, as an install would. */
async function linkWorkspacePackages(): Promise<void> {
  const modules = join(checkDir, "node_modules");
  const link = async (name: string, target: string) => {
    const path = join(modules, name);
    if (await lstat(path).catch(() => undefined)) return;
    await mkdir(dirname(path), { recursive: true });
    await symlink(target, path, "dir");
  };
  for (const group of ["packages", "examples"]) {
    for (const entry of await readdir(join(root, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(root, group, entry.name);
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8").catch(() => "{}"));
      if (typeof pkg.name !== "string") continue;
      await link(pkg.name, dir);
      // What a consumer installs beside it (effect for plugin-retry's Schedules, valibot...).
      for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
        const target = join(dir, "node_modules", dep);
        if (!dep.startsWith("@tapline/") && (await stat(target).catch(() => undefined)))
          await link(dep, target);
      }
    }
  }
  await mkdir(join(modules, "@types"), { recursive: true });
  await symlink(join(root, "node_modules/@types/node"), join(modules, "@types/node"), "dir");
}

async function prepare(readmeTexts: ReadonlyMap<string, string>) {
  await rm(checkDir, { recursive: true, force: true });
  await mkdir(blocksDir, { recursive: true });
  await linkWorkspacePackages();
  await writeFile(
    join(checkDir, "package.json"),
    `${JSON.stringify({ name: "tapline-docs-check", private: true, type: "module" }, null, 2)}\n`,
  );
  await writeFile(
    join(checkDir, "tsconfig.json"),
    `${JSON.stringify(
      {
        extends: "../tsconfig.base.json",
        compilerOptions: {
          noEmit: true,
          composite: false,
          declaration: false,
          declarationMap: false,
          emitDeclarationOnly: false,
          incremental: false,
          skipLibCheck: false,
          strict: true,
          rootDir: "..",
          typeRoots: ["./node_modules/@types"],
        },
        include: ["blocks/*.ts"],
      },
      null,
      2,
    )}\n`,
  );
  const blocks: Block[] = [];
  const problems: Problem[] = [];
  for (const [readme, text] of readmeTexts) {
    const found = extractBlocks(readme, text);
    blocks.push(...found.blocks);
    problems.push(...found.problems);
  }
  // Each block is a module of its own (its declarations do not clash with another block's).
  for (const b of blocks) await writeFile(b.file, `${b.code}\nexport {};\n`);
  return { blocks, problems };
}

// A README that must fail: proves the check reports the README and the line of a broken block.
const CANARY = "test/fixtures/CANARY-README.md";
const CANARY_TEXT = [
  "# canary",
  "",
  "```ts",
  'import type { TaplineApp } from "@tapline/core";',
  "export const n: number = (null as unknown as TaplineApp).nope;",
  "```",
  "",
  "<!-- not-compiled: shows a shape, not a program -->",
  "```ts",
  "this is not TypeScript",
  "```",
  "",
  "```ts fragment",
  "neither is this",
  "```",
  "",
].join("\n");

// Found when the file is collected, so each README is a test of its own.
const readmes = (await findReadmes(root)).map((file) => relative(root, file));

describe("README code blocks", () => {
  let result: Map<string, string[]>;
  let problems: Problem[];
  let blocks: Block[];

  beforeAll(async () => {
    const texts = new Map<string, string>();
    for (const readme of readmes) texts.set(readme, await readFile(join(root, readme), "utf8"));
    texts.set(CANARY, CANARY_TEXT);
    ({ blocks, problems } = await prepare(texts));
    result = typeCheck(blocks);
  }, 120_000);

  it("finds the READMEs and their blocks", () => {
    expect(readmes).toContain("README.md");
    expect(readmes).toContain("packages/cli/README.md");
    expect(readmes).toContain("examples/story-video/README.md");
    expect(readmes.some((r) => r.includes("node_modules"))).toBe(false);
    expect(blocks.filter((b) => b.readme === "packages/cli/README.md").length).toBeGreaterThan(0);
    expect(Object.keys(PENDING).filter((r) => !readmes.includes(r))).toEqual([]);
  });

  it("reports a broken block with its README and line, and skips only marked fragments", () => {
    expect(blocks.filter((b) => b.readme === CANARY).map((b) => b.fenceLine)).toEqual([3]);
    expect(result.get(CANARY)).toEqual([
      expect.stringMatching(
        /^test\/fixtures\/CANARY-README\.md:5:\d+ \(block at line 3\) TS2339: Property 'nope' does not exist/,
      ),
    ]);
  });

  it("rejects an exemption without a reason", () => {
    const { blocks: found, problems: bad } = extractBlocks("X.md", "<!-- not-compiled: -->\n```ts\nx\n```\n");
    expect(found).toEqual([]);
    expect(bad).toEqual([{ readme: "X.md", line: 1, message: "<!-- not-compiled: --> needs a reason" }]);
  });

  it("has no malformed READMEs", () => {
    expect(problems.filter((p) => p.readme !== CANARY)).toEqual([]);
  });

  for (const readme of readmes) {
    const why = PENDING[readme];
    const check = () => {
      const errors = result.get(readme) ?? [];
      if (why && errors.length > 0)
        console.warn(`${readme}: ${errors.length} error(s)\n${errors.join("\n")}`);
      expect(errors, `\n${errors.join("\n")}`).toEqual([]);
    };
    if (why) it.fails(`${readme}: every ts block compiles (pending: ${why})`, check);
    else it(`${readme}: every ts block compiles`, check);
  }
});
