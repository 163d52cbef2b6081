import type { StandardSchemaV1 } from "@standard-schema/spec";
import { closestMatch } from "leven";
import { isTaplineError, PipelineDefinitionError } from "./errors.ts";
import type { RunOptions, StepContext, StepDefinition, StepOptions } from "./events.ts";
import { type ExecutorApp, executeRun, type StepDef } from "./internal/executor.ts";
import { checkOptions, formatOptionIssues, type OptionIssue, prefixOptionIssues } from "./options.ts";
import type { RunReport } from "./report.ts";

/** A step function: receives the previous step's output (the run input for the first step). */
export type StepFunction<TIn, TOutputs, TReturn> = (input: TIn, ctx: StepContext<TOutputs>) => TReturn;

/**
 * Builds a pipeline step by step. Each `step()` returns a new builder whose types carry the step's output
 * into the next step's input and into `ctx.outputs`. Definition errors (empty or duplicate names, a step
 * that is not a function, unknown options) throw a `PipelineDefinitionError` at once or in `build()`.
 */
export interface PipelineBuilder<TInput, TLast, TOutputs extends Record<string, unknown>> {
  readonly name: string;
  /**
   * Appends a step.
   *
   * @example
   * app.pipeline<{ idea: string }>("story")
   *   .step("script", async ({ idea }, ctx) => writeScript(idea, ctx.signal))
   *   .step("voice", async (script, ctx) => tts(script, ctx.signal), { timeout: 60_000 })
   *   .build();
   */
  step<const TName extends string, TReturn>(
    name: TName extends keyof TOutputs ? never : TName,
    fn: StepFunction<TLast, TOutputs, TReturn>,
    options?: StepOptions,
  ): PipelineBuilder<TInput, Awaited<TReturn>, TOutputs & { [K in TName]: Awaited<TReturn> }>;
  /** Checks the definition (with every plugin's `pipelineBuild` tap) and returns the runnable pipeline. */
  build(): Pipeline<TInput, TLast, TOutputs>;
}

/** A built pipeline. `run()` may be called any number of times, concurrently; runs are isolated. */
export interface Pipeline<TInput, TOutput, TOutputs extends Record<string, unknown>> {
  readonly name: string;
  readonly steps: readonly StepDefinition[];
  /**
   * Runs the pipeline. Resolves to a report whatever happens to the steps (read `report.status`); rejects
   * only when the app is closed or failed to start.
   */
  run(input: TInput, options?: RunOptions): Promise<RunReport<TOutput, TOutputs>>;
}

/** @internal What the builder needs from the app. */
export interface BuilderApp extends ExecutorApp {
  assertOpen(what: string): void;
  readonly stepOptionKeys: ReadonlyMap<string, StandardSchemaV1 | undefined>;
}

/** @internal */
export function createBuilder(
  app: BuilderApp,
  name: string,
  steps: readonly StepDef[] = [],
): PipelineBuilder<any, any, any> {
  if (typeof name !== "string" || name.trim() === "") {
    throw new PipelineDefinitionError({
      pipeline: String(name),
      step: undefined,
      why: "a pipeline needs a non-empty string name",
      issues: [],
    });
  }
  return {
    name,
    step(stepName: string, fn: StepDef["fn"], options: StepOptions = {}) {
      checkStep(app, name, steps, stepName, fn, options);
      return createBuilder(app, name, [
        ...steps,
        { name: stepName, fn, options: Object.freeze({ ...options }) },
      ]);
    },
    build() {
      app.assertOpen(`build pipeline "${name}"`);
      if (steps.length === 0) {
        throw new PipelineDefinitionError({
          pipeline: name,
          step: undefined,
          why: "a pipeline needs at least one step; add one with .step(name, fn)",
          issues: [],
        });
      }
      const definitions: StepDefinition[] = steps.map((s) => ({ name: s.name, options: s.options }));
      if (app.hooks.pipelineBuild.taps.length > 0) {
        try {
          app.hooks.pipelineBuild.call({ pipeline: name, steps: definitions });
        } catch (error) {
          // A plugin rejecting the definition on purpose throws a PipelineDefinitionError: surface it as is.
          if (
            isTaplineError(error, "TAPLINE_ERR_PLUGIN_HOOK") &&
            isTaplineError(error.cause, "TAPLINE_ERR_PIPELINE_DEFINITION")
          )
            throw error.cause;
          throw error;
        }
      }
      const frozen = Object.freeze([...steps]);
      return {
        name,
        steps: Object.freeze(definitions),
        run: (input: unknown, options?: RunOptions) => {
          app.assertOpen(`run pipeline "${name}"`);
          return executeRun(app, name, frozen, input, options) as Promise<RunReport<any, any>>;
        },
      };
    },
  };
}

const CORE_STEP_OPTIONS = new Set(["timeout", "labels", "description"]);

function checkStep(
  app: BuilderApp,
  pipeline: string,
  steps: readonly StepDef[],
  name: unknown,
  fn: unknown,
  options: unknown,
): void {
  const fail = (message: string, issues?: readonly OptionIssue[]) =>
    new PipelineDefinitionError({
      pipeline,
      step: typeof name === "string" ? name : undefined,
      why: message,
      issues: issues ?? [],
    });
  if (typeof name !== "string" || name.trim() === "")
    throw fail(`a step needs a non-empty string name, got ${String(name)}`);
  if (steps.some((s) => s.name === name))
    throw fail("this step name is used twice; step names must be unique in a pipeline");
  if (typeof fn !== "function")
    throw fail(`the step must be a function (input, ctx) => output, got ${typeof fn}`);
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw fail("step options must be an object");
  const issues: OptionIssue[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (CORE_STEP_OPTIONS.has(key)) continue;
    if (!app.stepOptionKeys.has(key)) {
      const known = [...CORE_STEP_OPTIONS, ...app.stepOptionKeys.keys()];
      const suggestion = closestMatch(key, known, { maxDistance: Math.max(2, Math.floor(key.length / 3)) });
      throw fail(
        `unknown step option "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ""}. Core knows ${[...CORE_STEP_OPTIONS].join(", ")}` +
          (app.stepOptionKeys.size
            ? `, and the registered plugins add ${[...app.stepOptionKeys.keys()].join(", ")}`
            : "") +
          " (is the plugin that provides it registered?)",
      );
    }
    const schema = app.stepOptionKeys.get(key);
    if (schema && value !== undefined) {
      const result = checkOptions(schema, value);
      if (result.issues) for (const issue of prefixOptionIssues(key, result.issues)) issues.push(issue);
    }
  }
  if (issues.length > 0) {
    throw fail(`invalid step options:\n${formatOptionIssues(issues)}`, issues);
  }
  const { timeout, labels } = options as StepOptions;
  if (timeout !== undefined && !(typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0)) {
    throw fail(`option "timeout" must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  if (labels !== undefined) {
    if (typeof labels !== "object" || labels === null)
      throw fail('option "labels" must be an object of strings');
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== "string") throw fail(`option "labels.${k}" must be a string, got ${typeof v}`);
    }
  }
}
