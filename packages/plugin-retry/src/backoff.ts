import { checkOptions } from "@tapline/core/kit";
import type { RandomSource } from "./clock.ts";
import { RetryConfigError } from "./errors.ts";
import { BackoffDataSchema } from "./schemas.ts";

/**
 * How a delay is randomised (AWS "Exponential Backoff and Jitter" names), with `v` the nominal delay:
 * - `none`: `v`
 * - `full`: uniform in `[0, v)`
 * - `equal`: `v/2` plus uniform in `[0, v/2)`
 * - `decorrelated`: uniform in `[base, previous × 3)`, capped; ignores `factor`/`increment`
 */
export type JitterKind = "none" | "full" | "equal" | "decorrelated";

/** `base × factor^(attempt-1)`, capped by `maxDelay`. */
export interface ExponentialBackoffOptions {
  kind: "exponential";
  /** First delay in ms, > 0. Default 200. */
  base?: number;
  /** Growth factor, ≥ 1. Default 2. */
  factor?: number;
  /** Cap in ms, ≥ base. Default 30,000. */
  maxDelay?: number;
  /** Default `"decorrelated"`. */
  jitter?: JitterKind;
}

/** `base + increment × (attempt-1)`, capped by `maxDelay`. */
export interface LinearBackoffOptions {
  kind: "linear";
  /** First delay in ms, ≥ 0. Default 200. */
  base?: number;
  /** Added per attempt, ≥ 0. Default `base`. */
  increment?: number;
  /** Cap in ms, ≥ base. Default 30,000. */
  maxDelay?: number;
  /** Default `"none"`. */
  jitter?: JitterKind;
}

/** The same delay every time. */
export interface ConstantBackoffOptions {
  kind: "constant";
  /** Delay in ms, ≥ 0. Default 200. */
  delay?: number;
  /** Default `"none"`. */
  jitter?: JitterKind;
}

/** A built-in backoff, as plain data (serialisable, so it fits per-step options). */
export type BackoffOptions = ExponentialBackoffOptions | LinearBackoffOptions | ConstantBackoffOptions;

/** @internal A validated backoff: computes the delay after a failed attempt, with no Effect runtime involved. */
export interface CompiledBackoff {
  readonly kind: BackoffOptions["kind"];
  readonly base: number;
  readonly factor: number;
  readonly increment: number;
  readonly maxDelay: number;
  readonly jitter: JitterKind;
}

/**
 * @internal Brand carried by the schedules of `@tapline/plugin-retry/effect`, so policies compute their delays
 * without entering the Effect runtime. `Symbol.for`, so two copies of the package still recognise each other.
 */
export const BACKOFF: unique symbol = Symbol.for("@tapline/plugin-retry/backoff");

const DEFAULT_MAX = 30_000;

/** @internal Compiles a backoff already checked by `BackoffDataSchema`, filling in the defaults. */
export function compileBackoff(spec: BackoffOptions): CompiledBackoff {
  switch (spec.kind) {
    case "exponential": {
      const base = spec.base ?? 200;
      const maxDelay = spec.maxDelay ?? Math.max(DEFAULT_MAX, base);
      const jitter = spec.jitter ?? "decorrelated";
      return { kind: "exponential", base, factor: spec.factor ?? 2, increment: 0, maxDelay, jitter };
    }
    case "linear": {
      const base = spec.base ?? 200;
      const maxDelay = spec.maxDelay ?? Math.max(DEFAULT_MAX, base);
      const increment = spec.increment ?? base;
      return { kind: "linear", base, factor: 1, increment, maxDelay, jitter: spec.jitter ?? "none" };
    }
    case "constant": {
      const delay = spec.delay ?? 200;
      return {
        kind: "constant",
        base: delay,
        factor: 1,
        increment: 0,
        maxDelay: delay,
        jitter: spec.jitter ?? "none",
      };
    }
  }
}

/**
 * @internal
 * The delay in ms before attempt `attempt + 1`, after attempt `attempt` (from 1) failed. `previous` is the
 * previous delay (0 before the first), used by decorrelated jitter. Always finite, ≥ 0 and ≤ maxDelay.
 */
export function nextDelay(
  b: CompiledBackoff,
  attempt: number,
  previous: number,
  random: RandomSource,
): number {
  const max = b.maxDelay;
  let nominal: number;
  if (b.kind === "exponential") {
    // factor^(n-1) overflows to Infinity past ~1,000 attempts; min() keeps it at the cap (never NaN: base > 0).
    nominal = Math.min(max, b.base * b.factor ** (attempt - 1));
  } else if (b.kind === "linear") {
    nominal = Math.min(max, b.base + b.increment * (attempt - 1));
  } else nominal = b.base;
  if (!(nominal <= max)) nominal = max; // NaN guard
  switch (b.jitter) {
    case "none":
      return nominal;
    case "full":
      return clamp(random() * nominal, max);
    case "equal":
      return clamp(nominal / 2 + (random() * nominal) / 2, max);
    case "decorrelated": {
      const prev = previous > 0 ? previous : b.base;
      const upper = Math.min(max, prev * 3);
      return clamp(b.base + random() * (upper - b.base), max);
    }
  }
}

function clamp(value: number, max: number): number {
  if (!(value >= 0)) return 0;
  return Math.min(value, max);
}

/** @internal The compiled backoff of a schedule made by this package, if it is one. */
export function builtinOf(schedule: unknown): CompiledBackoff | undefined {
  return (schedule as { readonly [BACKOFF]?: CompiledBackoff } | undefined)?.[BACKOFF];
}

/**
 * @internal Checks the options of a backoff constructor (`exponentialBackoff()`...) once, and compiles them.
 * Throws `RetryConfigError` naming the constructor and every bad option.
 */
export function validateBackoff(
  spec: BackoffOptions,
  random: unknown,
  name: string,
): { compiled: CompiledBackoff; random: RandomSource } {
  const result = checkOptions(BackoffDataSchema, spec);
  const issues = [...(result.issues ?? [])];
  if (random !== undefined && typeof random !== "function")
    issues.push({ path: "random", message: "must be a function () => number in [0, 1)", value: random });
  if (issues.length > 0) throw new RetryConfigError({ subject: `${name}()`, issues });
  return {
    compiled: compileBackoff(result.value!),
    random: (random as RandomSource | undefined) ?? Math.random,
  };
}
