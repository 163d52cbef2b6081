import type { StandardSchemaV1 } from "@standard-schema/spec";
import { closestMatch } from "leven";
import { isTaplineError, PipelineDefinitionError } from "./errors.ts";
import type { RunOptions, StepContext, StepDefinition, StepOptions } from "./events.ts";
import { type ExecutorApp, executeRun } from "./internal/executor.ts";
import type { BranchDef, LeafDef, MapDef, UnitDef } from "./internal/units.ts";
import { checkOptions, formatOptionIssues, type OptionIssue, prefixOptionIssues } from "./options.ts";
import type { RunReport } from "./report.ts";

/** A step function: receives the previous step's output (the run input for the first step). */
export type StepFunction<TIn, TOutputs, TReturn> = (input: TIn, ctx: StepContext<TOutputs>) => TReturn;

/** Options of `app.pipeline(name, options)`: defaults for every run of the pipeline. */
export interface PipelineOptions {
  /** Most a run may spend, by cost unit (`{ usd: 0.5 }`); a run's own `budget` option overrides it. */
  budget?: Readonly<Record<string, number>>;
}

/** A unit of work given to `.parallel()`, `.map()` or `.branch()`: a function, a function with step options, or a sub-pipeline. */
export type UnitSpec<TIn, TOutputs extends Record<string, unknown>, TReturn> =
  | StepFunction<TIn, TOutputs, TReturn>
  | readonly [StepFunction<TIn, TOutputs, TReturn>, StepOptions]
  | SubPipeline<TIn, TOutputs, TReturn>;

/** A sub-pipeline given as a unit: its steps run in order on the unit's input; its last output is the unit's. */
export interface SubPipeline<TIn, TOutputs extends Record<string, unknown>, TReturn> {
  readonly pipeline: (b: PipelineBuilder<TIn, TIn, TOutputs>) => PipelineBuilder<any, TReturn, any>;
}

/** The output of a {@link UnitSpec}. */
export type UnitOutput<U> = U extends { readonly pipeline: (b: any) => PipelineBuilder<any, infer R, any> }
  ? R
  : U extends readonly [(...args: any[]) => infer R, unknown]
    ? Awaited<R>
    : U extends (...args: any[]) => infer R
      ? Awaited<R>
      : never;

/** One item's outcome in a `.map(..., { onItemError: "collect" })` output, shaped like `Promise.allSettled`'s. */
export type MapItemResult<T> =
  | { readonly status: "fulfilled"; readonly value: T }
  | { readonly status: "rejected"; readonly reason: unknown };

/** Options of `.map()`: how items run, plus step options applied to each item (retry, validate, timeout...). */
export interface MapOptions extends StepOptions {
  /** Items running at once. Integer ≥ 1, default 4. */
  concurrency?: number;
  /**
   * `fail` (default): the first failed item fails the step and aborts its running siblings with a reason
   * naming it; no more items start. `collect`: every item runs, and the output holds each one's result.
   */
  onItemError?: "fail" | "collect";
}

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
  /**
   * Appends branches that run side by side on the previous output; the step's output is an object of their
   * outputs. Each branch is a unit (`ctx.path`: `media.voice`) with its own attempts and hooks. The first
   * failed branch aborts the others.
   *
   * @example
   * .parallel("media", {
   *   voice: (script, ctx) => tts(script, ctx.signal),
   *   music: [pickMusic, { retry: { maxAttempts: 2 } }],
   * }) // output: { voice, music }
   */
  parallel<
    const TName extends string,
    const TBranches extends Readonly<Record<string, UnitSpec<TLast, TOutputs, unknown>>>,
  >(
    name: TName extends keyof TOutputs ? never : TName,
    branches: TBranches,
  ): PipelineBuilder<
    TInput,
    { -readonly [K in keyof TBranches]: UnitOutput<TBranches[K]> },
    TOutputs & { [K in TName]: { -readonly [B in keyof TBranches]: UnitOutput<TBranches[B]> } }
  >;
  /**
   * Runs a unit once per item of `items(previous output)`, at most `concurrency` at a time; the output is
   * the items' outputs in input order. Each item is a unit (`ctx.path`: `scenes[3]`) and the step options
   * apply to each item (retry, validation and timeout per item). Metric labels carry `scenes[]`, never the index.
   *
   * @example
   * .map("scenes", (story) => story.scenes, drawScene, { concurrency: 3, retry: { maxAttempts: 3 } })
   */
  map<const TName extends string, TItem, TReturn>(
    name: TName extends keyof TOutputs ? never : TName,
    items: (input: TLast, ctx: StepContext<TOutputs>) => Iterable<TItem> | Promise<Iterable<TItem>>,
    unit: StepFunction<TItem, TOutputs, TReturn> | SubPipeline<TItem, TOutputs, TReturn>,
    options: MapOptions & { onItemError: "collect" },
  ): PipelineBuilder<
    TInput,
    MapItemResult<Awaited<TReturn>>[],
    TOutputs & { [K in TName]: MapItemResult<Awaited<TReturn>>[] }
  >;
  map<const TName extends string, TItem, TReturn>(
    name: TName extends keyof TOutputs ? never : TName,
    items: (input: TLast, ctx: StepContext<TOutputs>) => Iterable<TItem> | Promise<Iterable<TItem>>,
    unit: StepFunction<TItem, TOutputs, TReturn> | SubPipeline<TItem, TOutputs, TReturn>,
    options?: MapOptions & { onItemError?: "fail" },
  ): PipelineBuilder<TInput, Awaited<TReturn>[], TOutputs & { [K in TName]: Awaited<TReturn>[] }>;
  /**
   * Runs the case `select(previous output)` names; the step's output is that case's. A key with no case
   * fails the step with an error naming the key and the cases.
   *
   * @example
   * .branch("publish", (scenes, ctx) => ctx.outputs.script.platform, { shorts: renderShorts, reels: renderReels })
   */
  branch<
    const TName extends string,
    const TCases extends Readonly<Record<string, UnitSpec<TLast, TOutputs, unknown>>>,
  >(
    name: TName extends keyof TOutputs ? never : TName,
    select: (input: TLast, ctx: StepContext<TOutputs>) => string | Promise<string>,
    cases: TCases,
  ): PipelineBuilder<
    TInput,
    UnitOutput<TCases[keyof TCases]>,
    TOutputs & { [K in TName]: UnitOutput<TCases[keyof TCases]> }
  >;
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
  /** Every built pipeline by name (the last build of a name wins), for `app.resume()`. */
  readonly built: Map<string, { readonly steps: readonly UnitDef[]; readonly defaults: PipelineOptions }>;
  readonly stepOptionKeys: ReadonlyMap<string, StandardSchemaV1 | undefined>;
}

/** @internal */
export function createBuilder(
  app: BuilderApp,
  name: string,
  steps: readonly UnitDef[] = [],
  defaults: PipelineOptions = {},
): PipelineBuilder<any, any, any> {
  if (typeof name !== "string" || name.trim() === "") {
    throw new PipelineDefinitionError({
      pipeline: String(name),
      step: undefined,
      why: "a pipeline needs a non-empty string name",
      issues: [],
    });
  }
  const add = (def: UnitDef) => createBuilder(app, name, [...steps, def], defaults);
  const fail = (step: unknown, why: string, issues: readonly OptionIssue[] = []) =>
    new PipelineDefinitionError({
      pipeline: name,
      step: typeof step === "string" ? step : undefined,
      why,
      issues,
    });
  const topName = (stepName: unknown): string => {
    if (typeof stepName !== "string" || stepName.trim() === "")
      throw fail(stepName, `a step needs a non-empty string name, got ${String(stepName)}`);
    if (steps.some((s) => s.name === stepName))
      throw fail(stepName, "this step name is used twice; step names must be unique in a pipeline");
    return stepName;
  };
  // A unit given to parallel/map/branch: a function, [function, options], or { pipeline: (b) => b... }.
  const unitOf = (top: string, key: string, spec: unknown, options: unknown = {}): UnitDef => {
    if (typeof spec === "function") return leaf(app, name, top, key, spec as LeafDef["fn"], options);
    if (Array.isArray(spec)) {
      if (spec.length !== 2 || typeof spec[0] !== "function")
        throw fail(
          top,
          `"${key}" must be a function, [function, options] or { pipeline: (b) => b.step(...) }`,
        );
      return leaf(app, name, top, key, spec[0] as LeafDef["fn"], spec[1]);
    }
    if (spec && typeof spec === "object" && typeof (spec as { pipeline?: unknown }).pipeline === "function") {
      const sub = (spec as { pipeline: (b: PipelineBuilder<any, any, any>) => unknown }).pipeline(
        createBuilder(app, name),
      ) as { [SUB_STEPS]?: readonly UnitDef[] } | undefined;
      const subSteps = sub?.[SUB_STEPS];
      if (!subSteps) throw fail(top, `the pipeline of "${key}" must return the builder it was given`);
      if (subSteps.length === 0) throw fail(top, `the pipeline of "${key}" needs at least one step`);
      return { kind: "chain", name: key, options: Object.freeze({}), steps: subSteps };
    }
    throw fail(
      top,
      `"${key}" must be a function, [function, options] or { pipeline: (b) => b.step(...) }, got ${typeof spec}`,
    );
  };
  const builder = {
    name,
    [SUB_STEPS]: steps,
    step(stepName: string, fn: LeafDef["fn"], options: StepOptions = {}) {
      return add(leaf(app, name, topName(stepName), stepName, fn, options));
    },
    parallel(stepName: string, branches: Record<string, unknown>) {
      const top = topName(stepName);
      if (!branches || typeof branches !== "object" || Object.keys(branches).length === 0)
        throw fail(top, "parallel() needs an object of at least one branch: { voice: fn, music: fn }");
      const defs = Object.entries(branches).map(([key, spec]) => unitOf(top, key, spec));
      return add({ kind: "parallel", name: top, options: Object.freeze({}), branches: defs });
    },
    map(stepName: string, items: unknown, unit: unknown, options: MapOptions = {}) {
      const top = topName(stepName);
      if (typeof items !== "function")
        throw fail(
          top,
          `map() needs a function (input, ctx) => items as its second argument, got ${typeof items}`,
        );
      if (options === null || typeof options !== "object" || Array.isArray(options))
        throw fail(top, "map options must be an object");
      const { concurrency = 4, onItemError = "fail", ...itemOptions } = options;
      if (!(Number.isInteger(concurrency) && concurrency >= 1))
        throw fail(top, `option "concurrency" must be an integer >= 1, got ${String(concurrency)}`);
      if (onItemError !== "fail" && onItemError !== "collect")
        throw fail(top, `option "onItemError" must be "fail" or "collect", got ${String(onItemError)}`);
      if (Array.isArray(unit))
        throw fail(top, "map() takes its item options as its fourth argument, not [fn, options]");
      return add({
        kind: "map",
        name: top,
        options: Object.freeze({}),
        items: items as MapDef["items"],
        unit: unitOf(top, "[]", unit, itemOptions),
        concurrency,
        onItemError,
      });
    },
    branch(stepName: string, select: unknown, cases: Record<string, unknown>) {
      const top = topName(stepName);
      if (typeof select !== "function")
        throw fail(
          top,
          `branch() needs a function (input, ctx) => case name as its second argument, got ${typeof select}`,
        );
      if (!cases || typeof cases !== "object" || Object.keys(cases).length === 0)
        throw fail(top, "branch() needs an object of at least one case: { shorts: fn, reels: fn }");
      const defs = new Map(Object.entries(cases).map(([key, spec]) => [key, unitOf(top, key, spec)]));
      return add({
        kind: "branch",
        name: top,
        options: Object.freeze({}),
        select: select as BranchDef["select"],
        cases: defs,
      });
    },
    build() {
      app.assertOpen(`build pipeline "${name}"`);
      if (steps.length === 0) {
        throw fail(undefined, "a pipeline needs at least one step; add one with .step(name, fn)");
      }
      const definitions: StepDefinition[] = steps.map((s) => definitionOf(s, s.name));
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
      app.built.set(name, { steps: frozen, defaults });
      return {
        name,
        steps: Object.freeze(definitions),
        run: (input: unknown, options?: RunOptions) => {
          app.assertOpen(`run pipeline "${name}"`);
          return executeRun(app, name, frozen, input, options, defaults) as Promise<RunReport<any, any>>;
        },
      };
    },
  };
  return builder as unknown as PipelineBuilder<any, any, any>;
}

/** Where a sub-pipeline builder keeps its steps (read by the enclosing builder). */
const SUB_STEPS: unique symbol = Symbol("tapline.steps");

/** What `pipelineBuild` taps see of a unit: its path, kind, options, and its children's definitions. */
function definitionOf(def: UnitDef, path: string): StepDefinition {
  const children = childDefs(def, path);
  return Object.freeze({
    name: def.name,
    path,
    kind: def.kind,
    options: def.options,
    ...(children && { children: Object.freeze(children) }),
  });
}

function childDefs(def: UnitDef, path: string): StepDefinition[] | undefined {
  switch (def.kind) {
    case "step":
      return undefined;
    case "parallel":
      return def.branches.map((b) => definitionOf(b, `${path}.${b.name}`));
    case "map":
      return [definitionOf(def.unit, `${path}[]`)];
    case "branch":
      return [...def.cases.values()].map((c) => definitionOf(c, `${path}.${c.name}`));
    case "chain":
      return def.steps.map((s) => definitionOf(s, `${path}.${s.name}`));
  }
}

/** A function step, its options checked. */
function leaf(
  app: BuilderApp,
  pipeline: string,
  top: string,
  name: string,
  fn: unknown,
  options: unknown,
): LeafDef {
  const where = top === name ? top : `${top}.${name}`;
  const fail = (message: string, issues?: readonly OptionIssue[]) =>
    new PipelineDefinitionError({ pipeline, step: where, why: message, issues: issues ?? [] });
  if (typeof fn !== "function")
    throw fail(`the step must be a function (input, ctx) => output, got ${typeof fn}`);
  checkStepOptions(app, fail, options);
  return {
    kind: "step",
    name,
    fn: fn as LeafDef["fn"],
    options: Object.freeze({ ...(options as StepOptions) }),
  };
}

const CORE_STEP_OPTIONS = new Set(["timeout", "labels", "description", "estimate"]);

function checkStepOptions(
  app: BuilderApp,
  fail: (message: string, issues?: readonly OptionIssue[]) => PipelineDefinitionError,
  options: unknown,
): void {
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
  const { estimate } = options as StepOptions;
  if (estimate !== undefined && typeof estimate !== "function") {
    if (!estimate || typeof estimate !== "object" || Array.isArray(estimate))
      throw fail(
        'option "estimate" must be an object of amounts by cost unit ({ usd: 0.01 }) or a function of the input',
      );
    for (const [unit, amount] of Object.entries(estimate)) {
      if (!(typeof amount === "number" && Number.isFinite(amount) && amount >= 0))
        throw fail(`option "estimate.${unit}" must be a finite number >= 0, got ${String(amount)}`);
    }
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
