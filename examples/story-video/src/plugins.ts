import type { TaplinePlugin } from "@tapline/core";
import type { StoryPipelineDeps } from "./story-pipeline.ts";

/** What the demo needs from the plugins it wires. */
export interface DemoWiring {
  readonly plugins: TaplinePlugin[];
  readonly stepOptions: StoryPipelineDeps["stepOptions"];
  readonly check?: StoryPipelineDeps["check"];
  /** Text for the end of the run (e.g. the metrics summary), read from the data directory once the app is closed. */
  summarize?(dir: string, colour: boolean): Promise<string | undefined>;
}

/** Settings the plugin wiring depends on. */
export interface WiringSettings {
  readonly quick: boolean;
}

/** The plugins of the demo, with their step options. */
export async function wirePlugins(_settings: WiringSettings): Promise<DemoWiring> {
  return { plugins: [], stepOptions: {} };
}
