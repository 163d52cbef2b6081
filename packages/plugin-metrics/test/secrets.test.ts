import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileLogger, getMetrics, metrics } from "../src/index.ts";

// Issue #12: step error messages were stored verbatim in runs/*.jsonl and snapshots/*.jsonl (topErrors).

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tapline secrets "));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SECRETS = ["sk-live-1234567890abcdef", "Bearer xyz", "user:pass", "token=abc", "acme-4242"];

/** Every file under `root`, read as text. */
function readTree(root: string): string {
  let out = "";
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    out += statSync(path).isDirectory() ? readTree(path) : `\n${readFileSync(path, "utf8")}`;
  }
  return out;
}

describe("secrets never reach the data dir", () => {
  it("redacts step error messages in run and step records, snapshots (topErrors), status.json and operations", async () => {
    const app = createTapline({
      dir,
      logger: silentLogger,
      redact: { patterns: [/acme-\d+/] }, // the app's own pattern must apply too
      plugins: [metrics({ system: false, snapshotIntervalMs: 100 })],
    });
    await app.ready();
    const p = app
      .pipeline<number>("leaky")
      .step("call", () => {
        throw new Error(
          "upstream failed: key sk-live-1234567890abcdef, Authorization: Bearer xyz, " +
            "GET https://user:pass@host/x?token=abc (account acme-4242)",
        );
      })
      .build();
    for (let i = 0; i < 3; i++) await p.run(i);
    const m = getMetrics(app)!;
    m.logOperation({
      operation: "upload",
      duration: 5,
      success: false,
      subject: "https://user:pass@host/x?token=abc",
      error: new Error("denied for sk-live-1234567890abcdef"),
    });
    await m.timed("fetch", () => Promise.reject(new Error("Bearer xyz rejected"))).catch(() => {});
    await m.persistNow();
    await app.close();
    const all = readTree(dir);
    expect(all).toContain("upstream failed"); // the records are there...
    for (const secret of SECRETS) expect(all, secret).not.toContain(secret); // ...without the secrets
    expect(readdirSync(join(dir, "snapshots")).length).toBeGreaterThan(0);
  });
});

describe("createFileLogger redaction", () => {
  it("redacts secret-named fields case-insensitively at any depth, and secrets in messages", async () => {
    const logger = await createFileLogger({ dir, console: false });
    logger.info(
      {
        Authorization: "Bearer top-1",
        headers: { Authorization: "Basic top-2", "X-Api-Key": "top-3" },
        api_key: "top-4",
        nested: { deeper: { password: "top-5" } },
        url: "https://user:pass@host/x?token=abc",
      },
      "calling with sk-live-1234567890abcdef",
    );
    logger.child({ apiKey: "top-6" }).warn("child");
    await logger.close();
    const raw = readTree(join(dir, "logs"));
    expect(raw).toContain("calling with");
    for (const secret of ["top-1", "top-2", "top-3", "top-4", "top-5", "top-6", ...SECRETS.slice(0, 4)])
      expect(raw, secret).not.toContain(secret);
  });
});
