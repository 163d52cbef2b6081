import { isTaplineError } from "@tapline/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as errors from "./errors.ts";
import {
  AlertConfigError,
  AlertHandlerError,
  AlertHandlerTimeoutError,
  AlertManagerClosedError,
  handlerGaveUp,
} from "./errors.ts";

describe("plugin-alerts errors (core's createError)", () => {
  it("keeps every code stable and exports no per-class guard", () => {
    expect(AlertConfigError.code).toBe("TAPLINE_ERR_ALERTS_CONFIG");
    expect(AlertHandlerError.code).toBe("TAPLINE_ERR_ALERTS_HANDLER");
    expect(AlertHandlerTimeoutError.code).toBe("TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT");
    expect(AlertManagerClosedError.code).toBe("TAPLINE_ERR_ALERTS_CLOSED");
    expect(Object.keys(errors).filter((k) => /^is[A-Z]/.test(k))).toEqual([]);
    for (const E of [AlertConfigError, AlertHandlerError, AlertHandlerTimeoutError, AlertManagerClosedError])
      expect(E.hint).not.toBe("");
  });

  it("AlertConfigError names the file or the subject and lists every issue", () => {
    const issues = [{ path: "rules[0].levelz", message: 'unknown option "levelz"' }];
    const fromFile = new AlertConfigError({ issues, subject: "alerts.yaml", file: "alerts.yaml" });
    expect(fromFile.message).toMatch(
      /^invalid alert configuration in alerts\.yaml \(1 problem\):\n {2}- rules\[0\]/,
    );
    expect(fromFile).toMatchObject({
      name: "AlertConfigError",
      file: "alerts.yaml",
      subject: "alerts.yaml",
      issues,
    });
    const fromFactory = new AlertConfigError({ issues: [...issues, ...issues], subject: "webhookHandler()" });
    expect(fromFactory.message).toMatch(/^webhookHandler\(\): invalid options \(2 problems\):/);
    expect(fromFactory.file).toBeUndefined();
    expect(isTaplineError(fromFactory, "TAPLINE_ERR_ALERTS_CONFIG")).toBe(true);
    expect(isTaplineError(fromFactory, "TAPLINE_ERR_ALERTS_HANDLER")).toBe(false);
  });

  it("a handler that gave up carries the timeout code when its last attempt timed out", () => {
    const timeout = new AlertHandlerTimeoutError({ handler: "pager", timeoutMs: 50 });
    expect(timeout.message).toBe(
      'alert handler "pager" did not finish within 50 ms (raise its "timeoutMs" if the receiver is slow)',
    );
    const timedOut = handlerGaveUp("pager", 2, timeout);
    expect(timedOut).toMatchObject({
      name: "AlertHandlerError",
      code: "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT",
      handler: "pager",
      attempts: 2,
    });
    expect(timedOut.cause).toBe(timeout);
    const failed = handlerGaveUp("pager", 1, new Error("HTTP 500 token=sk-live-abcdefghijklmnop1234"));
    expect(failed.code).toBe("TAPLINE_ERR_ALERTS_HANDLER");
    expect(failed.message).toMatch(/^alert handler "pager" failed after 1 attempt: HTTP 500/);
    expect(failed.message).not.toContain("sk-live-abcdefghijklmnop1234");
    expect(failed).toBeInstanceOf(AlertHandlerError);
    // one guard for both: every handler failure names its handler
    const e: unknown = timedOut;
    if (isTaplineError(e, ["TAPLINE_ERR_ALERTS_HANDLER", "TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT"]))
      expectTypeOf(e.handler).toEqualTypeOf<string>();
  });

  it("narrows through TaplineErrorMap", () => {
    const e: unknown = new AlertManagerClosedError({ what: 'raise alert "X"' });
    expect((e as Error).message).toBe(
      'cannot raise alert "X": the alert manager is closed (create a new one)',
    );
    if (isTaplineError(e, "TAPLINE_ERR_ALERTS_CLOSED")) expectTypeOf(e.what).toEqualTypeOf<string>();
    if (isTaplineError(e, "TAPLINE_ERR_ALERTS_CONFIG")) {
      expectTypeOf(e.issues[0]!.path).toEqualTypeOf<string>();
      expectTypeOf(e.subject).toEqualTypeOf<string>();
    }
  });
});
