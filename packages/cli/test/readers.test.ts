import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppStatus, createTapline, definePlugin } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { alerts } from "@tapline/plugin-alerts";
import { writeStatus } from "@tapline/plugin-metrics/files";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tapline readers "));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("tapline status", () => {
  const status = (parts: AppStatus["parts"], level: AppStatus["level"]): AppStatus => ({
    level,
    message: "m",
    parts,
    time: Date.now() - 90_000,
  });

  it.each([
    ["healthy", [{ component: "metrics", level: "ok", message: "recording" }], "healthy", 0],
    ["critical", [{ component: "alerts", level: "critical", message: "error: tts failing" }], "critical", 1],
    ["degraded", [{ component: "retry", level: "degraded", message: "tts open" }], "degraded", 1],
    [
      "stopped, healthy before",
      [
        { component: "core", level: "degraded", message: "app closed" },
        { component: "metrics", level: "ok", message: "recording" },
        { component: "gpu", level: "unknown", message: "closed" },
      ],
      "healthy",
      0,
    ],
  ] as const)("a %s app: health and exit status", async (name, parts, health, code) => {
    const dir = join(root, name);
    await writeStatus(dir, status(parts as AppStatus["parts"], "degraded"));
    const json = await tapline(["status", "--dir", dir, "--json"]);
    expect(json.code).toBe(code);
    expect(JSON.parse(json.stdout)).toMatchObject({ health, parts, ageMs: expect.any(Number) });
    const text = await tapline(["status", "--dir", dir]);
    expect(text.code).toBe(code);
    expect(text.stdout.split("\n")[0]).toMatch(new RegExp(`^${health.toUpperCase()}`));
    expect(text.stdout).toContain("(2 min ago)");
  });

  it("a folder without status.json is exit 3 with the reason", async () => {
    const r = await tapline(["status", "--dir", root]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("no status in");
  });
});

describe("tapline alerts", () => {
  let dir: string;
  beforeAll(async () => {
    // A real app with the alerts plugin: a plugin raises one alert that resolves and one left firing.
    dir = join(root, "alerts app");
    const raiser = definePlugin({
      name: "raiser",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.runEnd.tap(api.name, () => {
          const base = {
            level: "error",
            labels: { breaker: "tts" },
            message: 'circuit breaker "tts" is open',
          } as const;
          api.raiseAlert({ ...base, rule: "breaker_open", state: "firing" });
          api.raiseAlert({ ...base, rule: "breaker_open", state: "resolved", message: "closed again" });
          api.raiseAlert({
            rule: "disk_full",
            level: "warning",
            state: "firing",
            labels: { mount: "/" },
            message: "disk 93% full",
          });
        });
      },
    });
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [alerts({ evaluationInterval: "1s" }), raiser()],
    });
    await app
      .pipeline("p")
      .step("s", () => 1)
      .build()
      .run(undefined);
    await new Promise((r) => setTimeout(r, 50));
    await app.close();
  });

  it("--json: every transition; --active: only what still fires", async () => {
    const all = await tapline(["alerts", "--dir", dir, "--json"]);
    expect(all.code).toBe(0);
    const entries = JSON.parse(all.stdout);
    expect(entries.map((e: { rule: string; state: string }) => `${e.rule}:${e.state}`)).toEqual(
      expect.arrayContaining(["breaker_open:firing", "breaker_open:resolved", "disk_full:firing"]),
    );
    const active = JSON.parse((await tapline(["alerts", "--dir", dir, "--active", "--json"])).stdout);
    expect(active.map((e: { rule: string }) => e.rule)).toEqual(["disk_full"]);
  });

  it("prints a table; --since in the future selects nothing", async () => {
    const r = await tapline(["alerts", "--dir", dir]);
    expect(r.stdout).toMatch(/\d+ alert transition\(s\)/);
    expect(r.stdout).toMatch(/time\s+state\s+level\s+rule\s+labels\s+message/);
    expect(r.stdout).toMatch(/firing\s+warning\s+disk_full\s+mount=\/\s+disk 93% full/);
    const later = await tapline([
      "alerts",
      "--dir",
      dir,
      "--since",
      new Date(Date.now() + 60_000).toISOString(),
      "--json",
    ]);
    expect(JSON.parse(later.stdout)).toEqual([]);
  });
});
