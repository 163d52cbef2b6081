import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline, definePlugin, WrapStage } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StepRecord } from "../src/files.ts";
import { metrics } from "../src/index.ts";

/** Calls a failing step once more (a retry, without plugin-retry: plugins never import each other). */
const againOnce = definePlugin({
  name: "again-once",
  version: "1.0.0",
  core: "^1.0.0",
  setup(api) {
    api.hooks.wrapStep.tap(
      { name: "again-once", stage: WrapStage.retry },
      (next) => async (input, signal) => {
        try {
          return await next(input, signal);
        } catch {
          return next(input, signal);
        }
      },
    );
  },
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline evidence "));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The step records of the runs stream. */
function steps(): StepRecord[] {
  const folder = join(dir, "app", "runs");
  return readdirSync(folder)
    .flatMap((f) => readFileSync(join(folder, f), "utf8").trim().split("\n"))
    .map((l) => JSON.parse(l) as StepRecord)
    .filter((r) => r.t === "step");
}

describe("step records carry each unit's findings and artifacts", () => {
  it("keeps the last attempt's artifacts (path, kind, size) and findings, earlier attempts' findings with their number; redacted", async () => {
    const app = createTapline({
      dir: join(dir, "app"),
      logger: silentLogger,
      plugins: [metrics({ system: false, prometheus: false }), againOnce()],
    });
    await app.ready();
    let calls = 0;
    const wav = join(dir, "voice.wav");
    const p = app
      .pipeline<number>("story")
      .step("voice", (n, ctx) => {
        calls++;
        writeFileSync(wav, Buffer.alloc(calls * 100));
        ctx.artifact(wav, { kind: "audio" });
        ctx.artifact(join(dir, "gone.srt"), { kind: "subtitles" });
        if (calls === 1) {
          ctx.finding({
            check: "audio.silent",
            severity: "error",
            message: "silent (key sk-live-1234567890abcdef)",
            file: wav,
          });
          throw new Error("rejected");
        }
        ctx.finding({
          check: "audio.loudness",
          severity: "warning",
          message: "-22 LUFS under -14",
          file: wav,
        });
        return n;
      })
      .step("plain", (n) => n)
      .build();
    expect((await p.run(1)).status).toBe("success");
    await app.close();
    const [voice, plain] = steps();
    expect(voice!.artifacts).toEqual([
      { path: wav, kind: "audio", size: 200 },
      { path: join(dir, "gone.srt"), kind: "subtitles" },
    ]);
    expect(voice!.findings).toEqual([
      { check: "audio.silent", severity: "error", message: "silent (key [redacted])", file: wav, attempt: 1 },
      { check: "audio.loudness", severity: "warning", message: "-22 LUFS under -14", file: wav },
    ]);
    expect(plain).not.toHaveProperty("findings");
    expect(plain).not.toHaveProperty("artifacts");
  });

  it("is bounded: 20 findings and 20 artifacts at most, messages of 500 characters, the rest counted", async () => {
    const app = createTapline({
      dir: join(dir, "app"),
      logger: silentLogger,
      plugins: [metrics({ system: false, prometheus: false })],
    });
    await app.ready();
    const p = app
      .pipeline<number>("noisy")
      .step("many", (n, ctx) => {
        for (let i = 0; i < 30; i++) {
          ctx.finding({ check: "text.length", severity: "info", message: `${i} ${"x".repeat(2000)}` });
          ctx.artifact(join(dir, `f${i}.txt`), { kind: "text" });
        }
        return n;
      })
      .build();
    await p.run(1);
    await app.close();
    const [many] = steps();
    expect(many!.findings).toHaveLength(20);
    expect(many!.artifacts).toHaveLength(20);
    expect(many!.omitted).toEqual({ findings: 10, artifacts: 10 });
    for (const f of many!.findings!) expect(f.message.length).toBeLessThanOrEqual(500);
    expect(many!.findings![0]!.message.startsWith("0 ")).toBe(true);
  });
});

describe("step records carry the unit's size and labels (backtests of normalised regression rules read them)", () => {
  it("size from ctx.annotate('size'), labels from the run and the step, secrets redacted", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createTapline } = await import("@tapline/core");
    const { silentLogger } = await import("@tapline/core/kit");
    const { metrics } = await import("../src/index.ts");
    const { readJsonl } = await import("../src/files.ts");
    const dir = await mkdtemp(join(tmpdir(), "tapline-size-"));
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [metrics({ prometheus: false, system: false })],
    });
    const p = app
      .pipeline("story")
      .step(
        "voiceover",
        (_: void, ctx) => {
          ctx.annotate("size", { value: 12.5, unit: "seconds" } as never);
          return 1;
        },
        { labels: { voice: "en-GB", token: "sk-live-abcdefghijklmnopqrstuvwx" } },
      )
      .build();
    await p.run(undefined, { labels: { studio: "north" } });
    await app.close();
    const steps: Record<string, unknown>[] = [];
    for await (const r of readJsonl(join(dir, "runs")))
      if (r.t === "step") steps.push(r as Record<string, unknown>);
    expect(steps).toHaveLength(1);
    expect(steps[0]!.size).toBe(12.5);
    expect(steps[0]!.labels).toMatchObject({ studio: "north", voice: "en-GB" });
    expect(JSON.stringify(steps[0])).not.toContain("sk-live-abcdefghijklmnopqrstuvwx");
    await rm(dir, { recursive: true, force: true });
  });
});
