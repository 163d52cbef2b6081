import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const packages = ["packages/core", "packages/plugin-alerts", "examples/alert-handler-example"];
let scratch: string | undefined;

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// The scratch project's script: a chat webhook server on 127.0.0.1:0, an app with the alerts plugin and the
// third-party handler installed from its tarball, a failing step, and the message the chat receives.
const SCRIPT = `
import { createServer } from "node:http";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { alerts, presets } from "@tapline/plugin-alerts";
import { chatHandler } from "tapline-alert-handler-chat";

const received = new Promise((done) => {
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => { res.end("ok"); server.close(); done(JSON.parse(raw)); });
  });
  server.listen(0, "127.0.0.1", () => start(server.address().port));
});

async function start(port) {
  const app = createTapline({
    dir: process.argv[2],
    logger: silentLogger,
    plugins: [alerts({ rules: [presets.stepFailureRate({ minSamples: 1 })], route: { groupWait: 0 }, handlers: [chatHandler({ url: "http://127.0.0.1:" + port + "/hooks/x" })] })],
  });
  const p = app.pipeline("story").step("tts", () => { throw new Error("provider down"); }).build();
  await p.run();
  const body = await received;
  await app.close();
  process.stdout.write(JSON.stringify(body));
}
`;

describe("a third-party handler installed from packed tarballs", () => {
  it("receives an alert through the public API", { timeout: 180_000 }, async () => {
    scratch = await mkdtemp(join(tmpdir(), "tapline handler scratch "));
    const packs = join(scratch, "packs");
    // Builds and packs run side by side (each package's build reads its dependencies' sources, not their dist).
    await Promise.all(
      packages.map((pkg) =>
        execa(join(root, "node_modules/.bin/tsdown"), [], { cwd: join(root, pkg), preferLocal: true }),
      ),
    );
    await Promise.all(
      packages.map((pkg) =>
        execa("npx", ["-y", "pnpm@12.21.0", "pack", "--pack-destination", packs], { cwd: join(root, pkg) }),
      ),
    );
    const tarballs = (await readdir(packs)).filter((f) => f.endsWith(".tgz"));
    expect(tarballs).toHaveLength(3);
    const project = join(scratch, "project");
    await execa("mkdir", ["-p", project]);
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "scratch", private: true, type: "module" }),
    );
    await writeFile(join(project, "main.mjs"), SCRIPT);
    await execa(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--loglevel=error",
        ...tarballs.map((t) => join(packs, t)),
      ],
      { cwd: project },
    );
    const { stdout } = await execa(process.execPath, ["main.mjs", join(project, ".tapline")], {
      cwd: project,
      timeout: 30_000,
    });
    const body = JSON.parse(stdout) as { text: string; username: string };
    expect(body.username).toBe("tapline");
    expect(body.text).toBe("*1 alert(s) firing*\n🔥 StepFailureRate: step tts failing 100% over 5m");
  });
});
