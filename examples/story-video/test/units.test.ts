import { describe, expect, it } from "vitest";
import { isApiError } from "../src/api-error.ts";
import { FlakyService } from "../src/flaky-service.ts";
import { createLlm, STORY_IDEAS } from "../src/llm.ts";
import { ProgressBoard } from "../src/progress.ts";
import { rngFor } from "../src/rng.ts";
import { alignCues, srtTime, toSrt } from "../src/subtitles.ts";

describe("alignCues", () => {
  it("times cues by word share of the audio and covers it exactly", () => {
    const cues = alignCues("One two three four. Five six seven eight nine ten eleven twelve!", 12);
    // 8 words over the 7-word limit: two even cues of 4, not 7 + a lone "twelve!".
    expect(cues.map((c) => c.text)).toEqual([
      "One two three four.",
      "Five six seven eight",
      "nine ten eleven twelve!",
    ]);
    expect(cues.map((c) => [c.start, c.end])).toEqual([
      [0, 4],
      [4, 8],
      [8, 12],
    ]);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBe(cues[i - 1]!.end);
  });
  it("joins a very short sentence to the cue before it", () => {
    const cues = alignCues("The ship came home. At last!", 6);
    expect(cues.map((c) => c.text)).toEqual(["The ship came home. At last!"]);
    expect(cues[0]!.end).toBe(6);
  });
  it("keeps cues within the character limit", () => {
    const cues = alignCues("Supercalifragilistic expialidocious words keep coming along here. Short.", 5, {
      maxChars: 30,
    });
    for (const c of cues) expect(c.text.length <= 30 || !c.text.includes(" ")).toBe(true);
  });
  it("rejects a non-positive duration", () => {
    expect(() => alignCues("hello", 0)).toThrow(/duration/);
  });
  it("writes SRT", () => {
    expect(srtTime(3661.5)).toBe("01:01:01,500");
    expect(toSrt([{ index: 1, start: 0, end: 1.25, text: "Hi" }])).toBe(
      "1\n00:00:00,000 --> 00:00:01,250\nHi\n",
    );
  });
});

describe("seeded failure injection", () => {
  const opts = { seed: 7, failureRate: 0.5, latencyMs: 1, requestTimeoutMs: 5, retryAfterSeconds: 2 };
  const outcomes = async (seed: number) => {
    const service = new FlakyService("llm", { ...opts, seed });
    const results: string[] = [];
    for (let i = 0; i < 30; i++) {
      results.push(
        await service.call("story").then(
          () => "ok",
          (e: unknown) => (isApiError(e) ? String(e.status) : (e as Error).name),
        ),
      );
    }
    return results;
  };
  it("is repeatable for a seed and differs between seeds", async () => {
    const a = await outcomes(7);
    expect(await outcomes(7)).toEqual(a);
    expect(await outcomes(8)).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set(["ok", "429", "503", "TimeoutError"]));
  });
  it("throws fetch-like errors: status, Headers with Retry-After", async () => {
    const service = new FlakyService("tts", { ...opts, failureRate: 1 }, ["429"]);
    const error = await service.call("x").catch((e: unknown) => e);
    expect(isApiError(error)).toBe(true);
    expect((error as { status: number }).status).toBe(429);
    expect((error as { headers: Headers }).headers.get("Retry-After")).toBe("2");
  });
  it("stops at once when the signal aborts", async () => {
    const service = new FlakyService("llm", { ...opts, failureRate: 0, latencyMs: 10_000 });
    const reason = new Error("stop");
    const started = Date.now();
    await expect(service.call("x", AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
  });
  it("draws the same script for the same seed", async () => {
    const llm = createLlm({ ...opts, failureRate: 0, middleSentences: 2 });
    const a = await llm.writeScript(STORY_IDEAS[0]!);
    const b = await createLlm({ ...opts, failureRate: 0, middleSentences: 2 }).writeScript(STORY_IDEAS[0]!);
    expect(b.text).toBe(a.text);
    expect(a.text.split(/[.!?]/).filter((s) => s.trim()).length).toBe(6);
    expect(rngFor(1, "a")()).not.toBe(rngFor(2, "a")());
  });
});

describe("ProgressBoard", () => {
  it("prints plain lines off a terminal and a board on one", () => {
    let plain = "";
    const board = new ProgressBoard(
      {
        isTTY: false,
        write: (s) => {
          plain += s;
        },
      },
      [{ id: "s1", title: "T" }],
    );
    board.runStarted("s1");
    board.attemptFailed("s1", "script", 1, new Error("llm: HTTP 429"));
    board.attemptStarted("s1", "script", 2);
    board.breaker("tts", 2);
    board.stop();
    expect(plain).toContain("[s1] script: attempt 1 failed: llm: HTTP 429");
    expect(plain).toContain("[s1] script: attempt 2");
    expect(plain).toContain("breaker tts: open");
    expect(plain).not.toContain("\x1b[");
    let tty = "";
    const live = new ProgressBoard(
      {
        isTTY: true,
        write: (s) => {
          tty += s;
        },
      },
      [{ id: "s1", title: "T" }],
    );
    live.attemptStarted("s1", "script", 2);
    live.stop();
    expect(tty).toContain("\x1b[33m↻ script×2");
  });
});
