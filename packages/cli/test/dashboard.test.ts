import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../../dashboard/scripts/build-client.mjs";
import { main } from "../src/main.ts";

// The dashboard serves its bundled page from dist/client; tests run on the sources, so bundle it first.
beforeAll(() => buildClient(), 60_000);

const io = (signal: AbortSignal, out: { text: string }) => ({
  stdout: {
    write: (s: string) => {
      out.text += s;
    },
  },
  stderr: {
    write: (s: string) => {
      out.text += s;
    },
  },
  cwd: process.cwd(),
  env: {},
  signal,
});

describe("tapline dashboard", () => {
  it("serves the folder's data on the port given, until interrupted", async () => {
    const root = await mkdtemp(join(tmpdir(), "tapline-cli-dash-"));
    await mkdir(join(root, "runs"));
    await writeFile(
      join(root, "runs", "2026-01-01.0.jsonl"),
      `${JSON.stringify({ t: "run", time: 1, runId: "r1", pipeline: "p", status: "success", durationMs: 2 })}\n`,
    );
    const controller = new AbortController();
    const out = { text: "" };
    const exit = main(["dashboard", "--dir", root, "--port", "0"], io(controller.signal, out));
    await expect.poll(() => out.text, { timeout: 10_000 }).toMatch(/at http:\/\/127\.0\.0\.1:\d+\//);
    const url = /at (http\S+)/.exec(out.text)![1]!;
    const overview = (await (await fetch(new URL("api/overview", url))).json()) as { totals: object };
    expect(overview.totals).toMatchObject({ runs: 1, successes: 1 });
    controller.abort();
    expect(await exit).toBe(0);
    await rm(root, { recursive: true, force: true });
  });

  it("a bad port is a usage error (2); a missing folder is 3", async () => {
    const out = { text: "" };
    const signal = new AbortController().signal;
    expect(await main(["dashboard", "--port", "http"], io(signal, out))).toBe(2);
    expect(out.text).toContain("--port must be an integer");
    expect(await main(["dashboard", "--dir", "/nonexistent/tapline"], io(signal, out))).toBe(3);
  });
});

describe("tapline report", () => {
  it("writes an HTML report (or md by the --out extension) of the folder's period", async () => {
    const root = await mkdtemp(join(tmpdir(), "tapline-cli-report-"));
    await mkdir(join(root, "runs"));
    const now = Date.now();
    await writeFile(
      join(root, "runs", `${new Date(now).toISOString().slice(0, 10)}.0.jsonl`),
      `${JSON.stringify({ t: "step", time: now, runId: "r1", pipeline: "p", step: "tts", status: "success", durationMs: 20, attempts: 2 })}\n${JSON.stringify({ t: "run", time: now, runId: "r1", pipeline: "p", status: "success", durationMs: 25 })}\n`,
    );
    const out = { text: "" };
    const signal = new AbortController().signal;
    expect(
      await main(["report", "--dir", root, "--since", "1h", "--out", join(root, "r.html")], io(signal, out)),
    ).toBe(0);
    const html = await readFile(join(root, "r.html"), "utf8");
    expect(html).toContain("<b>1</b> runs");
    expect(html).toContain("<code>tts</code>");
    expect(await main(["report", "--dir", root, "--out", join(root, "r.md")], io(signal, out))).toBe(0);
    expect(await readFile(join(root, "r.md"), "utf8")).toContain("1 runs, success rate 100.0%");
    expect(await main(["report", "--dir", root, "--format", "pdf"], io(signal, out))).toBe(2);
    await rm(root, { recursive: true, force: true });
  });
});
