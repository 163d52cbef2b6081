import { expect, it } from "vitest";
import { createConsoleLogger } from "../src/index.ts";

it("writes readable lines at or above its level, with bound fields, and redacts secret fields", () => {
  const lines: string[] = [];
  const log = createConsoleLogger({ level: "info", write: (line) => void lines.push(line) }).child({
    runId: "r1",
  });
  log.debug("dropped");
  log.info(
    { step: "tts", apiKey: "sk-live-123", Authorization: "Bearer abc", token: "t0k" },
    "calling the API",
  );
  log.warn("plain message");
  expect(lines).toEqual([
    "tapline INFO [runId=r1 step=tts apiKey=[redacted] Authorization=[redacted] token=[redacted]] calling the API\n",
    "tapline WARN [runId=r1] plain message\n",
  ]);
  expect(lines.join("")).not.toMatch(/sk-live|Bearer|t0k/);
});
