import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { circuitBreaker, retry, retryPolicy } from "../src/index.ts";
import { BreakerImpl } from "../src/internal/breaker.ts";

// The plugin is a thin adapter (issue #13): its breaker stage runs each attempt through the breaker's own
// `execute()`, the path a standalone `retryPolicy({ breaker })` takes, so no bookkeeping lives in plugin.ts.
const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const failing = (failures: number) => {
  let calls = 0;
  return async () => {
    if (++calls <= failures) throw new Error(`transient ${calls}`);
    return calls;
  };
};

describe("plugin and standalone share the breaker's execute path", () => {
  it("the plugin's breaker stage calls breaker.execute() once per attempt, with the attempt's signal", async () => {
    const execute = vi.spyOn(BreakerImpl.prototype, "execute");
    const acquire = vi.spyOn(BreakerImpl.prototype, "acquire");
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        retry({
          defaults: { maxAttempts: 3, backoff: { kind: "constant", delay: 0 } },
          breakers: { x: { trip: { kind: "consecutive", threshold: 10 } } },
        }),
      ],
    });
    apps.push(app);
    const report = await app
      .pipeline("p")
      .step("call", failing(2), { retry: { breaker: "x" } })
      .build()
      .run();
    expect(report.status).toBe("success");
    expect(execute).toHaveBeenCalledTimes(3);
    for (const [, signal] of execute.mock.calls) expect(signal).toBeInstanceOf(AbortSignal);
    // Every permit was taken inside execute(): the adapter does no acquire of its own.
    expect(acquire).toHaveBeenCalledTimes(3);
  });

  it("a standalone policy with a breaker goes through the same breaker.execute()", async () => {
    const execute = vi.spyOn(BreakerImpl.prototype, "execute");
    const policy = retryPolicy({
      maxAttempts: 3,
      backoff: { kind: "constant", delay: 0 },
      breaker: circuitBreaker({ trip: { kind: "consecutive", threshold: 10 } }),
    });
    expect(await policy.execute(failing(2))).toBe(3);
    expect(execute).toHaveBeenCalledTimes(3);
    const signal = new AbortController().signal;
    expect(await policy.execute(failing(0), signal)).toBe(1);
    expect(execute).toHaveBeenCalledTimes(4);
  });

  it("breaker.execute(fn, signal): a call that fails after its signal aborted is released, not counted", async () => {
    const b = circuitBreaker({ trip: { kind: "consecutive", threshold: 1 } });
    const controller = new AbortController();
    const call = b.execute(async () => {
      controller.abort(new Error("cancelled"));
      throw new Error("cancelled");
    }, controller.signal);
    await expect(call).rejects.toThrow("cancelled");
    expect(b.state).toBe("closed");
    await expect(b.execute(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(b.state).toBe("open");
  });
});
