import { isTaplineError } from "@tapline/core";
import { describe, expect, it } from "vitest";
import * as cli from "./index.ts";

const io = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: "/", env: {} };

describe("CLI errors", () => {
  it("are made by core's createError: one guard, isTaplineError(e, code), and no per-class guard", async () => {
    const metrics = cli.COMMANDS.find((c) => c.name === "metrics")!;
    const error: unknown = await metrics.run(["--bogus"], io).catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_CLI_USAGE")).toBe(true);
    if (!isTaplineError(error, "TAPLINE_ERR_CLI_USAGE")) return;
    expect(error.name).toBe("CliError");
    expect(error.message).toMatch(/^tapline metrics: Unknown option '--bogus'/);
    expect(cli.EXIT_CODES[error.code]).toBe(2);
    // createError's class carries its code and its hint (what to do) as statics.
    const made = error.constructor as unknown as { code: string; hint: string };
    expect(made.code).toBe("TAPLINE_ERR_CLI_USAGE");
    expect(made.hint).not.toBe("");
    expect("isCliError" in cli).toBe(false);
    expect("isCliError" in error).toBe(false);
  });

  it("maps every code to its exit status", async () => {
    const status = cli.COMMANDS.find((c) => c.name === "status")!;
    const error: unknown = await status.run(["--dir", "/definitely/not/here"], io).catch((e: unknown) => e);
    expect(isTaplineError(error, "TAPLINE_ERR_CLI_NO_DATA")).toBe(true);
    expect(cli.EXIT_CODES.TAPLINE_ERR_CLI_NO_DATA).toBe(3);
    expect(cli.EXIT_CODES.TAPLINE_ERR_CLI_MODULE_THREW).toBe(4);
  });
});
