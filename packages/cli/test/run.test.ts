import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
    [
      "an unknown key",
      "plugins: {}\nretries: 3\n",
      /config .*: invalid:\n {2}- retries: unknown option "retries" \(known: dir, plugins, input, inputs, concurrency\)/,
    ],
    [
      "a misspelt top-level key",
      "plugin:\n  retry: {}\n",
      /config .*\.yaml: invalid:\n {2}- plugin: unknown option "plugin"; did you mean "plugins"\?/,
    ],
    [
      "another misspelt top-level key",
      "concurency: 2\n",
      /- concurency: unknown option "concurency"; did you mean "concurrency"\?/,
    ],
    [
      "a plugin's options at the top level",
      "retry: { defaults: { maxAtempts: 3 } }\n",
      /- retry: unknown option "retry" .*; plugin options go under "plugins:" \(plugins: \{ retry: \{ \.\.\. \} \}\)/,
    ],
    [
      "a misspelt plugin name",
      "plugins:\n  retyr: {}\n",
      /plugin "retyr" could not be loaded .*; did you mean "retry"\?/,
    ],
    [
      "a misspelt field of a list entry",
      "plugins:\n  - plugin: retry\n    option: {}\n",
      /- plugins\[0\]\.option: unknown option "option"; did you mean "options"\?/,
    ],
    [
      "a misspelt option of a strict plugin",
      `plugins:\n  ${join(fixtures, "strict-plugin.mjs")}: { greting: hi }\n`,
      /config .*bad-\w+\.yaml: .*strict.*\n {2}- greting: unknown option "greting"; did you mean "greeting"\?/,
    ],
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
    ["a bad concurrency", "concurrency: 0\n", /- concurrency: expected >=1, got 0/],
    ["a fractional concurrency", "concurrency: 1.5\n", /- concurrency: expected an integer, got 1\.5/],
    [
      "an unknown plugin name",
      "plugins:\n  nosuch: {}\n",
      /neither a first-party plugin \(retry, metrics, validate, alerts, gpu, durable\) nor an installed package/,
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

  it("a module whose pipeline() throws is exit 4, naming the module, with no secret in the output", async () => {
    const r = await tapline(["run", join(fixtures, "throws.mjs"), "--dir", join(dir, "data")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /tapline run: module .*throws\.mjs: its pipeline function threw: Error: no model for/,
    );
    expect(r.stderr).toMatch(/TAPLINE_ERR_CLI_MODULE_THREW/);
    expect(r.stderr).toMatch(/at pipeline \(.*throws\.mjs:\d+/); // where, in the module
    expect(r.stderr).not.toMatch(/unexpected error/);
    for (const secret of ["user:pass", "token=abc", "sk-live-1234567890abcdef"])
      expect(r.stderr + r.stdout).not.toContain(secret);
  });

  it.each([[[]], [["--json"]]])("prints no secret of a step's error (progress, report %j)", async (extra) => {
    const r = await tapline(["run", join(fixtures, "leaky.mjs"), "--dir", join(dir, "data"), ...extra]);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain("401 from https://");
    for (const secret of ["user:pass", "token=abc", "sk-live-1234567890abcdef"])
      expect(r.stderr + r.stdout).not.toContain(secret);
  });

  it("runs the README's pipeline.ts with a config, and rejects its retry option without one", async () => {
    const readme = await readFile(join(import.meta.dirname, "../README.md"), "utf8");
    const block = /```ts\n(\/\/ pipeline\.ts\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const module = join(dir, "readme-pipeline.ts");
    await writeFile(module, block!);
    const config = join(dir, "readme.yaml");
    await writeFile(config, "plugins:\n  retry: {}\n");
    const ok = await tapline(["run", module, "--config", config, "--dir", join(dir, "data"), "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)[0].output).toBe("HELLO WORLD");
    const bare = await tapline(["run", module, "--dir", join(dir, "data")]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/unknown step option "retry"/);
  });

  it("a config listing plugins for a module with its own app is exit 2", async () => {
    const config = join(dir, "own.json");
    await writeFile(config, JSON.stringify({ plugins: { [join(fixtures, "hello-plugin.mjs")]: {} } }));
    const r = await tapline(["run", join(fixtures, "own-app.mjs"), "--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/creates its own app, so the config cannot add plugins/);
  });
});

describe("tapline run with flow shapes", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tapline fan-out "));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints a shape's units as a tree, sums a long map up, and nests children in --json", async () => {
    const config = join(dir, "retry.yaml");
    await writeFile(
      config,
      "plugins:\n  retry: { defaults: { maxAttempts: 2, backoff: { kind: constant, delay: 1 } } }\n",
    );
    const r = await tapline([
      "run",
      join(fixtures, "fan-out.mjs"),
      "--config",
      config,
      "--dir",
      join(dir, "data"),
    ]);
    expect(r.code).toBe(0);
    // Progress: one line per shape, the failed attempt of the item, no line per successful item.
    expect(r.stderr).toMatch(/✓ media success in .* 2\/2 ✓/);
    expect(r.stderr).toMatch(/↻ scenes\[2\] attempt 1 failed: scene 2 blurry/);
    expect(r.stderr).toMatch(/✓ scenes success in .* 20\/20 ✓ 1 retried/);
    expect(r.stderr).not.toContain("scenes[5]");
    // The table: branches under their step; of a long map only the retried item.
    expect(r.stdout).toMatch(/\n {2}voice\s+success/);
    expect(r.stdout).toMatch(/\n {2}\[2\]\s+success\s+2/);
    expect(r.stdout).not.toMatch(/\n {2}\[5\]/);
    const json = await tapline([
      "run",
      join(fixtures, "fan-out.mjs"),
      "--config",
      config,
      "--json",
      "--quiet",
    ]);
    const [report] = JSON.parse(json.stdout) as {
      steps: { path: string; children?: { path: string }[] }[];
    }[];
    expect(report!.steps.map((s) => s.path)).toEqual(["media", "scenes"]);
    expect(report!.steps[1]!.children).toHaveLength(20);
    expect(report!.steps[1]!.children![7]!.path).toBe("scenes[7]");
  });
});

describe("tapline run with cost and budget", () => {
  it("prints what the run cost against its budget, and the budget stop", async () => {
    const r = await tapline(["run", join(fixtures, "costly.mjs"), "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("cost: 0.02 usd, 1500 tokens (budget 0.05 usd)");
    expect(r.stdout).toContain('budget: "render" would cost 0.04 usd on top of 0.02 spent');
    const json = await tapline(["run", join(fixtures, "costly.mjs"), "--quiet", "--json"]);
    const [report] = JSON.parse(json.stdout);
    expect(report.cost).toEqual({ usd: 0.02, tokens: 1500 });
    expect(report.steps[0].cost).toEqual({ usd: 0.02, tokens: 1500 });
    expect(report.budgetExceeded.code).toBe("TAPLINE_ERR_BUDGET_EXCEEDED");
  });
});
