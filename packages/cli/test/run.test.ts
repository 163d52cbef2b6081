import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

const fixtures = join(import.meta.dirname, "fixtures");

describe("tapline run", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline run "));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("runs a module's pipeline with its default input and prints the report", async () => {
    const r = await tapline(["run", join(fixtures, "tiny.mjs"), "--dir", join(dir, "data")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Run [0-9a-f-]{36} \(tiny\): success/);
    expect(r.stdout).toMatch(/join\s+success\s+1/);
    expect(r.stderr).toContain("✓ shout success");
  });

  it("takes --input as JSON, prints --json reports, and exits 1 when the run fails", async () => {
    const r = await tapline([
      "run",
      join(fixtures, "tiny.mjs"),
      "--input",
      '{"words":["please","fail"]}',
      "--json",
      "--quiet",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const reports = JSON.parse(r.stdout);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      pipeline: "tiny",
      status: "failed",
      failedStep: "shout",
      error: { message: "cannot shout 'fail'", code: "E_TINY" },
    });
    expect(reports[0].steps.map((s: { status: string }) => s.status)).toEqual(["success", "failed"]);
  });

  it("loads plugins and inputs from a YAML config, relative to the config file", async () => {
    const config = join(dir, "tapline config.yaml");
    await writeFile(
      config,
      `dir: ./data\nplugins:\n  - plugin: ${join(fixtures, "hello-plugin.mjs")}\n    export: hello\n    options: { greeting: bonjour }\ninputs:\n  - { words: [a] }\n  - { words: [b, c] }\nconcurrency: 2\n`,
    );
    const r = await tapline(["run", join(fixtures, "tiny.mjs"), "--config", config, "--json"]);
    expect(r.code).toBe(0);
    const reports = JSON.parse(r.stdout);
    expect(reports.map((x: { output: string }) => x.output)).toEqual(["A", "B C"]);
    expect(reports[0].steps[0].extensions).toEqual({ hello: "bonjour" });
  });

  it("runs a module that exports its own app and pipeline, over its inputs", async () => {
    const r = await tapline(["run", join(fixtures, "own-app.mjs"), "--json", "--quiet"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { output: number }) => x.output)).toEqual([2, 3, 4]);
  });

  it.each([
    ["a missing module", ["run", join(fixtures, "nope.mjs")], /cannot load module .*nope\.mjs: no such file/],
    [
      "a module without a pipeline",
      ["run", join(fixtures, "no-exports.mjs")],
      /exports neither "pipeline" nor a default function/,
    ],
    ["bad JSON input", ["run", join(fixtures, "tiny.mjs"), "--input", "{words"], /--input is not valid JSON/],
  ])("%s is exit 2 with a clear message", async (_what, argv, message) => {
    const r = await tapline(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    ["an unknown key", "plugins: {}\nretries: 3\n", /unknown key "retries"/],
    ["invalid YAML", "plugins: [\n", /is not valid YAML/],
    [
      "an unloadable plugin",
      "plugins:\n  ./missing-plugin.mjs: {}\n",
      /plugin ".\/missing-plugin.mjs" could not be loaded/,
    ],
    [
      "a wrong factory name",
      `plugins:\n  - plugin: ${join(fixtures, "hello-plugin.mjs")}\n    export: nope\n`,
      /no factory export "nope" \(functions exported: hello\)/,
    ],
    ["a bad concurrency", "concurrency: 0\n", /"concurrency" must be an integer/],
    [
      "an unknown plugin name",
      "plugins:\n  nosuch: {}\n",
      /neither a first-party plugin \(retry, metrics, validate, alerts, gpu\) nor an installed package/,
    ],
    [
      "invalid options of a real plugin",
      "plugins:\n  retry:\n    defaults: { maxAttempts: -1 }\n",
      /"@tapline\/plugin-retry" has invalid options:\n {2}- defaults\.maxAttempts: /,
    ],
  ])("a config with %s is exit 2", async (_what, text, message) => {
    const config = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(config, text);
    const r = await tapline(["run", join(fixtures, "tiny.mjs"), "--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("a config listing plugins for a module with its own app is exit 2", async () => {
    const config = join(dir, "own.json");
    await writeFile(config, JSON.stringify({ plugins: { [join(fixtures, "hello-plugin.mjs")]: {} } }));
    const r = await tapline(["run", join(fixtures, "own-app.mjs"), "--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/creates its own app, so the config cannot add plugins/);
  });
});
