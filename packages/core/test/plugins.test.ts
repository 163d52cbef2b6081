import { readFileSync } from "node:fs";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  CORE_VERSION,
  createTapline,
  definePlugin,
  isTaplineError,
  type PluginRegistrationError,
} from "../src/index.ts";
import { AppClosedError, PipelineDefinitionError } from "../src/kit.ts";
import { plugin, quietApp, silent } from "./helpers.ts";

function registrationError(fn: () => unknown): PluginRegistrationError {
  try {
    fn();
  } catch (e) {
    if (
      isTaplineError(e, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ])
    )
      return e;
    throw e;
  }
  throw new Error("expected a PluginRegistrationError");
}

/** A tiny Standard Schema: { level: "low" | "high", count: positive integer }. */
const schema: StandardSchemaV1<unknown, { level: string; count: number }> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate(value) {
      const issues: StandardSchemaV1.Issue[] = [];
      const v = (value ?? {}) as Record<string, unknown>;
      if (v.level !== "low" && v.level !== "high")
        issues.push({ message: 'must be "low" or "high"', path: ["level"] });
      if (!Number.isInteger(v.count) || (v.count as number) <= 0)
        issues.push({ message: "must be a positive integer", path: ["count"] });
      if (
        v.nested &&
        typeof v.nested === "object" &&
        (v.nested as { list?: unknown[] }).list?.[1] !== undefined
      ) {
        issues.push({ message: "must be empty", path: ["nested", { key: "list" }, 1] });
      }
      return issues.length ? { issues } : { value: v as { level: string; count: number } };
    },
  },
};

describe("plugin registration", () => {
  it("keeps CORE_VERSION equal to package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(CORE_VERSION).toBe(pkg.version);
  });

  it("rejects a duplicate name", () => {
    const e = registrationError(() => quietApp({ plugins: [plugin("a", () => {}), plugin("a", () => {})] }));
    expect([e.code, e.plugin]).toEqual(["TAPLINE_ERR_PLUGIN_DUPLICATE", "a"]);
  });

  it("rejects a plugin whose core range does not include this core", () => {
    const e = registrationError(() => quietApp({ plugins: [plugin("old", () => {}, { core: "^0.3.0" })] }));
    expect(e.code).toBe("TAPLINE_ERR_PLUGIN_CORE_VERSION");
    expect(e.message).toContain("^0.3.0");
    expect(e.message).toContain(CORE_VERSION);
  });

  it("rejects a missing dependency, and accepts it when registered earlier", () => {
    const e = registrationError(() =>
      quietApp({ plugins: [plugin("alerts", () => {}, { dependencies: ["metrics"] })] }),
    );
    expect([e.code, e.plugin]).toEqual(["TAPLINE_ERR_PLUGIN_DEPENDENCY", "alerts"]);
    expect(e.message).toContain('"metrics"');
    const app = quietApp({
      plugins: [plugin("metrics", () => {}), plugin("alerts", () => {}, { dependencies: ["metrics"] })],
    });
    expect(app.plugins.map((p) => p.name)).toEqual(["metrics", "alerts"]);
  });

  it("lists every invalid option with its path", () => {
    const configurable = definePlugin({
      name: "conf",
      version: "1.0.0",
      core: "^1.0.0",
      options: schema,
      setup() {},
    });
    const e = registrationError(() =>
      quietApp({ plugins: [configurable({ level: "mid", count: -1, nested: { list: [1, 2] } })] }),
    );
    expect(e.code).toBe("TAPLINE_ERR_PLUGIN_OPTIONS");
    expect(e.issues).toEqual([
      { path: "level", message: 'must be "low" or "high"' },
      { path: "count", message: "must be a positive integer" },
      { path: "nested.list[1]", message: "must be empty" },
    ]);
    expect(e.message).toContain("level: must be");
  });

  it("passes validated options to setup", () => {
    let seen: unknown;
    const configurable = definePlugin({
      name: "conf",
      version: "1.0.0",
      core: "^1.0.0",
      options: schema,
      setup(api) {
        seen = api.options;
      },
    });
    quietApp({ plugins: [configurable({ level: "high", count: 3 })] });
    expect(seen).toEqual({ level: "high", count: 3 });
  });

  it("rejects things that are not plugins, with a hint", () => {
    const factory = definePlugin({ name: "f", version: "1.0.0", core: "^1.0.0", setup() {} });
    const e = registrationError(() => quietApp({ plugins: [factory as never] }));
    expect(e.code).toBe("TAPLINE_ERR_PLUGIN_INVALID");
    expect(e.message).toContain("factory");
    expect(
      registrationError(() =>
        quietApp({ plugins: [{ name: "x", version: "nope", core: "^1", setup() {} } as never] }),
      ).code,
    ).toBe("TAPLINE_ERR_PLUGIN_INVALID");
  });

  it("wraps a throwing setup and disposes the plugins set up before it", async () => {
    let disposed = false;
    const first = plugin("first", () => () => {
      disposed = true;
    });
    const e = registrationError(() =>
      quietApp({
        plugins: [
          first,
          plugin("second", () => {
            throw new Error("no config file");
          }),
        ],
      }),
    );
    expect([e.code, e.plugin]).toEqual(["TAPLINE_ERR_PLUGIN_SETUP", "second"]);
    await new Promise((r) => setTimeout(r, 10));
    expect(disposed).toBe(true);
  });

  it("disposes in reverse order, once, even when close() is called twice", async () => {
    const order: string[] = [];
    const app = quietApp({
      plugins: ["a", "b", "c"].map((n) =>
        plugin(n, () => () => {
          order.push(n);
        }),
      ),
    });
    await Promise.all([app.close(), app.close()]);
    await app.close();
    expect(order).toEqual(["c", "b", "a"]);
  });

  it("waits for an asynchronous setup before the first run, and reports its failure", async () => {
    const events: string[] = [];
    const slow = definePlugin({
      name: "slow",
      version: "1.0.0",
      core: "^1.0.0",
      async setup() {
        await new Promise((r) => setTimeout(r, 20));
        events.push("ready");
      },
    });
    const app = quietApp({ plugins: [slow()] });
    await app
      .pipeline("p")
      .step("s", () => void events.push("step"))
      .build()
      .run();
    expect(events).toEqual(["ready", "step"]);
    await app.close();

    const failing = definePlugin({
      name: "failing",
      version: "1.0.0",
      core: "^1.0.0",
      async setup() {
        throw new Error("port in use");
      },
    });
    const broken = quietApp({ plugins: [failing()] });
    await expect(broken.ready()).rejects.toMatchObject({
      code: "TAPLINE_ERR_PLUGIN_SETUP",
      plugin: "failing",
    });
    await expect(
      broken
        .pipeline("p")
        .step("s", () => 1)
        .build()
        .run(),
    ).rejects.toMatchObject({ code: "TAPLINE_ERR_PLUGIN_SETUP" });
    await broken.close();
  });

  it("refuses new runs after close()", async () => {
    const app = quietApp();
    const pipeline = app
      .pipeline("p")
      .step("s", () => 1)
      .build();
    await app.close();
    expect(() => pipeline.run()).toThrow(AppClosedError);
    try {
      app.pipeline("q");
    } catch (e) {
      expect(isTaplineError(e, "TAPLINE_ERR_APP_CLOSED")).toBe(true);
    }
    expect(app.status()).toMatchObject({ level: "healthy", message: "healthy", parts: [] });
  });

  it("cancels runs in flight on close()", async () => {
    const app = quietApp();
    const running = app
      .pipeline("p")
      .step(
        "wait",
        (_: void, ctx) =>
          new Promise((_r, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
      )
      .build()
      .run();
    await new Promise((r) => setTimeout(r, 5));
    await app.close();
    const report = await running;
    expect(report.status).toBe("cancelled");
    expect(isTaplineError(report.cancelReason, "TAPLINE_ERR_APP_CLOSED")).toBe(true);
  });

  it("uses the quiet default logger unless told otherwise", () => {
    const lines: string[] = [];
    const app = createTapline({
      logger: {
        ...silent,
        warn: (o: unknown, m?: string) => void lines.push(`${JSON.stringify(o)} ${m}`),
        child: () => silent,
      },
    });
    expect(app.log).toBeDefined();
  });
});

describe("pipeline definition", () => {
  const app = quietApp({ plugins: [plugin("retry", () => {}, { stepOptions: ["retry"] })] });
  const definitionError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (isTaplineError(e, "TAPLINE_ERR_PIPELINE_DEFINITION")) return e;
      throw e;
    }
    throw new Error("expected a PipelineDefinitionError");
  };

  it("rejects an empty pipeline at build()", () => {
    expect(definitionError(() => app.pipeline("empty").build()).message).toContain("at least one step");
  });
  it("rejects a step name used twice", () => {
    const e = definitionError(() =>
      app
        .pipeline("p")
        .step("a", () => 1)
        .step("a" as never, () => 2),
    );
    expect(e.step).toBe("a");
    expect(e.message).toContain("used twice");
  });
  it("rejects a step that is not a function", () => {
    expect(definitionError(() => app.pipeline("p").step("a", "nope" as never)).message).toContain(
      "must be a function",
    );
  });
  it("rejects an empty step name and an empty pipeline name", () => {
    definitionError(() => app.pipeline("p").step("" as string, () => 1));
    definitionError(() => app.pipeline(""));
  });
  it("rejects unknown step options and accepts those a registered plugin declares", () => {
    const e = definitionError(() => app.pipeline("p").step("a", () => 1, { retyr: 3 } as never));
    expect(e.message).toContain('"retyr"');
    expect(e.message).toContain("retry");
    expect(() =>
      app
        .pipeline("p")
        .step("a", () => 1, { retry: {} } as never)
        .build(),
    ).not.toThrow();
  });
  it("rejects a bad timeout and bad labels", () => {
    definitionError(() => app.pipeline("p").step("a", () => 1, { timeout: -5 }));
    definitionError(() => app.pipeline("p").step("a", () => 1, { timeout: Number.NaN }));
    definitionError(() => app.pipeline("p").step("a", () => 1, { labels: { model: 4 as never } }));
  });
  it("lets a plugin reject a definition in pipelineBuild", () => {
    const strict = quietApp({
      plugins: [
        plugin("strict", ({ hooks }) => {
          hooks.pipelineBuild.tap("strict", ({ pipeline, steps }) => {
            if (steps.length > 2)
              throw new PipelineDefinitionError({
                pipeline,
                step: steps[2]!.name,
                why: "at most two steps",
                issues: [],
              });
          });
        }),
      ],
    });
    const e = definitionError(() =>
      strict
        .pipeline("p")
        .step("a", () => 1)
        .step("b", () => 1)
        .step("c", () => 1)
        .build(),
    );
    expect(e.step).toBe("c");
  });
});

describe("strict app and step options", () => {
  it("createTapline rejects an unknown key with the closest match", () => {
    expect(() => createTapline({ plugin: [] } as never)).toThrow(
      /createTapline\(\): invalid options:\n {2}- plugin: unknown option "plugin"; did you mean "plugins"\?/,
    );
  });

  it("createTapline({ dir: 42 }) is a typed error naming dir, not Node's ERR_INVALID_ARG_TYPE", () => {
    let error: unknown;
    try {
      createTapline({ dir: 42 } as never);
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_OPTIONS")).toBe(true);
    expect((error as Error).message).toContain("dir: expected");
    expect((error as { code: string }).code).toBe("TAPLINE_ERR_OPTIONS");
  });

  it("checks a step option against the plugin's schema when the step is added", () => {
    const withSchema = definePlugin({
      name: "schema-plugin",
      version: "1.0.0",
      core: "^1.0.0",
      stepOptions: { flaky: v.strictObject({ attempts: v.optional(v.number()) }) },
      setup() {},
    });
    const app = quietApp({ plugins: [withSchema()] });
    let error: unknown;
    try {
      app.pipeline("p").step("s", () => 1, { flaky: { attemps: 2 } } as never);
    } catch (e) {
      error = e;
    }
    expect(isTaplineError(error, "TAPLINE_ERR_PIPELINE_DEFINITION")).toBe(true);
    const e = error as PipelineDefinitionError;
    expect(e.message).toContain('pipeline "p", step "s": invalid step options:');
    expect(e.issues[0]).toMatchObject({ path: "flaky.attemps", suggestion: "attempts" });
    expect(() => app.pipeline("q").step("s", () => 1, { flakyy: {} } as never)).toThrow(
      /did you mean "flaky"/,
    );
  });
});
