import { createTapline, definePlugin } from "@tapline/core";
import { describe, expect, it } from "vitest";
import { fitRow, formatFanOut, ProgressBoard, progressPlugin, visibleWidth } from "../src/progress.ts";
import { SCENES_METRIC } from "../src/story-pipeline.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes on purpose
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const LONG = `lighthouse  \x1b[36mrunning\x1b[0m   12.3s  ${["script", "revise", "media", "render", "validate"].map((s) => `\x1b[32m✓ ${s}\x1b[0m`).join("  ")}\x1b[2m  voiceover #2: 503 Service Unavailable from the TTS stand-in, retry after 1 s\x1b[0m`;

describe("fitRow", () => {
  it("counts visible width without ANSI escapes, in code points", () => {
    expect(visibleWidth("\x1b[32m✓ ok\x1b[0m")).toBe(4);
    expect(visibleWidth(LONG)).toBeGreaterThan(140);
  });

  it.each([40, 80, 140])("fits a long row into %i columns with an ellipsis, keeping colours", (width) => {
    const row = fitRow(LONG, width);
    expect(visibleWidth(row)).toBe(width);
    expect(plain(row)).toBe(`${[...plain(LONG)].slice(0, width - 1).join("")}…`);
    expect(row.endsWith("\x1b[0m")).toBe(true); // no colour leaks into the next row
  });

  it("leaves a row that fits, and any row when the width is unknown", () => {
    expect(fitRow("short \x1b[32mrow\x1b[0m", 40)).toBe("short \x1b[32mrow\x1b[0m");
    expect(fitRow("x".repeat(12), 12)).toBe("x".repeat(12));
    expect(fitRow(LONG, undefined)).toBe(LONG);
    expect(fitRow(LONG, 0)).toBe(LONG);
  });
});

describe("ProgressBoard on a narrow terminal", () => {
  it.each([40, 80, 140])("draws no row wider than %i columns, so redraws never repeat rows", (columns) => {
    const chunks: string[] = [];
    const board = new ProgressBoard({ isTTY: true, columns, write: (s) => chunks.push(s) }, [
      { id: "lighthouse-keeper-and-the-very-long-story-id", title: "The lighthouse keeper" },
      { id: "fox", title: "A fox learns to fly" },
    ]);
    board.runStarted("fox");
    board.attemptFailed("fox", "voiceover", 2, new Error(`503 ${"Service Unavailable ".repeat(6)}`));
    board.stop();
    const rows = chunks.join("").split("\n").filter(Boolean); // one draw: no cursor movement before it
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(visibleWidth(row)).toBeLessThanOrEqual(columns);
  });
});

describe("formatFanOut", () => {
  it.each([
    [{ ok: 5, running: 0, retrying: 1, failed: 0, total: 8 }, "scenes 5/8 ✓ 1 retrying"],
    [{ ok: 2, running: 1, retrying: 0, failed: 0, total: undefined }, "scenes 2/? ✓ 1 running"],
    [{ ok: 7, running: 0, retrying: 0, failed: 1, total: 8 }, "scenes 7/8 ✓ 1 failed"],
    [{ ok: 8, running: 0, retrying: 0, failed: 0, total: 8 }, "scenes 8/8 ✓"],
    [{ ok: 0, running: 2, retrying: 1, failed: 1, total: 4 }, "scenes 0/4 ✓ 2 running 1 retrying 1 failed"],
  ])("%o → %s", (counts, text) => {
    expect(formatFanOut("scenes", counts)).toBe(text);
    expect(plain(formatFanOut("scenes", counts, true))).toBe(text);
  });
});

describe("ProgressBoard fan-out", () => {
  const MAP = "media.images.scenes";
  /** Feeds the board what the plugin feeds it for one story: the hook events of a parallel with a map. */
  const start = () => {
    let printed = "";
    const board = new ProgressBoard(
      {
        isTTY: false,
        write: (s) => {
          printed += s;
        },
      },
      [{ id: "fox", title: "The Snow Fox" }],
    );
    board.runStarted("fox");
    for (const step of ["script", "revise"]) {
      board.stepStarted("fox", step);
      board.attemptStarted("fox", step, 1);
      board.stepEnded("fox", step, "success", 10, 1, undefined);
    }
    board.stepStarted("fox", "media");
    board.stepStarted("fox", "media.voice", "media");
    board.stepStarted("fox", "media.voice.voiceover", "media.voice");
    board.attemptStarted("fox", "media.voice.voiceover", 1);
    board.stepStarted("fox", "media.images", "media");
    board.stepStarted("fox", MAP, "media.images");
    return { board, printed: () => printed };
  };
  const item = (i: number) => `${MAP}[${i}]`;
  const row = (board: ProgressBoard) => board.lines()[0]!;

  it("counts items by parent: done, running, retrying, failed, against the announced total", () => {
    const { board } = start();
    board.mapTotal("fox", MAP, 8);
    for (let i = 0; i < 7; i++) {
      board.stepStarted("fox", item(i), MAP, `${MAP}[]`);
      board.attemptStarted("fox", item(i), 1);
    }
    for (let i = 0; i < 5; i++) board.stepEnded("fox", item(i), "success", 5, 1);
    board.attemptFailed("fox", item(5), 1, new Error("images: HTTP 503"));
    board.attemptStarted("fox", item(5), 2);
    board.stepEnded("fox", item(6), "failed", 5, 4);
    expect(board.fanOut("fox", MAP)).toEqual({ ok: 5, running: 0, retrying: 1, failed: 1, total: 8 });
    expect(row(board)).toContain(
      "▶ media[▶ voiceover · scenes 5/8 ✓ 1 retrying 1 failed]  · render  · validate",
    );
    expect(row(board)).toContain("media.images.scenes[5] #1: images: HTTP 503");
  });

  it("without an announced total, counts what started; the map's report gives the total at its end", () => {
    const { board, printed } = start();
    board.stepStarted("fox", item(0), MAP, `${MAP}[]`);
    expect(board.fanOut("fox", MAP)).toEqual({ ok: 0, running: 1, retrying: 0, failed: 0, total: undefined });
    expect(row(board)).toContain("scenes 0/? ✓ 1 running");
    board.stepEnded("fox", item(0), "success", 5, 1);
    board.stepStarted("fox", item(1), MAP, `${MAP}[]`);
    board.stepEnded("fox", item(1), "success", 5, 1);
    board.stepEnded("fox", MAP, "success", 12, 0, 2);
    board.stepEnded("fox", "media.images", "success", 12, 0, 1);
    board.attemptFailed("fox", "media.voice.voiceover", 1, new Error("tts: HTTP 429"));
    board.attemptStarted("fox", "media.voice.voiceover", 2);
    board.stepEnded("fox", "media.voice.voiceover", "success", 30, 2);
    board.stepEnded("fox", "media.voice", "success", 30, 0, 1);
    board.stepEnded("fox", "media", "success", 31, 0, 2);
    // Done: the map's summary and the sub-step that needed a retry stay, the rest folds away.
    expect(row(board)).toContain("✓ media[✓ voiceover×2 · scenes 2/2 ✓]  · render");
    expect(printed()).toContain("[fox] media.images.scenes[1]: success in 0.0 s");
    expect(printed()).toContain("[fox] media.images.scenes: success in 0.0 s (scenes 2/2 ✓)");
    expect(printed()).toContain("[fox] media.voice.voiceover: attempt 2");
  });

  it("a row with a fan-out still fits the terminal", () => {
    const chunks: string[] = [];
    const board = new ProgressBoard({ isTTY: true, columns: 60, write: (s) => chunks.push(s) }, [
      { id: "fox", title: "T" },
    ]);
    board.stepStarted("fox", "media");
    board.stepStarted("fox", "media.images", "media");
    board.stepStarted("fox", MAP, "media.images");
    board.mapTotal("fox", MAP, 8);
    for (let i = 0; i < 3; i++) board.stepStarted("fox", item(i), MAP, `${MAP}[]`);
    board.stop();
    for (const line of chunks.join("").split("\n").filter(Boolean))
      expect(visibleWidth(line)).toBeLessThanOrEqual(60);
  });
});

describe("progressPlugin on a real run", () => {
  it("tracks a parallel with a map from core's hooks: paths, parents, the announced total, retries per item", async () => {
    const noop = () => {};
    const logger = {
      trace: noop,
      debug: noop,
      info: noop,
      warn: noop,
      error: noop,
      fatal: noop,
      child: () => logger,
    };
    let printed = "";
    const board = new ProgressBoard(
      {
        isTTY: false,
        write: (s) => {
          printed += s;
        },
      },
      [{ id: "fox", title: "T" }],
    );
    // A retry stand-in (what plugin-retry does, minus policy): each unit gets up to 3 attempts.
    const retry = definePlugin({
      name: "retry-like",
      version: "1.0.0",
      core: "^1.0.0",
      setup(api) {
        api.hooks.wrapStep.tap({ name: "retry-like", stage: 300 }, (next) => async (input, signal) => {
          for (let i = 1; ; i++) {
            try {
              return await next(input, signal);
            } catch (error) {
              if (i === 3) throw error;
            }
          }
        });
      },
    });
    const app = createTapline({ logger, plugins: [progressPlugin({ board }), retry()] });
    const seen = new Set<number>();
    let snapshot = "";
    const pipeline = app
      .pipeline<string>("story-video")
      .step("script", (idea) => `${idea}. A fox ran. It snowed.`)
      .step("revise", (s) => s)
      .parallel("media", {
        voice: { pipeline: (b) => b.step("voiceover", (s: string) => s.length) },
        images: {
          pipeline: (b) =>
            b.map(
              "scenes",
              (s: string, ctx) => {
                const scenes = s.split(". ");
                ctx.metric(SCENES_METRIC, scenes.length);
                return scenes;
              },
              async (scene: string, ctx) => {
                if (ctx.index === 1 && !seen.has(1)) {
                  seen.add(1);
                  throw new Error("images: HTTP 503");
                }
                if (ctx.index === 2) snapshot = board.lines()[0]!;
                return scene.toUpperCase();
              },
              { concurrency: 1 },
            ),
        },
      })
      .step("render", (media) => `${media.voice}:${media.images.join("|")}`)
      .step("validate", (v) => v)
      .build();
    const report = await pipeline.run("Once", { labels: { story: "fox" } });
    await app.close();
    expect(report.status).toBe("success");
    // While the third scene ran: two done (the second after a retry), the total announced before any ended.
    expect(snapshot).toContain("scenes 2/3 ✓ 1 running");
    expect(board.fanOut("fox", "media.images.scenes")).toEqual({
      ok: 3,
      running: 0,
      retrying: 0,
      failed: 0,
      total: 3,
    });
    expect(board.lines()[0]).toContain("✓ media[scenes 3/3 ✓]  ✓ render  ✓ validate");
    expect(printed).toContain("[fox] media.images.scenes[1]: attempt 1 failed: images: HTTP 503");
    expect(printed).toContain("[fox] media.images.scenes[1]: success in");
    expect(printed).toContain("after 2 attempts");
  });
});
