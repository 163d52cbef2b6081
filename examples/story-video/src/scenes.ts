import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import type { MediaTools } from "./media.ts";

/** One scene of a story: a sentence or two, drawn as one card and shown while they are spoken. */
export interface Scene {
  /** Zero-based position in the story. */
  readonly index: number;
  /** Scenes in the story. */
  readonly count: number;
  readonly text: string;
  /** Words in `text`: the scene's share of the voiceover is its share of the words. */
  readonly words: number;
}

/** A drawn scene: its card, a 1080x1920 PNG. */
export interface SceneImage {
  readonly index: number;
  readonly image: string;
  readonly words: number;
}

/** Limits of {@link splitIntoScenes}. */
export interface SceneLimits {
  /** A sentence with fewer words joins the scene before it. Default 4. */
  minWords?: number;
  /** Most scenes in a story; past it, the two shortest neighbours merge. Default 8. */
  maxScenes?: number;
}

/**
 * Splits a script into scenes, one per sentence: a very short sentence joins the scene before it, and a
 * long script is cut to `maxScenes` by merging the shortest neighbouring pair (so no scene flashes by).
 */
export function splitIntoScenes(text: string, limits: SceneLimits = {}): Scene[] {
  const minWords = limits.minWords ?? 4;
  const maxScenes = limits.maxScenes ?? 8;
  const parts: string[][] = [];
  for (const sentence of text.match(/[^.!?]+[.!?]*/g) ?? []) {
    const words = sentence.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const previous = parts.at(-1);
    if (previous && words.length < minWords) previous.push(...words);
    else parts.push(words);
  }
  while (parts.length > Math.max(1, maxScenes)) {
    let best = 0;
    for (let i = 1; i < parts.length - 1; i++)
      if (parts[i]!.length + parts[i + 1]!.length < parts[best]!.length + parts[best + 1]!.length) best = i;
    parts.splice(best, 2, [...parts[best]!, ...parts[best + 1]!]);
  }
  return parts.map((words, index) => ({
    index,
    count: parts.length,
    text: words.join(" "),
    words: words.length,
  }));
}

/**
 * When each scene is on screen: its share of the words over the voiceover's real duration, the same rule
 * the subtitles follow, so a card changes when its first sentence starts. The last one ends at `duration`.
 */
export function sceneTimings(
  scenes: readonly { words: number }[],
  durationSeconds: number,
): { start: number; end: number }[] {
  if (!(durationSeconds > 0)) throw new RangeError(`audio duration must be > 0 s, got ${durationSeconds}`);
  const total = scenes.reduce((n, s) => n + Math.max(0, s.words), 0);
  let before = 0;
  return scenes.map((s, i) => {
    const start = total > 0 ? (durationSeconds * before) / total : (durationSeconds * i) / scenes.length;
    before += Math.max(0, s.words);
    const end =
      i === scenes.length - 1
        ? durationSeconds
        : total > 0
          ? (durationSeconds * before) / total
          : (durationSeconds * (i + 1)) / scenes.length;
    return { start, end };
  });
}

/** Cuts text into lines of at most `maxChars` characters at spaces (a longer word gets a line of its own). */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= maxChars)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * Escapes a value for an ffmpeg filter option inside a filter graph, so any file name works: once for the
 * option parser (`\`, `'`, `:`), then once more for the graph parser (`\`, `'`, `[`, `]`, `,`, `;`).
 * Leading and trailing blanks are escaped too (the parsers would trim them).
 */
export function escapeFilterValue(value: string): string {
  const option = value.replace(/[\\':]/g, (c) => `\\${c}`).replace(/^\s|\s$/g, (c) => `\\${c}`);
  return option.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

/** Card colours, one per scene in turn (RGB hex): laid over the moving background at 35%. */
export const SCENE_COLOURS = ["0x3a7ca5", "0xd1495b", "0x66a182", "0xedae49", "0x8e6c8a", "0x00798c"];

const WIDTH = 1080;
const HEIGHT = 1920;
const FONT_SIZE = 64;
const LINE_CHARS = 24;

/**
 * Draws a scene's card with ffmpeg: a 1080x1920 RGBA PNG, a colour wash with a dark panel holding the
 * scene's number and text, transparent enough for the moving background of the render to show through
 * (a still picture would be "frozen" to the video check). The text goes through a file (`textfile=`, no
 * `%{}` expansion), never through the filter graph, so quotes, colons and percent signs are just text.
 */
export async function drawScene(
  tools: MediaTools,
  scene: Scene,
  dir: string,
  signal?: AbortSignal,
): Promise<SceneImage> {
  const name = `scene-${String(scene.index + 1).padStart(2, "0")}`;
  const image = join(dir, `${name}.png`);
  const lines = wrapText(scene.text, LINE_CHARS);
  const textFile = join(dir, `${name}.txt`);
  const headFile = join(dir, `${name}.head.txt`);
  await writeFile(textFile, lines.join("\n"));
  await writeFile(headFile, `Scene ${scene.index + 1}/${scene.count}`);
  const colour = SCENE_COLOURS[scene.index % SCENE_COLOURS.length]!;
  const panelTop = 240;
  const textTop = panelTop + 150;
  const panelHeight = 150 + lines.length * Math.round(FONT_SIZE * 1.3) + 90;
  const font = tools.font ? `fontfile=${escapeFilterValue(tools.font)}` : "font=Sans"; // fontconfig's default sans-serif face
  const filters = [
    `color=c=${colour}@0.35:s=${WIDTH}x${HEIGHT}:d=1`,
    "format=rgba",
    `drawbox=x=80:y=${panelTop}:w=${WIDTH - 160}:h=${panelHeight}:color=0x0b1320@0.62:t=fill`,
  ];
  if (tools.drawText) {
    filters.push(
      `drawtext=${font}:textfile=${escapeFilterValue(headFile)}:expansion=none:fontsize=40:fontcolor=white@0.75:x=(w-text_w)/2:y=${panelTop + 50}`,
      `drawtext=${font}:textfile=${escapeFilterValue(textFile)}:expansion=none:fontsize=${FONT_SIZE}:fontcolor=white:line_spacing=${Math.round(FONT_SIZE * 0.3)}:x=(w-text_w)/2:y=${textTop}`,
    );
  }
  await execa(
    tools.ffmpeg,
    ["-v", "error", "-y", "-f", "lavfi", "-i", filters.join(","), "-frames:v", "1", "-update", "1", image],
    { cancelSignal: signal },
  );
  return { index: scene.index, image, words: scene.words };
}
