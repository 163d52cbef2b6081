import type { StepContext, StepOptions } from "../events.ts";

/**
 * @internal
 * The definition of one unit of work: a step (a function), or a shape whose children are units (parallel
 * branches, map items, branch cases, the steps of a sub-pipeline). Every unit runs with its own context and
 * its own step hooks, so plugins never learn the shape.
 */
export type UnitDef = LeafDef | ParallelDef | MapDef | BranchDef | ChainDef;

interface BaseDef {
  /** The name in its parent: a step name, a branch or case key; `[]` for a map's item unit. */
  readonly name: string;
  readonly options: Readonly<StepOptions>;
}

/** @internal A function step. */
export interface LeafDef extends BaseDef {
  readonly kind: "step";
  readonly fn: (input: any, ctx: StepContext<any>) => unknown;
}

/** @internal Branches run side by side; the output is an object of their outputs. */
export interface ParallelDef extends BaseDef {
  readonly kind: "parallel";
  readonly branches: readonly UnitDef[];
}

/** @internal The item unit runs once per item, at most `concurrency` at a time; the output keeps input order. */
export interface MapDef extends BaseDef {
  readonly kind: "map";
  readonly items: (input: any, ctx: StepContext<any>) => unknown;
  readonly unit: UnitDef;
  readonly concurrency: number;
  readonly onItemError: "fail" | "collect";
}

/** @internal `select` names the case that runs; its output is the step's. */
export interface BranchDef extends BaseDef {
  readonly kind: "branch";
  readonly select: (input: any, ctx: StepContext<any>) => unknown;
  readonly cases: ReadonlyMap<string, UnitDef>;
}

/** @internal A sub-pipeline: its steps run in order, each one's output the next one's input. */
export interface ChainDef extends BaseDef {
  readonly kind: "chain";
  readonly steps: readonly UnitDef[];
}

/** @internal Backwards name: the executor's top-level steps are units. */
export type StepDef = UnitDef;
