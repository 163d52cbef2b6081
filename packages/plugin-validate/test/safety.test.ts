// Safety: hostile file names, binary discovery, cancellation, timeouts, caching, missing filters.
import { chmod, copyFile, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTaplineError } from "@tapline/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBinary } from "../src/binaries.ts";
import { createValidator, validateAudio } from "../src/index.ts";
import { type Fixtures, integrationSkipReason, makeFixtures } from "./fixtures.ts";

const skip = await integrationSkipReason();
let f: Fixtures;
let work: string;

describe("binary discovery and misuse (no media needed)", () => {
  it("explains how to install ffmpeg when it cannot be found", async () => {
    const error = await findBinary("ffprobe", undefined, { PATH: "/nonexistent" }).catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_VALIDATE_BINARY_NOT_FOUND")).toBe(true);
    expect((error as Error).message).toMatch(/apt-get install ffmpeg/);
    expect((error as { code: string }).code).toBe("TAPLINE_ERR_VALIDATE_BINARY_NOT_FOUND");
    const viaEnv = await findBinary("ffmpeg", undefined, {
      FFMPEG_PATH: "/nope/ffmpeg",
      PATH: "/usr/bin",
    }).catch((e: unknown) => e);
    expect((viaEnv as Error).message).toMatch(/FFMPEG_PATH=\/nope\/ffmpeg/);
  });

  it("throws a typed error for misuse, never for bad media", async () => {
    expect(() => createValidator({ concurrency: 0 })).toThrow(/concurrency/);
    await expect(validateAudio(42 as never)).rejects.toThrow(/file path/);
    const error = await validateAudio("" as never).catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_VALIDATE_OPTIONS")).toBe(true);
  });
});

describe.skipIf(skip !== undefined)(`safety on real media${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(async () => {
    f = await makeFixtures();
    work = await mkdtemp(join(tmpdir(), "tapline-validate-safety-"));
  }, 120_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each(["-y.mp3", "http:x.mp3", "concat:a.mp3", "with space 'quote\".mp3"])(
    "reads %s as a local file, never an option or protocol",
    async (name) => {
      const path = join(work, name);
      await copyFile(f.path("speech.mp3"), path);
      const r = await createValidator().validateAudio(path);
      expect(r.findings).toEqual([]);
      expect(r.metrics.codec).toBe("mp3");
    },
  );

  it("re-validating an unchanged file spawns nothing and hashes nothing; a touched file is re-keyed by content", async () => {
    const v = createValidator();
    const path = join(work, "cache.mp3");
    await copyFile(f.path("speech.mp3"), path);
    await v.validateAudio(path);
    const before = { ...v.stats };
    expect(before.ffprobeCalls + before.ffmpegCalls).toBe(2);
    const again = await v.validateAudio(path);
    expect(again.valid).toBe(true);
    expect(v.stats.ffprobeCalls + v.stats.ffmpegCalls).toBe(2);
    expect(v.stats.hashes).toBe(before.hashes);
    // Same content, new mtime: hashed again, but the content key still hits: no spawn.
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    await v.validateAudio(path);
    expect(v.stats.hashes).toBe(before.hashes + 1);
    expect(v.stats.ffprobeCalls + v.stats.ffmpegCalls).toBe(2);
    // New content at the same path: analysed again.
    await copyFile(f.path("clipped.mp3"), path);
    const changed = await v.validateAudio(path);
    expect(changed.valid).toBe(false);
    expect(v.stats.ffprobeCalls + v.stats.ffmpegCalls).toBe(4);
  });

  it("cancels subprocesses through the signal", async () => {
    const v = createValidator({ cacheSize: 0 });
    const controller = new AbortController();
    const p = v.validateVideo(f.path("video.mp4"), { thorough: true }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 30);
    const t0 = performance.now();
    await expect(p).rejects.toThrow("stop");
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("a timeout becomes an error finding", async () => {
    const v = createValidator({ timeoutMs: 1, cacheSize: 0 });
    const r = await v.validateAudio(f.path("speech.mp3"));
    expect(r.valid).toBe(false);
    expect(r.findings.map((x) => x.message).join(" ")).toMatch(/timed out after 1 ms/);
  });

  it("a filter the ffmpeg build lacks is a skipped check, not an error", async () => {
    // A real ffmpeg behind a wrapper that behaves like a build without ebur128.
    const shim = join(work, "ffmpeg-no-ebur128");
    await writeFile(
      shim,
      `#!/bin/sh\ncase "$*" in *ebur128*) echo "[AVFilterGraph @ 0x1] No such filter: 'ebur128'" >&2; exit 1;; esac\nexec ffmpeg "$@"\n`,
    );
    await chmod(shim, 0o755);
    const v = createValidator({ ffmpegPath: shim });
    const r = await v.validateAudio(f.path("speech.mp3"));
    expect(r.valid).toBe(true);
    expect(r.findings).toMatchObject([{ check: "audio.skipped", severity: "info", value: "ebur128" }]);
    expect(r.metrics.integratedLufs).toBeUndefined();
    expect(r.metrics.meanVolumeDb).toBeDefined();
  });
});
