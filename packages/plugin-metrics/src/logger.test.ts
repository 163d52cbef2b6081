import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createFileLogger } from "./logger.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline-log-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("createFileLogger", () => {
  it("writes JSON lines to a daily file, redacts secrets, and readable warnings to stderr", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const logger = await createFileLogger({ dir, level: "info", console: "warn" });
      const child = logger.child({ runId: "r1", step: "tts" });
      child.info({ headers: { authorization: "Bearer sk-123" }, apiKey: "sk-456" }, "calling the TTS API");
      child.warn("slow voice");
      child.debug("hidden");
      await logger.close();
      const files = readdirSync(join(dir, "logs"));
      const today = new Date().toISOString().slice(0, 10);
      expect(files).toEqual([`tapline.${today}.1.log`]);
      const lines = readFileSync(join(dir, "logs", files[0]!), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.msg)).toEqual(["calling the TTS API", "slow voice"]);
      expect(lines[0]).toMatchObject({ runId: "r1", step: "tts", level: 30 });
      const raw = readFileSync(join(dir, "logs", files[0]!), "utf8");
      expect(raw).not.toContain("sk-123");
      expect(raw).not.toContain("sk-456");
      const printed = stderr.mock.calls.map((c) => String(c[0])).join("");
      expect(printed).toMatch(/WARN \[runId=r1 step=tts\] slow voice/);
      expect(printed).not.toContain("calling the TTS API");
    } finally {
      stderr.mockRestore();
    }
  });
});
