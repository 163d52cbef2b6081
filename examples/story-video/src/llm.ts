import { type FlakyOptions, FlakyService } from "./flaky-service.ts";
import { pick, rngFor } from "./rng.ts";

/** A story to tell: the pipeline's input. */
export interface StoryIdea {
  /** Stable id, used in file names and as the failure-injection key. */
  readonly id: string;
  readonly title: string;
  /** Who the story is about. */
  readonly hero: string;
  /** Where it happens. */
  readonly place: string;
  /** What the hero wants. */
  readonly goal: string;
}

/** The ideas the demo draws from. */
export const STORY_IDEAS: readonly StoryIdea[] = [
  {
    id: "lighthouse",
    title: "The Last Lighthouse",
    hero: "an old lighthouse keeper",
    place: "a rocky northern island",
    goal: "guide one last ship home",
  },
  {
    id: "robot-garden",
    title: "The Robot Gardener",
    hero: "a small garden robot",
    place: "a rooftop above the city",
    goal: "grow a single red tomato",
  },
  {
    id: "night-train",
    title: "The Night Train",
    hero: "a sleepy conductor",
    place: "a train crossing the desert",
    goal: "wake every passenger at the right stop",
  },
  {
    id: "paper-boat",
    title: "The Paper Boat",
    hero: "a girl with a paper boat",
    place: "a rainy harbour town",
    goal: "send a message to the sea",
  },
  {
    id: "clockmaker",
    title: "The Clockmaker's Cat",
    hero: "a curious cat",
    place: "a clockmaker's dusty shop",
    goal: "stop the clocks before midnight",
  },
  {
    id: "snow-fox",
    title: "The Snow Fox",
    hero: "a young fox",
    place: "a silent winter forest",
    goal: "find the warm cave before the storm",
  },
];

const OPENINGS = [
  "Once, on {place}, there lived {hero}.",
  "Far away, on {place}, {hero} woke before dawn.",
  "Nobody on {place} noticed {hero} at first.",
];
const WANTS = [
  "More than anything, the hero wanted to {goal}.",
  "Every day the hero dreamed of a way to {goal}.",
  "There was only one wish: to {goal}.",
];
const TROUBLES = [
  "But the wind grew stronger, and the plan fell apart.",
  "But the old tools broke, one after another.",
  "But night came early, and the path was lost.",
];
const MIDDLES = [
  "So the hero tried again, slowly and carefully.",
  "A stranger offered help, and the hero said yes.",
  "The hero remembered an old trick and smiled.",
  "Step by step, the hero found a better way.",
];
const ENDINGS = [
  "And at last, the hero did {goal}, just in time.",
  "In the morning, everyone saw that the hero did {goal}.",
  "It was small, and it was enough: the hero did {goal}.",
];

/** A generated script. */
export interface Script {
  readonly idea: StoryIdea;
  readonly title: string;
  readonly text: string;
  /** Which draft this is (1 = first draft, 2 = revised). */
  readonly draft: number;
}

/** Options of {@link createLlm}. */
export interface LlmOptions extends FlakyOptions {
  /** Sentences in the middle of a story; the quick mode uses 0. */
  middleSentences: number;
}

/**
 * A deterministic, local stand-in for an LLM API: same seed and idea, same script. Calls take a seeded
 * latency and fail like a real API (429 with Retry-After, 503, timeouts) at `failureRate`.
 */
export function createLlm(options: LlmOptions) {
  const service = new FlakyService("llm", options);
  return {
    /** Writes a first draft for an idea. */
    async writeScript(idea: StoryIdea, signal?: AbortSignal): Promise<Script> {
      await service.call(`${idea.id}:script`, signal);
      const rng = rngFor(options.seed, `script:${idea.id}`);
      const fill = (s: string) =>
        s.replace("{place}", idea.place).replace("{hero}", idea.hero).replace("{goal}", idea.goal);
      const sentences = [fill(pick(rng, OPENINGS)), fill(pick(rng, WANTS)), fill(pick(rng, TROUBLES))];
      for (let i = 0; i < options.middleSentences; i++)
        sentences.push(fill(MIDDLES[(Math.floor(rng() * MIDDLES.length) + i) % MIDDLES.length]!));
      sentences.push(fill(pick(rng, ENDINGS)));
      return { idea, title: idea.title, text: sentences.map(capitalise).join(" "), draft: 1 };
    },
    /** Revises a draft: names the hero consistently and tightens the wording. */
    async revise(script: Script, signal?: AbortSignal): Promise<Script> {
      await service.call(`${script.idea.id}:revise`, signal);
      const hero = script.idea.hero.replace(/^(an?|the)\s+/i, "");
      const text = script.text
        .replaceAll("the hero", `the ${hero}`)
        .replaceAll(/\bMore than anything\b/g, "Above all")
        .replaceAll(/\s+/g, " ")
        .trim();
      return { ...script, text, draft: script.draft + 1 };
    },
  };
}

/** The stand-in LLM client. */
export type Llm = ReturnType<typeof createLlm>;

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
