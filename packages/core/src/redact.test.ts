import { describe, expect, it } from "vitest";
import { describeError } from "./errors.ts";
import { createConsoleLogger } from "./logger.ts";
import { createRedactor, redactFields, redactSecrets } from "./redact.ts";

const SECRETS = ["sk-live-1234567890abcdef", "xyz123token", "pass", "abc123"];

describe("redactSecrets", () => {
  it.each([
    ["step failed: invalid key sk-live-1234567890abcdef", "sk-live-1234567890abcdef"],
    ["Authorization: Bearer xyz123token rejected", "xyz123token"],
    ["GET https://user:pass@host.example/x?token=abc123 failed", "pass"],
    ["GET https://host.example/x?a=1&api_key=abc123&b=2", "abc123"],
    ["request with apiKey=abc123def failed", "abc123def"],
    ["basic auth Basic dXNlcjpwYXNz denied", "dXNlcjpwYXNz"],
    ["github ghp_abcdefghijklmnopqrstuvwxyz0123 leaked", "ghp_abcdefghijklmnopqrstuvwxyz0123"],
    ["slack xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"],
    ["aws AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP"],
  ])("removes the secret from %j", (text, secret) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).toContain("[redacted]");
  });

  it("keeps ordinary text", () => {
    const text = "step tts failed after 3 attempts: HTTP 503 from https://api.example.com/v1/speech?voice=en";
    expect(redactSecrets(text)).toBe(text);
  });

  it("takes extra patterns", () => {
    const r = createRedactor({ patterns: [/studio-\d{6}/] });
    expect(r.text("account studio-123456 over quota")).toBe("account [redacted] over quota");
  });

  it("describeError redacts", () => {
    expect(describeError(new Error("401 Bearer xyz123token"))).not.toContain("xyz123token");
  });
});

describe("redactFields", () => {
  it("redacts secret-named keys at any depth, case-insensitively, and secrets in strings", () => {
    const out = redactFields({
      input: { apiKey: "abc", nested: { API_KEY: "def", api_key: "ghi" } },
      headers: { Authorization: "Bearer x", "X-Api-Key": "k" },
      note: "token=abc123 sent",
      list: [{ password: "p" }],
    });
    expect(out).toEqual({
      input: { apiKey: "[redacted]", nested: { API_KEY: "[redacted]", api_key: "[redacted]" } },
      headers: { Authorization: "[redacted]", "X-Api-Key": "[redacted]" },
      note: "token=[redacted] sent",
      list: [{ password: "[redacted]" }],
    });
  });

  it("survives cycles", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    expect(redactFields(a)).toEqual({ name: "a", self: "[circular]" });
  });
});

describe("console logger", () => {
  it("redacts nested secret fields and secrets in the message", () => {
    const lines: string[] = [];
    const log = createConsoleLogger({ level: "info", write: (l) => lines.push(l) });
    log
      .child({ plugin: "x" })
      .info(
        { input: { apiKey: "abc" }, headers: { Authorization: "Bearer y" }, api_key: "z" },
        "call with sk-live-1234567890abcdef",
      );
    const line = lines.join("");
    for (const s of ["abc", "Bearer y", '"z"', ...SECRETS.slice(0, 1)]) expect(line).not.toContain(s);
    expect(line).toContain("[redacted]");
  });
});
