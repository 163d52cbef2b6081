import { isTaplineError } from "@tapline/core";

/**
 * What a failure means:
 * - `retryable`: transient; retry it, and breakers count it as a failure;
 * - `nonRetryable`: retrying will not help, but it is a failure of the dependency (breakers count it);
 * - `ignored`: not the dependency's fault (a 400, a cancellation): not retried, not counted by breakers.
 */
export type Classification = "retryable" | "nonRetryable" | "ignored";

/** A classifier: returns a classification, or `undefined` to let the next one decide. */
export type Classifier = (error: unknown) => Classification | undefined;

const NON_RETRYABLE: unique symbol = Symbol.for("@tapline/plugin-retry/nonRetryable");

/** Wraps a thrown primitive so it can carry the non-retryable mark. */
class NonRetryableValue extends Error {
  readonly value: unknown;
  constructor(value: unknown) {
    super(`non-retryable: ${String(value)}`, { cause: value });
    this.name = "NonRetryableValue";
    this.value = value;
  }
}

/**
 * Marks an error as not worth retrying: policies give up at once (breakers still count it). Returns the same
 * object (marked) so you can `throw nonRetryable(err)`; a thrown primitive is wrapped in an Error.
 *
 * @example
 * if (res.status === 401) throw nonRetryable(new Error("bad API key"));
 */
export function nonRetryable<E>(error: E): E extends object ? E : Error {
  const target = error !== null && typeof error === "object" ? error : new NonRetryableValue(error);
  try {
    Object.defineProperty(target, NON_RETRYABLE, { value: true, enumerable: false, configurable: true });
  } catch {
    // A frozen object cannot be marked: wrap it.
    const wrapped = new NonRetryableValue(error);
    Object.defineProperty(wrapped, NON_RETRYABLE, { value: true });
    return wrapped as never;
  }
  return target as never;
}

/** True for an error marked with {@link nonRetryable}. */
export const isNonRetryable = (error: unknown): boolean =>
  !!error && typeof error === "object" && (error as Record<symbol, unknown>)[NON_RETRYABLE] === true;

/** HTTP and AI-provider statuses worth retrying (529: Anthropic "overloaded"; 520-524: Cloudflare origin errors). */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529]);

/** Network error codes (Node's and undici's) worth retrying. */
const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "ESOCKETTIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** Messages of fetch's network `TypeError` in Node (undici), Chrome, Firefox and Safari. */
const FETCH_MESSAGES = [
  "fetch failed",
  "failed to fetch",
  "networkerror when attempting to fetch resource",
  "load failed",
  "network request failed",
  "terminated",
];

/** Reads an HTTP status from the shapes SDKs use: `status`, `statusCode`, `response.status`, `$metadata.httpStatusCode`. */
export function httpStatusOf(error: unknown): number | undefined {
  if (!error || typeof error !== "object") return undefined;
  const e = error as {
    status?: unknown;
    statusCode?: unknown;
    response?: { status?: unknown };
    $metadata?: { httpStatusCode?: unknown };
  };
  for (const v of [e.status, e.statusCode, e.response?.status, e.$metadata?.httpStatusCode]) {
    if (typeof v === "number" && Number.isInteger(v) && v >= 100 && v <= 599) return v;
  }
  return undefined;
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && RETRYABLE_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True for fetch's network failure: a `TypeError` whose message is one the runtimes use, or with a network cause. */
export function isFetchNetworkError(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  const message = error.message.toLowerCase();
  return FETCH_MESSAGES.some((m) => message.startsWith(m)) || networkCode(error.cause) !== undefined;
}

/**
 * The built-in classifier for HTTP services and AI providers. In order: the {@link nonRetryable} mark;
 * core's `StepValidationError` by its `retryable` field; this package's own errors and a suspended run
 * (`ctx.suspend()`: ignored); HTTP statuses
 * (408/425/429/5xx-transient/529 retryable, other 5xx non-retryable, other 4xx ignored); network codes
 * (ECONNRESET, ETIMEDOUT, undici's...) and fetch's network `TypeError`: retryable; `AbortError`: ignored;
 * programming errors (`TypeError`, `RangeError`, `ReferenceError`, `SyntaxError`): non-retryable;
 * anything else: retryable.
 */
export function classifyError(error: unknown): Classification {
  if (isNonRetryable(error)) return "nonRetryable";
  if (isTaplineError(error, "TAPLINE_ERR_STEP_VALIDATION"))
    return error.retryable ? "retryable" : "nonRetryable";
  if (isTaplineError(error, "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT")) return "retryable";
  if (isTaplineError(error, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")) return "ignored";
  // ctx.suspend(): the run waits for a person; retrying is pointless and the dependency did nothing wrong.
  if (isTaplineError(error, "TAPLINE_ERR_RUN_SUSPENDED")) return "ignored";
  if (isTaplineError(error, "TAPLINE_ERR_RETRY_DEADLINE")) return "nonRetryable";
  const status = httpStatusOf(error);
  if (status !== undefined) {
    if (RETRYABLE_STATUS.has(status)) return "retryable";
    if (status >= 500) return "nonRetryable";
    if (status >= 400) return "ignored";
  }
  if (networkCode(error) !== undefined) return "retryable";
  if (error instanceof Error) {
    if (error.name === "AbortError") return "ignored";
    if (error.name === "TimeoutError") return "retryable";
    if (error instanceof TypeError) return isFetchNetworkError(error) ? "retryable" : "nonRetryable";
    if (error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError)
      return "nonRetryable";
  }
  return "retryable";
}
