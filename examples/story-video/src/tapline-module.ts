/**
 * The story pipeline as a module for `tapline run`: the CLI creates the app from a YAML/JSON config and
 * calls `pipeline(app)`, with the step options of whichever plugins the config registered. Quick settings
 * (short stories, fast encoding); env `STORY_SEED` and `STORY_FAILURE_RATE` (default 0) tune the failure injection.
 *
 * @example
 * pnpm --filter @tapline/example-story-video exec tapline run src/tapline-module.ts --config tapline.yaml
 */
import { dirname, join } from "node:path";
import type { TaplineApp } from "@tapline/core";
import { createLlm, STORY_IDEAS } from "./llm.ts";
import { detectTools } from "./media.ts";
import { checkWithValidate, stepOptionsFor } from "./plugins.ts";
import { buildStoryPipeline } from "./story-pipeline.ts";

/** Default input: the first story idea. */
export const input = STORY_IDEAS[0];

/** Builds the story pipeline on the app `tapline run` created; videos go to `out/` beside the data folder. */
export async function pipeline(app: TaplineApp) {
  const seed = Number(process.env.STORY_SEED ?? 42);
  const failureRate = Number(process.env.STORY_FAILURE_RATE ?? 0);
  const flaky = { seed, failureRate, latencyMs: 40, requestTimeoutMs: 300, retryAfterSeconds: 1 };
  return buildStoryPipeline(app, {
    llm: createLlm({ ...flaky, middleSentences: 0 }),
    tts: flaky,
    images: flaky,
    tools: await detectTools(),
    outDir: join(dirname(app.dir), "out"),
    fps: 24,
    preset: "ultrafast",
    stepOptions: stepOptionsFor(app.plugins),
    ...(app.plugins.some((p) => p.name === "@tapline/plugin-validate") && { check: checkWithValidate }),
  });
}
