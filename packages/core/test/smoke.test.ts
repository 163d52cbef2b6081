import { describe, expect, it } from "vitest";
import { createTapline, definePlugin, WrapStage } from "../src/index.ts";

describe("smoke", () => {
  it("runs a pipeline with a wrapping plugin", async () => {
    const order: string[] = [];
    const p = definePlugin({
      name: "p", version: "1.0.0", core: "^1.0.0",
      setup(api) {
        api.hooks.wrapStep.tap({ name: "p", stage: WrapStage.retry }, (next) => async (input, signal) => {
          try { return await next(input, signal); } catch { order.push("retry"); return next(input, signal); }
        });
      },
    });
    const app = createTapline({ plugins: [p()] });
    let n = 0;
    const pipe = app.pipeline<number>("x").step("a", (i) => { if (n++ === 0) throw new Error("boom"); return i + 1; }).step("b", (i, ctx) => `${i}:${ctx.outputs.a}`).build();
    const r = await pipe.run(1);
    expect(r.status).toBe("success");
    expect(r.output).toBe("2:2");
    expect(r.steps[0]!.attempts.length).toBe(2);
    expect(order).toEqual(["retry"]);
    await app.close();
  });
});
