import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "@tapline/cli";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveFfmpeg, skipOrFail } from "./helpers.ts";

const skip = skipOrFail(await haveFfmpeg(), "ffmpeg/ffprobe");
const root = join(import.meta.dirname, "..");

/** The demo as a child process (sources, not dist), on the Node running the tests. */
const demo = (args: readonly string[]) =>
  execa(
    process.execPath,
    ["--conditions=@tapline/source", join(root, "src", "main.ts"), "--quick", ...args],
    {
      cwd: root,
      reject: false,
      env: { NO_COLOR: "1" },
    },
  );

describe.skipIf(skip)("the demo's durable runs (child processes)", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tapline demo durable "));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it("--crash-at render kills the process; --resume finishes the story without paying again", async () => {
    const dir = join(tmp, "crash", ".tapline");
    const out = join(tmp, "crash", "out");
    const crashed = await demo(["--crash-at", "render", "--dir", dir, "--out", out]);
    expect(crashed.signal).toBe("SIGKILL");
    expect(crashed.stderr).toContain("--crash-at render: killing this process (SIGKILL) inside render");
    await expect(stat(join(out, "lighthouse.mp4"))).rejects.toThrow();

    const resumed = await demo(["--resume", "--dir", dir, "--out", out]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    // The stand-ins count every call they get: this execution made none; replay saved the first run's.
    expect(resumed.stdout).toMatch(
      /paid calls saved by replay: llm 2, tts 1, images [1-9]\d*; made this time: llm 0, tts 0, images 0/,
    );
    expect(resumed.stdout).toMatch(
      /\[lighthouse\] success: replayed \d+ unit\(s\): script, revise, media\.voice\.voiceover, media\.voice\.subtitles, \d+ scene\(s\); ran 2: render, validate/,
    );
    expect(resumed.stdout).toContain("[lighthouse] script: replayed (saved result, not executed)");
    expect(resumed.stdout).not.toMatch(/\[lighthouse\] script: success in/);
    const [report] = JSON.parse(await readFile(join(out, "reports.json"), "utf8"));
    expect(report.status).toBe("success");
    expect((await stat(join(out, "lighthouse.mp4"))).size).toBeGreaterThan(0);

    // Nothing left to resume: a second --resume starts nothing.
    const again = await demo(["--resume", "--dir", dir, "--out", out]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("Nothing to resume");
  }, 180_000);

  it("--approve-scripts suspends each story after its draft and prints the tapline approve command", async () => {
    const dir = join(tmp, "approve", ".tapline");
    const out = join(tmp, "approve", "out");
    const first = await demo(["--approve-scripts", "--dir", dir, "--out", out]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      '[lighthouse] waits for approval: approve the script of "The Last Lighthouse"',
    );
    const runId = /tapline approve (\S+) /.exec(first.stdout)![1]!;
    expect(first.stdout).toContain(
      `npx -y pnpm@12.21.0 --filter @tapline/example-story-video exec tapline approve ${runId} src/tapline-module.ts --config tapline.yaml --dir ${dir} --data '{"approved":true}'`,
    );

    // The printed command, in-process (the CLI with the module and config it names).
    let stdout = "";
    let stderr = "";
    const io = {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      cwd: root,
      env: {},
    };
    const approved = await main(
      [
        "approve",
        runId,
        "src/tapline-module.ts",
        "--config",
        "tapline.yaml",
        "--dir",
        dir,
        "--data",
        '{"approved":true}',
        "--quiet",
        "--json",
      ],
      io,
    );
    expect(approved, stderr).toBe(0);
    const [report] = JSON.parse(stdout);
    expect(report).toMatchObject({ status: "success", resumed: true });
    // The draft is not written again; the gate (revise) runs with the approval.
    expect(
      report.steps.map((s: { name: string; replayed?: boolean }) => [s.name, s.replayed === true]),
    ).toEqual([
      ["script", true],
      ["revise", false],
      ["media", false],
      ["render", false],
      ["validate", false],
    ]);
    expect(report.output.video).toMatch(/lighthouse\.mp4$/);
  }, 180_000);
});
