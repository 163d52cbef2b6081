import { createServer } from "node:net";
import { StepValidationError } from "@tapline/core/kit";
import { describe, expect, it } from "vitest";
import { classifyError, isFetchNetworkError, isNonRetryable, nonRetryable } from "./classify.ts";
import { AttemptTimeoutError, BrokenCircuitError } from "./errors.ts";

const http = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

describe("classifyError", () => {
  it("a unit that suspended its run (ctx.suspend) is never retried nor counted by breakers", () => {
    const suspended = Object.assign(new Error('"review" suspended the run: approve'), {
      isTaplineError: true,
      code: "TAPLINE_ERR_RUN_SUSPENDED",
    });
    expect(classifyError(suspended)).toBe("ignored");
  });

  it("classifies HTTP and AI provider statuses", () => {
    for (const s of [408, 425, 429, 500, 502, 503, 504, 529])
      expect(classifyError(http(s)), String(s)).toBe("retryable");
    expect(classifyError(http(501))).toBe("nonRetryable");
    for (const s of [400, 401, 404, 422]) expect(classifyError(http(s)), String(s)).toBe("ignored");
    expect(classifyError({ response: { status: 503 } })).toBe("retryable");
    expect(classifyError({ $metadata: { httpStatusCode: 429 } })).toBe("retryable");
  });
  it("classifies network codes, also in the cause chain", () => {
    expect(classifyError(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe("retryable");
    expect(
      classifyError(new Error("wrapped", { cause: Object.assign(new Error("x"), { code: "ETIMEDOUT" }) })),
    ).toBe("retryable");
  });
  it("retries fetch's real network TypeError, not other TypeErrors", async () => {
    // A port that refuses connections: listen, note the port, close.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(isFetchNetworkError(error)).toBe(true);
    expect(classifyError(error)).toBe("retryable");
    expect(classifyError(new TypeError("x is not a function"))).toBe("nonRetryable");
  });
  it("honours the nonRetryable marker and core's StepValidationError.retryable", () => {
    const e = nonRetryable(http(503));
    expect(isNonRetryable(e)).toBe(true);
    expect(classifyError(e)).toBe("nonRetryable");
    expect(classifyError(nonRetryable("plain string"))).toBe("nonRetryable");
    expect(classifyError(new StepValidationError({ why: "bad audio", findings: [], retryable: true }))).toBe(
      "retryable",
    );
    expect(classifyError(new StepValidationError({ why: "no input", findings: [], retryable: false }))).toBe(
      "nonRetryable",
    );
  });
  it("knows its own errors and cancellations", () => {
    expect(classifyError(new AttemptTimeoutError({ timeoutMs: 10, attempt: 1 }))).toBe("retryable");
    expect(classifyError(new BrokenCircuitError({ breaker: "b", state: "open", retryAt: 1 }))).toBe(
      "ignored",
    );
    expect(classifyError(new DOMException("aborted", "AbortError"))).toBe("ignored");
    expect(classifyError(new Error("anything else"))).toBe("retryable");
    expect(classifyError(new RangeError("bug"))).toBe("nonRetryable");
  });
});
