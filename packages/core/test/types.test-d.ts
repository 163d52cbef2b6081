import { describe, expectTypeOf, it } from "vitest";
import { createTapline, type RunReport, type StepContext } from "../src/index.ts";
import type { MapItemResult } from "../src/pipeline.ts";

declare module "../src/index.ts" {
  interface StepOptions {
    /** Added by a (test) plugin through module augmentation. */
    flakiness?: { attempts: number };
  }
}

const app = createTapline();

describe("pipeline builder inference", () => {
  it("flows each step's output into the next step's input and into ctx.outputs", () => {
    const pipeline = app
      .pipeline<{ idea: string }>("story")
      .step("script", async (input, ctx) => {
        expectTypeOf(input).toEqualTypeOf<{ idea: string }>();
        expectTypeOf(ctx.outputs).toEqualTypeOf<Readonly<{}>>();
        return { text: input.idea, words: 3 };
      })
      .step("voice", (script, ctx) => {
        expectTypeOf(script).toEqualTypeOf<{ text: string; words: number }>();
        expectTypeOf(ctx.outputs.script).toEqualTypeOf<{ text: string; words: number }>();
        return Promise.resolve(new Uint8Array(4));
      })
      .step("render", (audio, ctx) => {
        expectTypeOf(audio).toEqualTypeOf<Uint8Array<ArrayBuffer>>();
        expectTypeOf(ctx).toExtend<
          StepContext<{ script: { text: string; words: number }; voice: Uint8Array<ArrayBuffer> }>
        >();
        return "video.mp4";
      })
      .build();
    expectTypeOf(pipeline.run).parameter(0).toEqualTypeOf<{ idea: string }>();
    expectTypeOf(pipeline.run).returns.resolves.toEqualTypeOf<
      RunReport<
        string,
        { script: { text: string; words: number } } & { voice: Uint8Array<ArrayBuffer> } & { render: string }
      >
    >();
  });

  it("rejects a step name used twice at compile time", () => {
    app
      .pipeline("p")
      .step("a", () => 1)
      // @ts-expect-error duplicate step name
      .step("a", () => 2);
  });

  it("types step options, including keys added by module augmentation, and rejects unknown keys", () => {
    app.pipeline("p").step("a", () => 1, { timeout: 1000, flakiness: { attempts: 3 } });
    // @ts-expect-error unknown step option
    app.pipeline("p").step("a", () => 1, { retyr: 3 });
    // @ts-expect-error wrong type for an augmented option
    app.pipeline("p").step("a", () => 1, { flakiness: { attempts: "3" } });
  });
});

declare module "../src/index.ts" {
  interface StepReportExtensions {
    /** Declared by a (test) plugin, so `report.steps[i].extensions.cost` is typed. */
    cost?: { usd: number };
  }
}

describe("report extensions", () => {
  it("types the extensions plugins declare, and leaves other keys unknown", async () => {
    const p = app
      .pipeline<number>("ext")
      .step("one", (n, ctx) => {
        ctx.annotate("cost", { usd: 0.1 });
        // @ts-expect-error a declared extension must have its declared type
        ctx.annotate("cost", { usd: "free" });
        ctx.annotate("anything", 42);
        return n;
      })
      .build();
    const report = await p.run(1);
    expectTypeOf(report.steps[0]!.extensions.cost).toEqualTypeOf<{ usd: number } | undefined>();
    expectTypeOf(report.steps[0]!.extensions.other).toEqualTypeOf<unknown>();
  });
});

describe("flow shapes", () => {
  it("types parallel, map (fail and collect) and branch outputs, in the next input and in ctx.outputs", () => {
    interface Story {
      idea: string;
    }
    const p = app
      .pipeline<Story>("story")
      .step("script", (s) => ({ text: s.idea, platform: "shorts" as "shorts" | "reels", scenes: ["a", "b"] }))
      .parallel("media", {
        voice: async (script) => ({ path: "vo.mp3", words: script.text.length }),
        music: [async () => "music.mp3", { timeout: 1000 }],
        cover: {
          pipeline: (b) => b.step("draw", (script) => script.scenes.length).step("name", (n) => `c${n}`),
        },
      })
      .map(
        "scenes",
        (media, ctx) => {
          expectTypeOf(media).toEqualTypeOf<{
            voice: { path: string; words: number };
            music: string;
            cover: string;
          }>();
          return ctx.outputs.script.scenes;
        },
        async (scene, ctx) => {
          expectTypeOf(scene).toEqualTypeOf<string>();
          expectTypeOf(ctx.path).toEqualTypeOf<string>();
          return { scene, frames: 24 };
        },
        { concurrency: 3 },
      )
      .map(
        "checked",
        (scenes) => scenes,
        (s) => s.frames > 0,
        { onItemError: "collect" },
      )
      .branch("publish", (_checked, ctx) => ctx.outputs.script.platform, {
        shorts: (checked) => ({ shorts: checked.length }),
        reels: async () => "reels.mp4",
      })
      .step("upload", (published, ctx) => {
        expectTypeOf(published).toEqualTypeOf<{ shorts: number } | string>();
        expectTypeOf(ctx.outputs.scenes).toEqualTypeOf<{ scene: string; frames: number }[]>();
        expectTypeOf(ctx.outputs.checked).toEqualTypeOf<MapItemResult<boolean>[]>();
        expectTypeOf(ctx.outputs.media.cover).toEqualTypeOf<string>();
        return "done";
      })
      .build();
    expectTypeOf(p.run).returns.resolves.toHaveProperty("output").toEqualTypeOf<string | undefined>();
  });

  it("rejects a shape name used twice", () => {
    app
      .pipeline("dup")
      .step("a", () => 1)
      // @ts-expect-error "a" is already a step
      .parallel("a", { x: () => 1 });
  });
});
