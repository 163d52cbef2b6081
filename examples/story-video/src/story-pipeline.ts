import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { StepContext, StepOptions, TaplineApp } from "@tapline/core";
import { StepValidationError } from "@tapline/core/kit";
import { checkOutputs, checkSceneImage, type FileCheck } from "./checks.ts";
import { type FlakyOptions, FlakyService } from "./flaky-service.ts";
import type { Llm, Script, StoryIdea } from "./llm.ts";
import { encodeVoice, type MediaTools, probeDuration, renderVideo, speak, synthesise } from "./media.ts";
import { bill, imageCost, llmCost, renderCost, tokensOf, ttsCost } from "./prices.ts";
import { drawScene, type SceneImage, sceneTimings, splitIntoScenes } from "./scenes.ts";
import { alignCues, toSrt } from "./subtitles.ts";

/** The top-level steps of the story pipeline, in order (`media` runs the voice and the scenes side by side). */
export const STEP_NAMES = ["script", "revise", "media", "render", "validate"] as const;

/** A top-level step of the story pipeline. */
export type StoryStep = (typeof STEP_NAMES)[number];

/**
 * The units that take step options: the top-level function steps, the voice branch's two steps and the
 * scene map (its options apply to each scene).
 */
export const UNIT_NAMES = [
  "script",
  "revise",
  "voiceover",
  "subtitles",
  "scenes",
  "render",
  "validate",
] as const;

/** A unit of the story pipeline that takes step options. */
export type StoryUnit = (typeof UNIT_NAMES)[number];

/** Name of the gauge the scene map's items function emits: how many scenes a story has (the board's total). */
export const SCENES_METRIC = "story_scenes";

/** What the `script` step sends the LLM (billed as input tokens). */
export const scriptPrompt = (idea: StoryIdea): string =>
  `You write very short stories for vertical videos. Write "${idea.title}": ${idea.hero}, on ${idea.place}, wants to ${idea.goal}. Plain sentences, no dialogue.`;
/** What the `revise` step sends the LLM: the draft and the instruction. */
export const revisePrompt = (draft: Script): string =>
  `Revise this story: name the hero the same way throughout and tighten the wording.\n\n${draft.text}`;
/** Output tokens the `script` step's estimate allows for (the stand-in's drafts are shorter). */
const SCRIPT_TOKENS = 150;

/** What {@link buildStoryPipeline} needs. */
export interface StoryPipelineDeps {
  readonly llm: Llm;
  /** Failure injection of the TTS stand-in. */
  readonly tts: FlakyOptions;
  /** Failure injection of the image-API stand-in each scene calls first (default: none fail). */
  readonly images?: FlakyOptions;
  /** Scenes drawn at once, per story. Default 3. */
  readonly sceneConcurrency?: number;
  readonly tools: MediaTools;
  /** Folder for the videos (`<outDir>/<id>.mp4`); each story's other files go to `<outDir>/<id>/`. */
  readonly outDir: string;
  /** Video frame rate. */
  readonly fps: number;
  /** x264 preset. */
  readonly preset: string;
  /** Extra step options per unit (plugin keys such as `retry`, `validate`); those of `scenes` apply per scene. */
  readonly stepOptions?: Partial<Record<StoryUnit, StepOptions>>;
  /**
   * Makes the voiceover this many times slower (the demo's `--slow-voice 1.5`): once the voice is made, the step
   * waits (factor − 1) × the time it took, so its duration is multiplied while the audio, and the size it
   * reports (seconds of audio), stay what they are. For showing a regression alert. Default 1.
   */
  readonly slowVoice?: number;
  /**
   * Suspends each story after its first draft (before the revision, the voice and the images are paid for)
   * until it is approved: `app.resume(runId, { resumeData: { approved: true } })` or `tapline approve`.
   * An approval of `{ approved: false }` fails the story.
   */
  readonly approveScripts?: boolean;
  /**
   * Checks the finished files; defaults to the demo's own ffprobe checks. The demo passes
   * `@tapline/plugin-validate`'s `validateFile` with the youtube-shorts profile when it is installed.
   */
  readonly check?: (
    files: { video: string; audio: string; subtitles: string; script: string },
    signal: AbortSignal,
  ) => Promise<FileCheck[]>;
}

/** The voiced script. */
export interface Voiceover {
  readonly script: Script;
  readonly dir: string;
  readonly scriptFile: string;
  readonly audio: string;
  readonly durationSeconds: number;
  /** `espeak-ng` or `ffmpeg-tone`. */
  readonly voice: string;
}

/** What a successful run returns. */
export interface StoryResult {
  readonly id: string;
  readonly title: string;
  readonly video: string;
  readonly audio: string;
  readonly subtitles: string;
  readonly script: string;
  readonly durationSeconds: number;
  /** Scene cards in the video. */
  readonly scenes: number;
  readonly checks: readonly FileCheck[];
}

/** What the `revise` step hands on: the final script and where the story's files go. */
export interface RevisedScript {
  readonly script: Script;
  readonly dir: string;
  readonly scriptFile: string;
}

/** The voice branch's output: the voiceover and its subtitles. */
export interface VoiceWithSubtitles extends Voiceover {
  readonly subtitles: string;
  readonly cues: number;
}

/**
 * Defines the story pipeline on an app:
 *
 * ```
 * idea → script → revise → media ┬ voice:  voiceover → subtitles         → render → validate
 *                                └ images: scenes[0..n] (map, 3 at once)
 * ```
 *
 * Every unit (`media.voice.voiceover`, `media.images.scenes[2]`) declares the files it makes with
 * `ctx.artifact()`, so a validate plugin can check them per unit, and honours `ctx.signal`, so timeouts and
 * cancellation stop subprocesses too.
 */
export function buildStoryPipeline(app: TaplineApp, deps: StoryPipelineDeps) {
  const tts = new FlakyService("tts", deps.tts, ["503", "429", "timeout"]);
  const images = new FlakyService("images", deps.images ?? { ...deps.tts, failureRate: 0 }, ["503", "429"]);
  const opt = (unit: StoryUnit, base: StepOptions): StepOptions => ({ ...base, ...deps.stepOptions?.[unit] });
  const outDir = resolve(deps.outDir);

  const voiceover = async (
    { script, dir, scriptFile }: RevisedScript,
    ctx: StepContext,
  ): Promise<Voiceover> => {
    const started = performance.now();
    // The remote TTS API call (flaky, billed per character), then the real synthesis on this machine.
    await tts.call(script.idea.id, ctx.signal);
    bill(ctx, ttsCost(script.text));
    const wav = join(dir, "voiceover.wav");
    const audio = join(dir, "voiceover.m4a");
    if (deps.tools.espeak) await speak(deps.tools, scriptFile, wav, ctx.signal);
    else await synthesise(deps.tools, script.text.split(/\s+/).length, wav, ctx.signal);
    await encodeVoice(deps.tools, wav, audio, ctx.signal);
    await rm(wav, { force: true });
    const durationSeconds = await probeDuration(deps.tools, audio, ctx.signal);
    ctx.artifact(audio, { kind: "audio", meta: { durationSeconds } });
    // The work's size, for regression rules normalised per second of audio: a longer story is not slower.
    ctx.annotate("size", { value: durationSeconds, unit: "seconds" });
    const factor = deps.slowVoice ?? 1;
    if (factor > 1) {
      const workMs = performance.now() - started;
      const addedMs = (factor - 1) * workMs;
      // Said in the report, so a slowed run is never mistaken for a real regression.
      ctx.annotate("slowVoice", { factor, workMs, addedMs });
      await sleep(addedMs, undefined, { signal: ctx.signal });
    }
    return {
      script,
      dir,
      scriptFile,
      audio,
      durationSeconds,
      voice: deps.tools.espeak ? "espeak-ng" : "ffmpeg-tone",
    };
  };

  const subtitles = async (voice: Voiceover, ctx: StepContext): Promise<VoiceWithSubtitles> => {
    const cues = alignCues(voice.script.text, voice.durationSeconds);
    const file = join(voice.dir, "subtitles.srt");
    await writeFile(file, toSrt(cues));
    ctx.artifact(file, {
      kind: "subtitles",
      meta: { cues: cues.length, audioDurationSeconds: voice.durationSeconds },
    });
    return { ...voice, subtitles: file, cues: cues.length };
  };

  // The map's items: one scene per sentence. The count goes out as a gauge, which is how the live board
  // learns a map's total before its items end (core announces items as they start, not as a list).
  const scenesOf = ({ script }: RevisedScript, ctx: StepContext) => {
    const scenes = splitIntoScenes(script.text);
    ctx.metric(SCENES_METRIC, scenes.length);
    return scenes;
  };

  const draw = async (
    scene: ReturnType<typeof splitIntoScenes>[number],
    ctx: StepContext,
  ): Promise<SceneImage> => {
    const { script, dir } = ctx.outputs.revise as RevisedScript;
    // The remote image API call (flaky), then the real drawing with ffmpeg on this machine.
    await images.call(`${script.idea.id}:scene-${scene.index + 1}`, ctx.signal);
    bill(ctx, imageCost());
    const drawn = await drawScene(deps.tools, scene, dir, ctx.signal);
    ctx.artifact(drawn.image, { kind: "image", meta: { scene: scene.index + 1, words: scene.words } });
    const findings = await checkSceneImage(deps.tools, drawn.image, undefined, ctx.signal);
    if (findings.length > 0) {
      throw new StepValidationError({
        why: findings.map((f) => f.message).join("; "),
        findings,
        retryable: true,
      });
    }
    return drawn;
  };

  return app
    .pipeline<StoryIdea>("story-video")
    .step(
      "script",
      async (idea, ctx) => {
        const draft = await deps.llm.writeScript(idea, ctx.signal);
        bill(ctx, llmCost(scriptPrompt(idea), draft.text));
        return draft;
      },
      opt("script", {
        timeout: 30_000,
        description: "LLM writes a draft",
        estimate: (idea: StoryIdea) => llmCost(tokensOf(scriptPrompt(idea)), SCRIPT_TOKENS),
      }),
    )
    .step(
      "revise",
      async (draft, ctx): Promise<RevisedScript> => {
        // The approval gate: it stops before the revision's LLM call, so an approved story pays for it once.
        const decision = ctx.resumeData as { approved?: boolean; note?: string } | undefined;
        if (decision !== undefined && decision.approved === false)
          throw new Error(
            `the script of "${draft.title}" was rejected${decision.note ? `: ${decision.note}` : ""}`,
          );
        if (deps.approveScripts && decision === undefined)
          return ctx.suspend({
            reason: `approve the script of "${draft.title}"`,
            data: { title: draft.title, script: draft.text },
          });
        const script = await deps.llm.revise(draft, ctx.signal);
        bill(ctx, llmCost(revisePrompt(draft), script.text));
        const dir = join(outDir, script.idea.id);
        await mkdir(dir, { recursive: true });
        const scriptFile = join(dir, "script.txt");
        await writeFile(scriptFile, `${script.text}\n`);
        ctx.artifact(scriptFile, { kind: "text", meta: { words: script.text.split(/\s+/).length } });
        return { script, dir, scriptFile };
      },
      opt("revise", {
        timeout: 30_000,
        description: "LLM revises the draft",
        estimate: (draft: Script) => llmCost(revisePrompt(draft), draft.text),
      }),
    )
    .parallel("media", {
      voice: {
        pipeline: (b) =>
          b
            .step(
              "voiceover",
              voiceover,
              opt("voiceover", {
                timeout: 60_000,
                description: "TTS speaks the script",
                estimate: (r: RevisedScript) => ttsCost(r.script.text),
              }),
            )
            .step(
              "subtitles",
              subtitles,
              opt("subtitles", { timeout: 10_000, description: "SRT aligned to the voiceover" }),
            ),
      },
      images: {
        pipeline: (b) =>
          b.map("scenes", scenesOf, draw, {
            concurrency: deps.sceneConcurrency ?? 3,
            ...opt("scenes", {
              timeout: 20_000,
              description: "an image API, then ffmpeg, draws a 1080x1920 card per scene",
              estimate: imageCost(),
            }),
          }),
      },
    })
    .step(
      "render",
      async ({ voice, images: cards }, ctx) => {
        const video = join(outDir, `${voice.script.idea.id}.mp4`);
        const times = sceneTimings(cards, voice.durationSeconds);
        const { burned } = await renderVideo(
          deps.tools,
          {
            audio: voice.audio,
            subtitles: voice.subtitles,
            scenes: cards.map((card, i) => ({ image: card.image, ...times[i]! })),
            out: video,
            fps: deps.fps,
            preset: deps.preset,
            durationSeconds: voice.durationSeconds,
          },
          ctx.signal,
        );
        bill(ctx, renderCost(voice.durationSeconds));
        ctx.artifact(video, {
          kind: "video",
          meta: { subtitles: burned ? "burned" : "muxed", scenes: cards.length },
        });
        return { ...voice, video, scenes: cards.length };
      },
      opt("render", {
        timeout: 120_000,
        description: "ffmpeg joins the scenes into a 1080x1920 H.264/AAC mp4",
        estimate: ({ voice }: { voice: Voiceover }) => renderCost(voice.durationSeconds),
      }),
    )
    .step(
      "validate",
      async (done, ctx): Promise<StoryResult> => {
        const files = {
          video: done.video,
          audio: done.audio,
          subtitles: done.subtitles,
          script: done.scriptFile,
        };
        const checks = await (deps.check ?? ((f, s) => checkOutputs(deps.tools, f, s)))(files, ctx.signal);
        for (const check of checks)
          for (const finding of check.findings) ctx.finding({ ...finding, file: check.file });
        const errors = checks.flatMap((c) => c.findings.filter((f) => f.severity === "error"));
        if (errors.length > 0) {
          throw new StepValidationError({
            why: `${errors.length} check(s) failed: ${errors.map((e) => e.message).join("; ")}`,
            findings: errors,
            retryable: false,
          });
        }
        return {
          id: done.script.idea.id,
          title: done.script.title,
          video: done.video,
          audio: done.audio,
          subtitles: done.subtitles,
          script: done.scriptFile,
          durationSeconds: done.durationSeconds,
          scenes: done.scenes,
          checks,
        };
      },
      opt("validate", { timeout: 60_000, description: "every file checked against youtube-shorts" }),
    )
    .build();
}

/** The built story pipeline. */
export type StoryPipeline = ReturnType<typeof buildStoryPipeline>;
