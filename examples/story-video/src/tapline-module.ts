/**
 * The story pipeline as a module for `tapline run`: the CLI creates the app from a YAML/JSON config and
 * calls `pipeline(app)`. Quick settings (short stories, fast encoding); env `STORY_SEED` and
 * `STORY_FAILURE_RATE` tune the failure injection.
 *
 * @example
 * tapline run examples/story-video/src/tapline-module.ts --config examples/story-video/tapline.yaml
 */
import { dirname, join } from "node:path";
import type { TaplineApp } from "@tapline/core";
import { createLlm, STORY_IDEAS } from "./llm.ts";
import { detectTools } from "./media.ts";
import { buildStoryPipeline, type StoryPipelineDeps } from "./story-pipeline.ts";

/** Default input: the first story idea. */
export const input = STORY_IDEAS[0];

/** Builds the story pipeline on the app `tapline run` created; videos go to `out/` beside the data folder. */
export async function pipeline(app: TaplineApp) {
  const seed = Number(process.env.STORY_SEED ?? 42);
  const failureRate = Number(process.env.STORY_FAILURE_RATE ?? 0);
  const flaky = { seed, failureRate, latencyMs: 40, requestTimeoutMs: 300, retryAfterSeconds: 1 };
  const names = new Set(app.plugins.map((p) => p.name));
  const stepOptions: StoryPipelineDeps["stepOptions"] = names.has("@tapline/plugin-retry")
    ? ({
        script: { retry: {} },
        revise: { retry: {} },
        voiceover: { retry: { breaker: "tts" } },
      } as StoryPipelineDeps["stepOptions"])
    : {};
  return buildStoryPipeline(app, {
    llm: createLlm({ ...flaky, middleSentences: 0 }),
    tts: flaky,
    tools: await detectTools(),
    outDir: join(dirname(app.dir), "out"),
    fps: 24,
    preset: "ultrafast",
    stepOptions,
  });
}
