import type {
  AppClosedError,
  BudgetExceededError,
  CancelledError,
  NoDurableStoreError,
  PipelineDefinitionError,
  PluginError,
  PluginRegistrationError,
  ResumePipelineError,
  RunNotFoundError,
  RunNotSuspendedError,
  RunSuspendedError,
  StepTimeoutError,
  StepValidationError,
} from "./errors.ts";
import type { MapItemsError, NoSuchCaseError, SiblingFailedError } from "./internal/composite.ts";
import type { OptionsError } from "./options.ts";

/**
 * One error mechanism for every Tapline package (fastify's `createError`): one line per error makes its class,
 * its stable `code`, its name and its message; the error's parameters become typed, read-only fields. One
 * guard, {@link isTaplineError}, checks the brand and the code, so it keeps working when two copies of a
 * package end up in one install, where `instanceof` does not.
 */

/**
 * The error types by code, for {@link isTaplineError}'s narrowing: core's codes, and each package adds its own
 * by module augmentation, as plugins add step options:
 *
 * @example
 * declare module "@tapline/core" {
 *   interface TaplineErrorMap { TAPLINE_ERR_COST_OVER: InstanceType<typeof CostOverError> }
 * }
 */
export interface TaplineErrorMap {
  TAPLINE_ERR_PLUGIN_INVALID: PluginRegistrationError;
  TAPLINE_ERR_PLUGIN_DUPLICATE: PluginRegistrationError;
  TAPLINE_ERR_PLUGIN_CORE_VERSION: PluginRegistrationError;
  TAPLINE_ERR_PLUGIN_DEPENDENCY: PluginRegistrationError;
  TAPLINE_ERR_PLUGIN_OPTIONS: PluginRegistrationError;
  TAPLINE_ERR_PLUGIN_SETUP: PluginRegistrationError;
  TAPLINE_ERR_PLUGIN_HOOK: PluginError;
  TAPLINE_ERR_PIPELINE_DEFINITION: PipelineDefinitionError;
  TAPLINE_ERR_STEP_VALIDATION: StepValidationError;
  TAPLINE_ERR_STEP_TIMEOUT: StepTimeoutError;
  TAPLINE_ERR_CANCELLED: CancelledError;
  TAPLINE_ERR_APP_CLOSED: AppClosedError;
  TAPLINE_ERR_BUDGET_EXCEEDED: BudgetExceededError;
  TAPLINE_ERR_OPTIONS: OptionsError;
  TAPLINE_ERR_SIBLING_FAILED: InstanceType<typeof SiblingFailedError>;
  TAPLINE_ERR_BRANCH_NO_CASE: InstanceType<typeof NoSuchCaseError>;
  TAPLINE_ERR_MAP_ITEMS: InstanceType<typeof MapItemsError>;
  TAPLINE_ERR_RUN_SUSPENDED: RunSuspendedError;
  TAPLINE_ERR_NO_DURABLE_STORE: NoDurableStoreError;
  TAPLINE_ERR_RUN_NOT_FOUND: RunNotFoundError;
  TAPLINE_ERR_RUN_NOT_SUSPENDED: RunNotSuspendedError;
  TAPLINE_ERR_RESUME_PIPELINE: ResumePipelineError;
}

/** Base class of every error a Tapline package throws: a brand and a stable `code` (`TAPLINE_ERR_*`). */
export class TaplineError<C extends string = string> extends Error {
  /** The brand the guard checks (survives two copies of a package). */
  readonly isTaplineError = true as const;
  /** Stable code, listed in docs/errors.md. */
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TaplineError";
    this.code = code;
  }
}

/**
 * True for an error raised by any Tapline package, whichever copy of it made the error; with a code (or a
 * list of codes), true only for those, narrowed to that error's fields.
 *
 * @example
 * if (isTaplineError(report.error, "TAPLINE_ERR_STEP_TIMEOUT")) console.log(report.error.timeoutMs);
 */
export function isTaplineError(e: unknown): e is TaplineError;
export function isTaplineError<C extends keyof TaplineErrorMap>(
  e: unknown,
  code: C | readonly C[],
): e is TaplineErrorMap[C];
export function isTaplineError<C extends string>(e: unknown, code: C | readonly C[]): e is TaplineError<C>;
export function isTaplineError(e: unknown, code?: string | readonly string[]): boolean {
  if (!e || typeof e !== "object" || !("isTaplineError" in e)) return false;
  const actual = (e as { code?: unknown }).code;
  if (typeof actual !== "string") return false;
  if (code === undefined) return true;
  return typeof code === "string" ? actual === code : code.includes(actual);
}

/** Arguments of an error made by {@link createError}: its parameters (omitted when it has none), then `{ cause }`. */
export type ErrorArgs<P> = {} extends P
  ? [params?: P, options?: { cause?: unknown }]
  : [params: P, options?: { cause?: unknown }];

/** An error class made by {@link createError}. */
export interface TaplineErrorClass<C extends string, P extends object> {
  new (...args: ErrorArgs<P>): TaplineError<C> & Readonly<P>;
  readonly prototype: TaplineError<C>;
  /** The code every instance carries. */
  readonly code: C;
  /** What to do about it, for docs/errors.md. */
  readonly hint: string;
}

const RESERVED = new Set(["message", "name", "code", "stack", "cause", "isTaplineError"]);

/**
 * Makes an error class from one line: its code, its name, its message from its parameters, and a hint (what
 * to do, for the docs). The parameters become fields of the error; a `cause` parameter becomes the error's
 * `cause` too.
 *
 * @example
 * export const StepTimeoutError = createError(
 *   "TAPLINE_ERR_STEP_TIMEOUT", "StepTimeoutError",
 *   (p: { step: string; timeoutMs: number }) => `step "${p.step}" timed out after ${p.timeoutMs} ms`,
 *   "raise the step's timeout option, or speed the step up",
 * );
 * throw new StepTimeoutError({ step: "tts", timeoutMs: 60_000 });
 */
export function createError<C extends string, P extends object = {}>(
  code: C,
  name: string,
  message: (params: P) => string,
  hint = "",
): TaplineErrorClass<C, P> {
  class MadeError extends TaplineError<C> {
    static readonly code = code;
    static readonly hint = hint;
    constructor(params?: P, options?: { cause?: unknown }) {
      const p = (params ?? {}) as P;
      const cause = options && "cause" in options ? options.cause : (p as { cause?: unknown }).cause;
      super(
        code,
        message(p),
        cause === undefined && !(options && "cause" in options) ? undefined : { cause },
      );
      this.name = name;
      for (const key of Object.keys(p)) {
        if (!RESERVED.has(key)) (this as Record<string, unknown>)[key] = (p as Record<string, unknown>)[key];
      }
    }
  }
  Object.defineProperty(MadeError, "name", { value: name });
  return MadeError as unknown as TaplineErrorClass<C, P>;
}
