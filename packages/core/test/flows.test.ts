import { describe, expect, it } from "vitest";
import { isTaplineError, type StepContext, WrapStage } from "../src/index.ts";
import { StepValidationError } from "../src/kit.ts";
import { plugin, quietApp, sleep } from "./helpers.ts";

/** A test plugin that retries every unit up to `times` attempts (what plugin-retry does, minus policy). */
const retrying = (times: number) =>
  plugin("retry-like", ({ hooks }) => {
    hooks.wrapStep.tap({ name: "retry-like", stage: WrapStage.retry }, (next) => async (input, signal) => {
      let last: unknown;
      for (let i = 0; i < times; i++) {
        try {
          return await next(input, signal);
        } catch (error) {
          last = error;
          if (signal.aborted) break;
        }
      }
      throw last;
    });
  });

describe("parallel", () => {
  it("runs branches side by side on the previous output and joins their outputs by name", async () => {
    const app = quietApp();
    let inFlight = 0;
    let peak = 0;
    const slow = async <T>(value: T): Promise<T> => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(20);
      inFlight--;
      return value;
    };
    const p = app
      .pipeline<string>("media")
      .step("script", (idea) => `script of ${idea}`)
      .parallel("media", {
        voice: (script) => slow(`voice(${script})`),
        music: [(script: string) => slow(script.length), { labels: { kind: "music" } }],
        cover: {
          pipeline: (b) => b.step("draw", (s) => slow(`cover(${s})`)).step("scale", (c) => `${c}@2x`),
        },
      })
      .step("mix", (media, ctx) => `${media.voice}+${media.music}+${media.cover}|${ctx.outputs.media.music}`)
      .build();
    const report = await p.run("fox");
    expect(report.status).toBe("success");
    expect(report.output).toBe("voice(script of fox)+13+cover(script of fox)@2x|13");
    expect(peak).toBe(3);
    const media = report.steps[1]!;
    expect(media.children?.map((c) => [c.path, c.status])).toEqual([
      ["media.voice", "success"],
      ["media.music", "success"],
      ["media.cover", "success"],
    ]);
    expect(media.children?.[2]?.children?.map((c) => c.path)).toEqual([
      "media.cover.draw",
      "media.cover.scale",
    ]);
    await app.close();
  });

  it("a failed branch aborts its siblings with a reason naming it, and failedStep is its path", async () => {
    const app = quietApp();
    let reason: unknown;
    const p = app
      .pipeline("p")
      .parallel("media", {
        voice: async () => {
          throw new Error("tts 503");
        },
        music: (_input: unknown, ctx: StepContext) =>
          new Promise((_resolve, reject) => {
            ctx.signal.addEventListener("abort", () => {
              reason = ctx.signal.reason;
              reject(ctx.signal.reason);
            });
          }),
      })
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("failed");
    expect(report.failedStep).toBe("media.voice");
    expect(String((report.error as Error).message)).toBe("tts 503");
    expect(isTaplineError(reason, "TAPLINE_ERR_SIBLING_FAILED")).toBe(true);
    expect((reason as Error).message).toContain("media.voice failed: tts 503");
    expect(report.steps[0]!.children?.map((c) => c.status)).toEqual(["failed", "cancelled"]);
    await app.close();
  });
});

describe("map", () => {
  it("keeps input order, never runs more than `concurrency` items at once, and gives each item its path", async () => {
    const app = quietApp();
    let inFlight = 0;
    let peak = 0;
    const paths: string[] = [];
    const p = app
      .pipeline<number>("scenes")
      .map(
        "scenes",
        (n) => Array.from({ length: n }, (_, i) => i),
        async (i, ctx) => {
          paths.push(`${ctx.path}|${ctx.definitionPath}|${ctx.parent?.path}|${ctx.index}`);
          inFlight++;
          peak = Math.max(peak, inFlight);
          await sleep(((i * 7) % 5) + 1); // finish out of order
          inFlight--;
          return i * 10;
        },
        { concurrency: 3 },
      )
      .build();
    const report = await p.run(10);
    expect(report.output).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(peak).toBe(3);
    expect(paths).toContain("scenes[4]|scenes[]|scenes|4");
    expect(report.steps[0]!.children?.map((c) => c.path)).toEqual(
      Array.from({ length: 10 }, (_, i) => `scenes[${i}]`),
    );
    await app.close();
  });

  it("onItemError fail: the first failed item aborts the running ones and no more start", async () => {
    const app = quietApp();
    const started: number[] = [];
    const p = app
      .pipeline("p")
      .map(
        "items",
        () => [0, 1, 2, 3, 4, 5, 6, 7],
        async (i: number, ctx) => {
          started.push(i);
          if (i === 1) throw new Error("item 1 broke");
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, 200);
            ctx.signal.addEventListener("abort", () => {
              clearTimeout(t);
              reject(ctx.signal.reason);
            });
          });
          return i;
        },
        { concurrency: 2 },
      )
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("failed");
    expect(report.failedStep).toBe("items[1]");
    expect(started).toEqual([0, 1]);
    const children = report.steps[0]!.children!;
    expect(children.map((c) => c.status)).toEqual([
      "cancelled",
      "failed",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
    ]);
    expect(isTaplineError(children[0]!.error, "TAPLINE_ERR_CANCELLED")).toBe(true);
    await app.close();
  });

  it("onItemError collect: every item runs and the output holds each result or error", async () => {
    const app = quietApp();
    const p = app
      .pipeline("p")
      .map(
        "items",
        () => ["a", "bad", "c"],
        async (s: string) => {
          if (s === "bad") throw new Error("no good");
          return s.toUpperCase();
        },
        { onItemError: "collect" },
      )
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("success");
    expect(report.output).toEqual([
      { status: "fulfilled", value: "A" },
      { status: "rejected", reason: expect.objectContaining({ message: "no good" }) },
      { status: "fulfilled", value: "C" },
    ]);
    await app.close();
  });

  it("applies step options per item: retry per item, validation per item, timeout per item", async () => {
    const validator = plugin("validator", ({ hooks }) => {
      hooks.validateStepOutput.tapPromise("validator", async ({ output }) => {
        if (output === "blurry") {
          throw new StepValidationError({
            why: "blurry image",
            findings: [{ check: "image.sharp", severity: "error", message: "blurry" }],
            retryable: true,
          });
        }
      });
    });
    const app = quietApp({ plugins: [retrying(3), validator] });
    const calls = new Map<number, number>();
    const p = app
      .pipeline("p")
      .map(
        "draw",
        () => [0, 1, 2],
        async (i: number) => {
          const n = (calls.get(i) ?? 0) + 1;
          calls.set(i, n);
          if (i === 1 && n === 1) throw new Error("flaky");
          if (i === 2 && n < 3) return "blurry";
          return `image ${i}`;
        },
        { timeout: 1000 },
      )
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("success");
    expect(report.output).toEqual(["image 0", "image 1", "image 2"]);
    expect(report.steps[0]!.children!.map((c) => c.attempts.length)).toEqual([1, 2, 3]);
    expect(report.steps[0]!.attempts).toEqual([]);
    await app.close();
  });

  it("a 10,000-item map publishes one metric series per definition path, not per item", async () => {
    const series = new Set<string>();
    const counter = plugin("counter", ({ hooks }) => {
      hooks.metric.tap("counter", (s) => {
        series.add(`${s.name}${JSON.stringify(s.labels)}`);
      });
    });
    const app = quietApp({ plugins: [counter] });
    const p = app
      .pipeline("big")
      .map(
        "items",
        () => Array.from({ length: 10_000 }, (_, i) => i),
        async (i: number, ctx) => {
          ctx.metric("item_value", i);
          return i;
        },
        { concurrency: 16 },
      )
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("success");
    expect((report.output as number[]).length).toBe(10_000);
    expect([...series]).toEqual(['item_value{"pipeline":"big","step":"items[]"}']);
    await app.close();
  });

  it("a cancelled run reaches every running item with the same reason, and settles within graceMs", async () => {
    const app = quietApp({ graceMs: 100 });
    const reasons: unknown[] = [];
    const controller = new AbortController();
    const p = app
      .pipeline("p")
      .map(
        "items",
        () => [0, 1, 2, 3],
        async (i: number, ctx) => {
          if (i === 3) return new Promise(() => {}); // ignores its signal
          return new Promise((_resolve, reject) =>
            ctx.signal.addEventListener("abort", () => {
              reasons.push(ctx.signal.reason);
              reject(ctx.signal.reason);
            }),
          );
        },
        { concurrency: 4 },
      )
      .step("after", () => "never")
      .build();
    const run = p.run(undefined, { signal: controller.signal });
    await sleep(20);
    controller.abort("user pressed stop");
    const report = await run;
    expect(report.status).toBe("cancelled");
    expect(reasons).toEqual(["user pressed stop", "user pressed stop", "user pressed stop"]);
    const children = report.steps[0]!.children!;
    expect(children.map((c) => c.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(children[3]!.abandoned).toBe(true);
    expect(report.steps[1]!.status).toBe("skipped");
    await app.close();
  });

  it("close() settles a run whose map item ignores its signal, without a caller's signal", async () => {
    const app = quietApp({ graceMs: 50 });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const p = app
      .pipeline("p")
      .map(
        "items",
        () => [0],
        () => {
          started();
          return new Promise(() => {});
        },
      )
      .build();
    const run = p.run(undefined);
    await running;
    await app.close();
    const report = await run;
    expect(report.status).toBe("cancelled");
    expect(report.steps[0]!.children![0]!.abandoned).toBe(true);
  });

  it("items that are not iterable fail the step with a clear error", async () => {
    const app = quietApp();
    const report = await app
      .pipeline("p")
      .map(
        "items",
        () => 42 as unknown as number[],
        (i: number) => i,
      )
      .build()
      .run(undefined);
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_MAP_ITEMS")).toBe(true);
    expect((report.error as Error).message).toContain('map "items"');
    await app.close();
  });
});

describe("branch", () => {
  it("runs the case select names; its output is the step's", async () => {
    const app = quietApp();
    const p = app
      .pipeline<{ platform: string }>("publish")
      .step("script", (input) => ({ platform: input.platform, text: "hi" }))
      .branch("publish", (_script, ctx) => ctx.outputs.script.platform, {
        shorts: (s) => `shorts:${s.text}`,
        reels: { pipeline: (b) => b.step("cut", (s) => s.text.length).step("render", (n) => `reels:${n}`) },
      })
      .build();
    expect((await p.run({ platform: "shorts" })).output).toBe("shorts:hi");
    const reels = await p.run({ platform: "reels" });
    expect(reels.output).toBe("reels:2");
    expect(reels.steps[1]!.children!.map((c) => c.path)).toEqual(["publish.reels"]);
    expect(reels.steps[1]!.children![0]!.children!.map((c) => c.path)).toEqual([
      "publish.reels.cut",
      "publish.reels.render",
    ]);
    await app.close();
  });

  it("a key with no case fails the step, naming the key and the cases", async () => {
    const app = quietApp();
    const report = await app
      .pipeline("p")
      .branch("publish", () => "tiktok", { shorts: () => 1, reels: () => 2 })
      .build()
      .run(undefined);
    expect(report.status).toBe("failed");
    expect(isTaplineError(report.error, "TAPLINE_ERR_BRANCH_NO_CASE")).toBe(true);
    expect((report.error as Error).message).toBe(
      'branch "publish" has no case "tiktok"; its cases are "shorts", "reels"',
    );
    await app.close();
  });
});

describe("units and hooks", () => {
  it("every unit gets its own step hooks and context; shapes get stepStart/stepEnd but no attempts", async () => {
    const events: string[] = [];
    const errors: { path?: string; step?: string }[] = [];
    const observer = plugin("observer", ({ hooks }) => {
      hooks.stepStart.tapPromise("observer", async ({ ctx }) => {
        events.push(`start ${ctx.path}`);
        if (ctx.path === "media.music") throw new Error("observer broke");
      });
      hooks.stepAttempt.tap("observer", ({ ctx, phase }) => {
        if (phase === "start") events.push(`attempt ${ctx.path}`);
      });
      hooks.stepEnd.tapPromise("observer", async ({ ctx, report }) => {
        events.push(`end ${ctx.path} ${report.status}`);
      });
      hooks.pluginError.tap("observer", (e) => {
        errors.push({ path: e.path, step: e.step });
      });
    });
    const app = quietApp({ plugins: [observer] });
    const p = app
      .pipeline("p")
      .parallel("media", { voice: () => "v", music: () => "m" })
      .build();
    const report = await p.run(undefined);
    expect(report.status).toBe("success");
    expect(events.filter((e) => e.startsWith("start"))).toEqual([
      "start media",
      "start media.voice",
      "start media.music",
    ]);
    expect(events).toContain("attempt media.voice");
    expect(events).not.toContain("attempt media");
    expect(events.at(-1)).toBe("end media success");
    expect(errors).toEqual([{ path: "media.music", step: "media" }]);
    expect(report.pluginErrors).toHaveLength(1);
    await app.close();
  });

  it("checks branch options and rejects bad shapes when the pipeline is defined", () => {
    const app = quietApp();
    expect(() => app.pipeline("p").parallel("media", {})).toThrow(/needs an object of at least one branch/);
    expect(() => app.pipeline("p").parallel("media", { voice: [() => 1, { retrys: 2 } as never] })).toThrow(
      /step "media.voice": unknown step option "retrys"/,
    );
    expect(() =>
      app.pipeline("p").map(
        "m",
        () => [],
        (x: number) => x,
        { concurrency: 0 },
      ),
    ).toThrow(/"concurrency" must be an integer >= 1/);
    expect(() => app.pipeline("p").branch("b", () => "x", { x: 42 as never })).toThrow(
      /"x" must be a function, \[function, options\] or \{ pipeline/,
    );
    expect(() =>
      app
        .pipeline("p")
        .step("a", () => 1)
        .map(
          "a" as never,
          () => [],
          (x: number) => x,
        ),
    ).toThrow(/used twice/);
  });

  it("pipelineBuild taps see the unit tree", () => {
    let seen: unknown;
    const inspector = plugin("inspector", ({ hooks }) => {
      hooks.pipelineBuild.tap("inspector", ({ steps }) => {
        seen = steps.map((s) => [s.path, s.kind, s.children?.map((c) => [c.path, c.kind])]);
      });
    });
    const app = quietApp({ plugins: [inspector] });
    app
      .pipeline("p")
      .step("script", () => 1)
      .map(
        "scenes",
        () => [1],
        (x: number) => x,
      )
      .branch("publish", () => "a", { a: { pipeline: (b) => b.step("x", () => 1) } })
      .build();
    expect(seen).toEqual([
      ["script", "step", undefined],
      ["scenes", "map", [["scenes[]", "step"]]],
      ["publish", "branch", [["publish.a", "chain"]]],
    ]);
  });
});
