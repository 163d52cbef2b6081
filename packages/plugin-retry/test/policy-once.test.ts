import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, describe, expect, it, vi } from "vitest";

// Count every RetryPolicy the plugin builds (the class is replaced for plugin.ts too).
const built = vi.hoisted(() => ({ count: 0 }));
vi.mock("../src/retry.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../src/retry.ts")>();
  class CountedPolicy extends original.RetryPolicyImpl {
    constructor(...args: ConstructorParameters<typeof original.RetryPolicyImpl>) {
      super(...args);
      built.count++;
    }
  }
  return { ...original, RetryPolicyImpl: CountedPolicy };
});

const { retry } = await import("../src/index.ts");

const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe("a step's policy", () => {
  it("is built once per pipeline step, not per run (100 runs, 2 steps: 2 policies)", async () => {
    built.count = 0;
    const app = createTapline({
      logger: silentLogger,
      plugins: [
        retry({
          defaults: { maxAttempts: 3, backoff: { kind: "constant", delay: 1 } },
          breakers: { x: { trip: { kind: "consecutive", threshold: 50 } } },
        }),
      ],
    });
    apps.push(app);
    let calls = 0;
    const pipeline = app
      .pipeline("p")
      .step(
        "a",
        async () => {
          // Every other run fails once, so both the success and the retry path run.
          if (++calls % 2 === 0) throw Object.assign(new Error("503"), { status: 503 });
          return 1;
        },
        { retry: { breaker: "x" } },
      )
      .step("b", async (n: number) => n + 1, { timeout: 5_000 })
      .build();
    for (let i = 0; i < 100; i++) {
      const report = await pipeline.run();
      expect(report.status).toBe("success");
    }
    expect(built.count).toBe(2);
  });
});
