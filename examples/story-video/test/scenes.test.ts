import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSceneImage } from "../src/checks.ts";
import { DEJAVU_SANS, detectTools, type MediaTools } from "../src/media.ts";
import { drawScene, escapeFilterValue, sceneTimings, splitIntoScenes, wrapText } from "../src/scenes.ts";
import { haveFfmpeg, skipOrFail } from "./helpers.ts";

const skip = skipOrFail(await haveFfmpeg(), "ffmpeg/ffprobe");

describe("splitIntoScenes", () => {
  it("makes one scene per sentence, a very short sentence joining the one before", () => {
    const scenes = splitIntoScenes(
      "The ship sailed north at dawn. It rained. The keeper lit the lamp again!",
    );
    expect(scenes.map((s) => s.text)).toEqual([
      "The ship sailed north at dawn. It rained.",
      "The keeper lit the lamp again!",
    ]);
    expect(scenes.map((s) => [s.index, s.count, s.words])).toEqual([
      [0, 2, 8],
      [1, 2, 6],
    ]);
  });

  it("merges the shortest neighbours past maxScenes, keeping every word in order", () => {
    const text =
      "One two three four. Five six seven eight nine. Ten eleven twelve thirteen. Fourteen fifteen sixteen seventeen eighteen nineteen.";
    const scenes = splitIntoScenes(text, { maxScenes: 2 });
    expect(scenes).toHaveLength(2);
    expect(scenes.map((s) => s.text).join(" ")).toBe(text);
    expect(scenes.every((s) => s.count === 2)).toBe(true);
  });

  it("gives no scene for an empty script", () => {
    expect(splitIntoScenes("   ")).toEqual([]);
  });
});

describe("sceneTimings", () => {
  it("gives each scene its share of the words, back to back, the last ending at the duration", () => {
    expect(sceneTimings([{ words: 2 }, { words: 6 }], 8)).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 8 },
    ]);
    const t = sceneTimings([{ words: 3 }, { words: 3 }, { words: 3 }], 10);
    expect(t.at(-1)!.end).toBe(10);
    for (let i = 1; i < t.length; i++) expect(t[i]!.start).toBe(t[i - 1]!.end);
  });

  it("rejects a non-positive duration", () => {
    expect(() => sceneTimings([{ words: 1 }], 0)).toThrow(/duration/);
  });
});

describe("wrapText and escapeFilterValue", () => {
  it("wraps at spaces within the width; a longer word gets its own line", () => {
    expect(wrapText("the old lighthouse keeper counted ships", 16)).toEqual([
      "the old",
      "lighthouse",
      "keeper counted",
      "ships",
    ]);
    expect(wrapText("supercalifragilistic ok", 8)).toEqual(["supercalifragilistic", "ok"]);
  });

  it("escapes for the option parser and then the graph parser", () => {
    expect(escapeFilterValue("/a/b.ttf")).toBe("/a/b.ttf");
    // ":" → "\:" for the option parser → "\\:" for the graph parser (its backslash escaped; ":" is no graph syntax)
    expect(escapeFilterValue("C:x")).toBe("C\\\\:x");
    expect(escapeFilterValue("it's")).toBe("it\\\\\\'s");
    expect(escapeFilterValue("a,b[c];d")).toBe("a\\,b\\[c\\]\\;d");
  });
});

describe.skipIf(skip)("drawScene (ffmpeg)", () => {
  let dir: string;
  let tools: MediaTools;
  beforeAll(async () => {
    // A folder name that breaks an unescaped filter graph: spaces, a quote, a colon, a comma, brackets.
    dir = await mkdtemp(join(tmpdir(), "scenes it's a:b,[c];d "));
    tools = await detectTools();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("draws a 1080x1920 PNG card with the scene's text, whatever the text and the paths hold", async () => {
    const scene = splitIntoScenes(
      "100% sure: the 'keeper' said \"hello\", then {left} \\ home; at last [really].",
    )[0]!;
    const drawn = await drawScene(tools, scene, dir);
    expect(drawn).toMatchObject({ index: 0, words: scene.words });
    expect(await checkSceneImage(tools, drawn.image)).toEqual([]);
    const { stdout } = await execa(tools.ffprobe, [
      ...["-v", "error", "-show_entries", "stream=codec_name,width,height,pix_fmt", "-of", "csv=p=0"],
      drawn.image,
    ]);
    expect(String(stdout).trim()).toBe("png,1080,1920,rgba");
  });

  it("uses a font file whose path needs escaping in the filter graph", async (ctx) => {
    if (!tools.drawText) return ctx.skip();
    const fontDir = join(dir, "fonts: it's, [here]");
    await mkdir(fontDir, { recursive: true });
    const font = join(fontDir, "sans.ttf");
    await copyFile(tools.font ?? DEJAVU_SANS, font).catch(() => ctx.skip());
    const drawn = await drawScene({ ...tools, font }, { index: 1, count: 3, text: "A fox.", words: 2 }, dir);
    expect(await checkSceneImage(tools, drawn.image)).toEqual([]);
  });

  it("checkSceneImage finds a card of the wrong size", async () => {
    const small = join(dir, "small.png");
    await execa(tools.ffmpeg, [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "color=s=64x64:d=1",
      "-frames:v",
      "1",
      small,
    ]);
    expect((await checkSceneImage(tools, small)).map((f) => f.check)).toEqual(["image.resolution"]);
    expect((await checkSceneImage(tools, join(dir, "missing.png"))).map((f) => f.check)).toEqual([
      "image.readable",
    ]);
  });
});
