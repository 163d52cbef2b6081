import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { StepOptions, TaplineApp } from "@tapline/core";
import { StepValidationError } from "@tapline/core/kit";
import { checkOutputs, type FileCheck } from "./checks.ts";
import { type FlakyOptions, FlakyService } from "./flaky-service.ts";
import type { Llm, Script, StoryIdea } from "./llm.ts";
import { encodeVoice, type MediaTools, probeDuration, renderVideo, speak, synthesise } from "./media.ts";
import { alignCues, toSrt } from "./subtitles.ts";

/** The steps of the story pipeline, in order. */
export const STEP_NAMES = ["script", "revise", "voiceover", "subtitles", "render", "validate"] as const;

/** A step of the story pipeline. */
export type StoryStep = (typeof STEP_NAMES)[number];

/** What {@link buildStoryPipeline} needs. */
export interface StoryPipelineDeps {
  readonly llm: Llm;
  /** Failure injection of the TTS stand-in. */
  readonly tts: FlakyOptions;
  readonly tools: MediaTools;
  /** Folder for the videos (`<outDir>/<id>.mp4`); each story's other files go to `<outDir>/<id>/`. */
  readonly outDir: string;
  /** Video frame rate. */
  readonly fps: number;
  /** x264 preset. */
  readonly preset: string;
  /** Extra step options per step (plugin keys such as `retry`, `validate`). */
  readonly stepOptions?: Partial<Record<StoryStep, StepOptions>>;
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
  readonly checks: readonly FileCheck[];
}

/**
 * Defines the story pipeline on an app: idea → script → revise → voiceover → subtitles → render → validate.
 * Each step declares the files it makes with `ctx.artifact()`, so a validate plugin can check them, and
 * honours `ctx.signal`, so timeouts and cancellation stop subprocesses too.
 */
export function buildStoryPipeline(app: TaplineApp, deps: StoryPipelineDeps) {
  const tts = new FlakyService("tts", deps.tts, ["503", "429", "timeout"]);
  const opt = (step: StoryStep, base: StepOptions): StepOptions => ({ ...base, ...deps.stepOptions?.[step] });
  const outDir = resolve(deps.outDir);
  return app
    .pipeline<StoryIdea>("story-video")
    .step(
      "script",
      (idea, ctx) => deps.llm.writeScript(idea, ctx.signal),
      opt("script", { timeout: 30_000, description: "LLM writes a draft" }),
    )
    .step(
      "revise",
      async (draft, ctx) => {
        const script = await deps.llm.revise(draft, ctx.signal);
        const dir = join(outDir, script.idea.id);
        await mkdir(dir, { recursive: true });
        const scriptFile = join(dir, "script.txt");
        await writeFile(scriptFile, `${script.text}\n`);
        ctx.artifact(scriptFile, { kind: "text", meta: { words: script.text.split(/\s+/).length } });
        return { script, dir, scriptFile };
      },
      opt("revise", { timeout: 30_000, description: "LLM revises the draft" }),
    )
    .step(
      "voiceover",
      async ({ script, dir, scriptFile }, ctx): Promise<Voiceover> => {
        // The remote TTS API call (flaky), then the real synthesis on this machine.
        await tts.call(script.idea.id, ctx.signal);
        const wav = join(dir, "voiceover.wav");
        const audio = join(dir, "voiceover.m4a");
        if (deps.tools.espeak) await speak(deps.tools, scriptFile, wav, ctx.signal);
        else await synthesise(deps.tools, script.text.split(/\s+/).length, wav, ctx.signal);
        await encodeVoice(deps.tools, wav, audio, ctx.signal);
        await rm(wav, { force: true });
        const durationSeconds = await probeDuration(deps.tools, audio, ctx.signal);
        ctx.artifact(audio, { kind: "audio", meta: { durationSeconds } });
        return {
          script,
          dir,
          scriptFile,
          audio,
          durationSeconds,
          voice: deps.tools.espeak ? "espeak-ng" : "ffmpeg-tone",
        };
      },
      opt("voiceover", { timeout: 60_000, description: "TTS speaks the script" }),
    )
    .step(
      "subtitles",
      async (voice, ctx) => {
        const cues = alignCues(voice.script.text, voice.durationSeconds);
        const subtitles = join(voice.dir, "subtitles.srt");
        await writeFile(subtitles, toSrt(cues));
        ctx.artifact(subtitles, {
          kind: "subtitles",
          meta: { cues: cues.length, audioDurationSeconds: voice.durationSeconds },
        });
        return { ...voice, subtitles, cues: cues.length };
      },
      opt("subtitles", { timeout: 10_000, description: "SRT aligned to the voiceover" }),
    )
    .step(
      "render",
      async (voice, ctx) => {
        const video = join(outDir, `${voice.script.idea.id}.mp4`);
        const { burned } = await renderVideo(
          deps.tools,
          {
            audio: voice.audio,
            subtitles: voice.subtitles,
            out: video,
            fps: deps.fps,
            preset: deps.preset,
            durationSeconds: voice.durationSeconds,
          },
          ctx.signal,
        );
        ctx.artifact(video, { kind: "video", meta: { subtitles: burned ? "burned" : "muxed" } });
        return { ...voice, video };
      },
      opt("render", { timeout: 120_000, description: "ffmpeg renders 1080x1920 H.264/AAC" }),
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
          checks,
        };
      },
      opt("validate", { timeout: 60_000, description: "every file checked against youtube-shorts" }),
    )
    .build();
}

/** The built story pipeline. */
export type StoryPipeline = ReturnType<typeof buildStoryPipeline>;
