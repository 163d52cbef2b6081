// Strict options: every options object of the package goes through core's one mechanism (valibot
// strictObject + checkOptions/parseOptions): unknown keys get the closest known key, bad values their path,
// value and what was expected. No media needed.
import { createTapline, isTaplineError, type OptionIssue } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  audio,
  createValidator,
  defineProfile,
  PROFILES,
  subtitles,
  text,
  validate,
  validateAudio,
  validateFile,
  validateJob,
  validateSubtitles,
  validateText,
  validateVideo,
  video,
} from "./index.ts";
import { PROFILE_NAMES, ProfileSchema } from "./options.ts";

/** The error `fn` throws (or its promise rejects with). */
async function errorOf(fn: () => unknown): Promise<Error & { issues: readonly OptionIssue[] }> {
  try {
    await fn();
  } catch (error) {
    return error as Error & { issues: readonly OptionIssue[] };
  }
  throw new Error("expected an error");
}

describe("plugin options (checked by core at registration)", () => {
  it.each([
    [{ profle: "tiktok" }, "profle", "profile"],
    [{ concurency: 2 }, "concurency", "concurrency"],
    [{ polcy: "warn" }, "polcy", "policy"],
  ])("validate(%j) is rejected with a did-you-mean", async (options, path, suggestion) => {
    const error = await errorOf(() =>
      createTapline({ plugins: [validate(options as never)], logger: silentLogger }),
    );
    expect(
      isTaplineError(error, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ]),
    ).toBe(true);
    expect((error as { code?: string }).code).toBe("TAPLINE_ERR_PLUGIN_OPTIONS");
    expect(error.issues).toContainEqual(expect.objectContaining({ path, suggestion }));
    expect(error.message).toContain(`did you mean "${suggestion}"?`);
  });

  it("names every bad value with what was expected (and the closest profile name)", async () => {
    const error = await errorOf(() =>
      createTapline({
        plugins: [validate({ policy: "x" as never, concurrency: 0, profile: "youtube-short" as never })],
        logger: silentLogger,
      }),
    );
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i]));
    expect(byPath.policy).toMatchObject({ value: "x", expected: '("fail" | "warn")' });
    expect(byPath.concurrency).toMatchObject({ value: 0, expected: ">=1" });
    expect(byPath.profile).toMatchObject({ value: "youtube-short", suggestion: "youtube-shorts" });
  });
});

describe("the validate step option (checked by core when the step is added)", () => {
  it("validate: { polcy } throws a PipelineDefinitionError naming pipeline, step and the closest key", async () => {
    const app = createTapline({ plugins: [validate()], logger: silentLogger });
    const error = await errorOf(() =>
      app
        .pipeline("story")
        .step("tts", async () => 1, { validate: { checks: [audio()], polcy: "warn" } as never }),
    );
    await app.close();
    expect(isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
    expect(error.message).toMatch(/story/);
    expect(error.message).toMatch(/tts/);
    expect(error.issues).toContainEqual(
      expect.objectContaining({ path: "validate.polcy", suggestion: "policy" }),
    );
  });
});

describe("check factories", () => {
  it.each([
    ["text", () => text({ maxWord: 10 } as never), "maxWord", "maxWords"],
    ["audio", () => audio({ loudnes: { target: -14, tolerance: 1 } } as never), "loudnes", "loudness"],
    [
      "audio",
      () => audio({ loudness: { target: -14, tolerence: 1 } } as never),
      "loudness.tolerence",
      "tolerance",
    ],
    ["video", () => video({ codec: ["h264"] } as never), "codec", "codecs"],
    ["subtitles", () => subtitles({ maxCPS: 20 } as never), "maxCPS", "maxCps"],
    ["audio", () => audio({ polciy: "warn" } as never), "polciy", "policy"],
  ])("%s(): an unknown option names the closest one", async (factory, make, path, suggestion) => {
    const error = await errorOf(make);
    expect(isTaplineError(error, "TAPLINE_ERR_VALIDATE_OPTIONS")).toBe(true);
    expect(isTaplineError(error) && "issues" in error).toBe(true);
    expect((error as { code?: string }).code).toBe("TAPLINE_ERR_VALIDATE_OPTIONS");
    expect(error.message).toContain(`${factory}(): invalid options`);
    expect(error.issues).toContainEqual(expect.objectContaining({ path, suggestion }));
  });

  it('text({ maxWords: "ten" }): path, value and expected type', async () => {
    const error = await errorOf(() => text({ maxWords: "ten" as never }));
    expect(error.issues).toEqual([
      expect.objectContaining({ path: "maxWords", value: "ten", expected: "number" }),
    ]);
    expect(error.message).toContain('maxWords: expected number, got "ten"');
  });

  it("bad values inside a check: negative durations, a policy typo, a non-function picker", async () => {
    const e1 = await errorOf(() => audio({ maxDuration: -1 }));
    expect(e1.issues[0]).toMatchObject({ path: "maxDuration", value: -1, expected: ">=0" });
    const e2 = await errorOf(() => video({ policy: "wran" as never }));
    expect(e2.issues[0]).toMatchObject({ path: "policy", suggestion: "warn" });
    const e3 = await errorOf(() => subtitles({ audio: "vo.mp3" as never }));
    expect(e3.issues[0]).toMatchObject({ path: "audio" });
    expect(e3.message).toMatch(/a function/);
  });

  it("valid options still make checks", () => {
    expect(audio({ maxDuration: 60, loudness: false, policy: "warn" })).toMatchObject({
      kind: "audio",
      policy: "warn",
      expect: { maxDuration: 60, loudness: false },
    });
    expect(text({ maxWords: 150, text: (o: string) => ({ text: o }) }).script).toBeTypeOf("function");
  });
});

describe("profiles", () => {
  it("defineProfile() checks the profile strictly, with the path into it", async () => {
    const e1 = await errorOf(() =>
      defineProfile("youtube-shorts", {
        name: "mine",
        audio: { loudness: { target: -16, tolerence: 1 } },
      } as never),
    );
    expect(e1.message).toContain("defineProfile(): invalid options");
    expect(e1.issues).toContainEqual(
      expect.objectContaining({ path: "profile.audio.loudness.tolerence", suggestion: "tolerance" }),
    );
    const e2 = await errorOf(() => defineProfile(undefined, { name: "x", vidoe: {} } as never));
    expect(e2.issues).toContainEqual(expect.objectContaining({ path: "profile.vidoe", suggestion: "video" }));
    const e3 = await errorOf(() => defineProfile("tiktk" as never, { name: "x" }));
    expect(e3.issues).toContainEqual(expect.objectContaining({ path: "base", suggestion: "tiktok" }));
    const e4 = await errorOf(() => defineProfile(undefined, { name: "" }));
    expect(e4.issues[0]).toMatchObject({ path: "profile.name" });
  });

  it("every built-in profile passes its own schema, and the names list is complete", () => {
    expect([...PROFILE_NAMES].sort()).toEqual(Object.keys(PROFILES).sort());
    for (const p of Object.values(PROFILES)) expect(v.safeParse(ProfileSchema, p).issues).toBeUndefined();
  });
});

describe("standalone functions and the validator", () => {
  it.each([
    ["createValidator()", () => createValidator({ cacheSise: 1 } as never), "cacheSise", "cacheSize"],
    [
      "validateAudio()",
      () => validateAudio("a.mp3", { truePeakMx: -1 } as never),
      "expect.truePeakMx",
      "truePeakMax",
    ],
    [
      "validateVideo()",
      () => validateVideo("a.mp4", { thorogh: true } as never),
      "expect.thorogh",
      "thorough",
    ],
    [
      "validateText()",
      () => validateText({ text: "x" }, { maxWord: 1 } as never),
      "expect.maxWord",
      "maxWords",
    ],
    [
      "validateSubtitles()",
      () => validateSubtitles("a.srt", { expect: { maxCPS: 1 } } as never),
      "options.expect.maxCPS",
      "maxCps",
    ],
    ["validateJob()", () => validateJob({ audo: "a.mp3" } as never), "files.audo", "audio"],
    [
      "validateJob()",
      () => validateJob({ audio: "a.mp3" }, "default", { thorouh: true } as never),
      "options.thorouh",
      "thorough",
    ],
    [
      "validateFile()",
      () => validateFile("a.mp3", { profile: "youtube-short" as never }),
      "options.profile",
      "youtube-shorts",
    ],
  ])("%s rejects a misspelt option before doing any work", async (subject, call, path, suggestion) => {
    const error = await errorOf(call);
    expect(isTaplineError(error, "TAPLINE_ERR_VALIDATE_OPTIONS")).toBe(true);
    expect(error.message).toContain(`${subject}: invalid options`);
    expect(error.issues).toContainEqual(expect.objectContaining({ path, suggestion }));
  });

  it("bad arguments are typed errors, never a crash", async () => {
    expect(
      isTaplineError(await errorOf(() => validateAudio(42 as never)), "TAPLINE_ERR_VALIDATE_OPTIONS"),
    ).toBe(true);
    expect((await errorOf(() => validateAudio("" as never))).issues[0]).toMatchObject({ path: "path" });
    expect((await errorOf(() => validateText(7 as never))).issues[0]).toMatchObject({ path: "source" });
    expect((await errorOf(() => createValidator({ concurrency: 1.5 }))).issues[0]).toMatchObject({
      path: "concurrency",
      value: 1.5,
    });
  });
});
