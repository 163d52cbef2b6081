#!/usr/bin/env node
// The public-surface budget (issue #13): counts the names each published entry point exports, values and
// types apart, with the TypeScript compiler on the sources, and fails when a package is over its budget.
// Run by .ci/run; `node scripts/surface.mjs --json` prints the counts as JSON.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Values allowed in a package's main entry. Subpath entries (`/kit`, `/effect`) are counted, not budgeted. */
const BUDGET = { "@tapline/core": 10, default: 15, "@tapline/cli": 15 };

const entries = [];
for (const dir of readdirSync(join(root, "packages"))) {
  const pkg = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8"));
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    const source = typeof target === "object" ? target["@tapline/source"] : undefined;
    if (!source) continue;
    entries.push({ pkg: pkg.name, sub, file: join(root, "packages", dir, source) });
  }
}
const program = ts.createProgram(
  entries.map((e) => e.file),
  {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    allowImportingTsExtensions: true,
    noEmit: true,
    customConditions: ["@tapline/source"],
    types: ["node"],
    strict: true,
  },
);
const checker = program.getTypeChecker();
const rows = [];
let over = false;
for (const entry of entries) {
  const source = program.getSourceFile(entry.file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`cannot read ${entry.file}`);
  let values = 0;
  let types = 0;
  const valueNames = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    // `export { type X }` of a value still exports only its type.
    const typeOnly = exported.declarations?.some(
      (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
    );
    if (target.flags & ts.SymbolFlags.Value && !typeOnly) {
      values++;
      valueNames.push(exported.name);
    } else types++;
  }
  const budget = entry.sub === "." ? (BUDGET[entry.pkg] ?? BUDGET.default) : undefined;
  const ok = budget === undefined || values <= budget;
  if (!ok) over = true;
  rows.push({
    entry: entry.sub === "." ? entry.pkg : `${entry.pkg}${entry.sub.slice(1)}`,
    names: values + types,
    values,
    types,
    budget,
    ok,
    valueNames,
  });
}
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log("| entry | names | values | types | value budget |\n|---|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.entry} | ${r.names} | ${r.values} | ${r.types} | ${r.budget ?? "-"}${r.ok ? "" : " **over**"} |`,
    );
  }
  if (process.argv.includes("--names"))
    for (const r of rows) console.log(`${r.entry}: ${r.valueNames.join(", ")}`);
}
if (over) {
  console.error("surface: a package exports more values than its budget; move internals out of src/index.ts");
  process.exit(1);
}
