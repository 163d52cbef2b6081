import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../../", import.meta.url).pathname;
const dashboard = JSON.parse(await readFile(join(root, "docs/grafana/tapline.json"), "utf8")) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const exprs = dashboard.panels.flatMap((p) =>
  p.targets.map((t) => ({ panel: p.title, expr: t.expr.replaceAll("$pipeline", ".*") })),
);
const PROMTOOL = "/usr/bin/promtool";
const havePromtool = (() => {
  try {
    execFileSync(PROMTOOL, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!havePromtool && process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
  throw new Error(
    `${PROMTOOL} is missing and TAPLINE_REQUIRE_INTEGRATION=1: install Debian's "prometheus" package`,
  );

async function sources(dir: string): Promise<string> {
  let text = "";
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      text += await readFile(join(entry.parentPath, entry.name), "utf8");
  }
  return text;
}

describe("docs/grafana/tapline.json", () => {
  it("every metric a panel queries is one a Tapline package publishes", async () => {
    const published = (
      await Promise.all(
        ["plugin-metrics", "plugin-gpu", "plugin-validate"].map((p) =>
          sources(join(root, "packages", p, "src")),
        ),
      )
    ).join("\n");
    const names = new Set(exprs.flatMap((e) => e.expr.match(/\b(?:tapline|nvidia)_[a-z_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      const base = name.replace(/_(bucket|count|sum)$/, "");
      expect(published.includes(`"${base}"`) || published.includes(`${base}"`), `${name} is published`).toBe(
        true,
      );
    }
  });

  it.skipIf(!havePromtool)("every query parses (promtool check rules)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tapline-grafana-"));
    try {
      const rules = exprs
        .map((e, i) => `      - record: tapline:panel_${i}\n        expr: ${JSON.stringify(e.expr)}`)
        .join("\n");
      await writeFile(join(dir, "rules.yml"), `groups:\n  - name: grafana\n    rules:\n${rules}\n`);
      const out = execFileSync(PROMTOOL, ["check", "rules", join(dir, "rules.yml")], { encoding: "utf8" });
      expect(out).toContain(`${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
