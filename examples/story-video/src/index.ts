export { checkOutputs, type FileCheck } from "./checks.ts";
export { type DemoOptions, type DemoResult, runDemo } from "./demo.ts";
export { createLlm, type Llm, type LlmOptions, type Script, STORY_IDEAS, type StoryIdea } from "./llm.ts";
export { detectTools, type MediaTools, MissingToolError } from "./media.ts";
export {
  type FanOutCounts,
  formatFanOut,
  ProgressBoard,
  type ProgressOutput,
  progressPlugin,
} from "./progress.ts";
export { drawScene, type Scene, type SceneImage, sceneTimings, splitIntoScenes } from "./scenes.ts";
export {
  buildStoryPipeline,
  STEP_NAMES,
  type StoryPipeline,
  type StoryPipelineDeps,
  type StoryResult,
  type StoryUnit,
  UNIT_NAMES,
} from "./story-pipeline.ts";
export { alignCues, type Cue, toSrt } from "./subtitles.ts";
