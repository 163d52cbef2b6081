import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "../src/bin.ts");
const fixtures = join(import.meta.dirname, "fixtures");
const tapline = (args: string[], options: { env?: Record<string, string> } = {}) =>
  execa(process.execPath, ["--conditions=@tapline/source", bin, ...args], {
    reject: false,
    env: { NO_COLOR: "", ...options.env },
  });

describe("the tapline binary", () => {
  it("exits with the documented status codes", async () => {
    expect((await tapline(["--version"])).stdout).toBe("1.0.0");
    expect((await tapline(["nope"])).exitCode).toBe(2);
    expect((await tapline(["run", join(fixtures, "tiny.mjs"), "--quiet"])).exitCode).toBe(0);
    expect(
      (await tapline(["run", join(fixtures, "tiny.mjs"), "--quiet", "--input", '{"words":["fail"]}']))
        .exitCode,
    ).toBe(1);
    expect((await tapline(["status", "--dir", join(fixtures, "missing")])).exitCode).toBe(3);
    expect((await tapline(["run", join(fixtures, "throws.mjs"), "--quiet"])).exitCode).toBe(4);
  });

  it("cancels the runs in flight on SIGINT: the report says cancelled, the exit status is 1", async () => {
    const child = execa(
      process.execPath,
      ["--conditions=@tapline/source", bin, "run", join(fixtures, "slow.mjs"), "--json"],
      { reject: false },
    );
    await new Promise<void>((resolve) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("▶ wait")) resolve();
      });
    });
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(1);
    const [report] = JSON.parse(result.stdout);
    expect(report.status).toBe("cancelled");
    expect(report.steps[0].status).toBe("cancelled");
  });
});
