import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  detectTools,
  encodeVoice,
  isMissingToolError,
  type MediaTools,
  measureLufs,
  probeDuration,
  speak,
  synthesise,
  TARGET_LUFS,
} from "../src/media.ts";
import { haveFfmpeg, skipOrFail } from "./helpers.ts";

const skip = skipOrFail(await haveFfmpeg(), "ffmpeg/ffprobe");

describe("detectTools", () => {
  it("names the missing tool and how to install it", async () => {
    const error = await detectTools({ FFMPEG_PATH: "/nonexistent/ffmpeg" }).catch((e: unknown) => e);
    expect(isMissingToolError(error)).toBe(true);
    expect((error as Error).message).toMatch(/ffmpeg was not found: install it .*apt-get install ffmpeg/);
  });
});

describe.skipIf(skip)("voiceover encoding", () => {
  let dir: string;
  let tools: MediaTools;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "story video 'media' "));
    tools = await detectTools();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("without espeak-ng: an ffmpeg tone as long as the words, normalised to -14 LUFS", async () => {
    const wav = join(dir, "-tone.wav");
    const out = join(dir, "tone voice.m4a");
    await synthesise(tools, 20, wav);
    const { lufs } = await encodeVoice(tools, wav, out);
    expect(Math.abs(lufs - TARGET_LUFS)).toBeLessThanOrEqual(0.5);
    expect(Math.abs((await measureLufs(tools, out, "anull")) - TARGET_LUFS)).toBeLessThanOrEqual(0.5);
    expect(await probeDuration(tools, out)).toBeCloseTo(6.4, 0);
  });

  it("with espeak-ng: real speech, normalised to -14 LUFS", async (ctx) => {
    if (!tools.espeak) return ctx.skip();
    const text = join(dir, "script.txt");
    await writeFile(
      text,
      "The old lighthouse keeper counted the ships every night, and one night a ship came home.",
    );
    const wav = join(dir, "speech.wav");
    await speak(tools, text, wav);
    const { lufs } = await encodeVoice(tools, wav, join(dir, "speech.m4a"));
    expect(Math.abs(lufs - TARGET_LUFS)).toBeLessThanOrEqual(0.5);
  });
});
