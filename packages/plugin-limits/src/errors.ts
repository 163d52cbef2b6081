import { createError } from "@tapline/core";

/**
 * Every error this package throws, made with core's `createError` (a brand and a stable code, so
 * `isTaplineError(e, "TAPLINE_ERR_LIMITS_QUEUE_TIMEOUT")` narrows to the fields below across two copies of
 * the package). Listed in docs/errors.md.
 */

/** A key's concurrency queue was full: the unit was turned away without waiting. */
export const LimitQueueFullError = createError(
  "TAPLINE_ERR_LIMITS_QUEUE_FULL",
  "LimitQueueFullError",
  (p: { key: string; queue: number; concurrency: number; inFlight: number }) =>
    `limit "${p.key}" is full: ${p.inFlight} in flight (concurrency ${p.concurrency}) and ${p.queue} waiting, the most its queue holds`,
  "raise the key's `queue` (or its concurrency), or send less work at once",
);

/** A unit waited for a concurrency slot longer than the key's `queueTimeout`. */
export const LimitQueueTimeoutError = createError(
  "TAPLINE_ERR_LIMITS_QUEUE_TIMEOUT",
  "LimitQueueTimeoutError",
  (p: { key: string; waitedMs: number; queueTimeout: number; queued: number; concurrency: number }) =>
    `limit "${p.key}": no slot after waiting ${Math.round(p.waitedMs)} ms (queueTimeout ${p.queueTimeout} ms; concurrency ${p.concurrency}, ${p.queued} still waiting)`,
  "raise the key's `queueTimeout` or its concurrency, or make the units holding the key faster",
);

/** A unit would have had to wait for a rate limit (or a 429 pause) longer than the key's `maxWait`. */
export const LimitWaitExceededError = createError(
  "TAPLINE_ERR_LIMITS_WAIT_EXCEEDED",
  "LimitWaitExceededError",
  (p: { key: string; waitedMs: number; neededMs: number; maxWait: number; window: string }) =>
    `limit "${p.key}": the ${p.window} would need ${Math.round(p.waitedMs + p.neededMs)} ms of waiting, over maxWait ${p.maxWait} ms (waited ${Math.round(p.waitedMs)} ms)`,
  "raise the key's `maxWait`, raise its rate if the provider allows, or spread the work over more time",
);

/** One unit's cost is larger than a window's whole limit: it could never be admitted. */
export const LimitCostTooLargeError = createError(
  "TAPLINE_ERR_LIMITS_COST_TOO_LARGE",
  "LimitCostTooLargeError",
  (p: { key: string; unit: string; cost: number; limit: number }) =>
    `limit "${p.key}": one unit costs ${p.cost} ${p.unit}, more than the ${p.limit} ${p.unit} its window allows`,
  "split the unit's work (shorter texts, fewer tokens), or raise the window's limit",
);

/** A step named a key the limiter does not declare, or the limiter was used after `close()`. */
export const LimitKeyError = createError(
  "TAPLINE_ERR_LIMITS_KEY",
  "LimitKeyError",
  (p: { key: string; known: readonly string[]; closed?: boolean }) =>
    p.closed
      ? `limit "${p.key}": the limiter is closed (the app was closed while the unit waited or started)`
      : `unknown limit key "${p.key}"; declared keys: ${p.known.length ? p.known.join(", ") : "none"} (add it to limits({ keys }))`,
  "declare the key in limits({ keys }) / createLimiter({ keys }), or don't use the limiter after close()",
);

/** A shared store (Redis) could not answer for a key: the unit does not start, rather than run unlimited. */
export const LimitStoreError = createError(
  "TAPLINE_ERR_LIMITS_STORE",
  "LimitStoreError",
  (p: { key: string; operation: "slot" | "rate"; reason: string }) =>
    `limit "${p.key}": the shared limit store could not ${p.operation === "slot" ? "take a concurrency slot" : "take room in the rate windows"} (${p.reason}); the unit did not start`,
  "check that Redis is up and reachable (the store's `status` and the app's status say why); while it is away, units of shared keys fail instead of running unlimited, and plugin-retry may retry them",
);

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_LIMITS_QUEUE_FULL: InstanceType<typeof LimitQueueFullError>;
    TAPLINE_ERR_LIMITS_QUEUE_TIMEOUT: InstanceType<typeof LimitQueueTimeoutError>;
    TAPLINE_ERR_LIMITS_WAIT_EXCEEDED: InstanceType<typeof LimitWaitExceededError>;
    TAPLINE_ERR_LIMITS_COST_TOO_LARGE: InstanceType<typeof LimitCostTooLargeError>;
    TAPLINE_ERR_LIMITS_KEY: InstanceType<typeof LimitKeyError>;
    TAPLINE_ERR_LIMITS_STORE: InstanceType<typeof LimitStoreError>;
  }
}
