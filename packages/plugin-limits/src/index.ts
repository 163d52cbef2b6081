/**
 * `@tapline/plugin-limits`: concurrency limits (bulkheads), rate limits per key (requests and cost units per
 * window, exact under a sliding log) and concurrencies that follow a gauge, for Tapline units or any function.
 */
export type { Duration } from "./duration.ts";
export {
  LimitCostTooLargeError,
  LimitKeyError,
  LimitQueueFullError,
  LimitQueueTimeoutError,
  LimitWaitExceededError,
} from "./errors.ts";
export {
  bulkhead,
  createLimiter,
  type KeyLimiter,
  type KeyLimiterOptions,
  type Limiter,
  type LimitKeyStats,
  type LimitRunOptions,
  rateLimit,
} from "./limiter.ts";
export type {
  Costs,
  GaugeConcurrency,
  LimitClock,
  LimiterOptions,
  LimitKeyOptions,
  LimitStepOption,
  LimitStepOptions,
  RateWindow,
} from "./options.ts";
export { type LimitsPluginOptions, type LimitsReport, limits } from "./plugin.ts";
export { type SpendBudgetOptions, type SpendWindow, WindowBudgetExceededError } from "./spend-window.ts";
export {
  createMemoryStore,
  type LimitStore,
  type RateWindowSpec,
  type StoreRateWindows,
  type StoreSemaphore,
} from "./store.ts";
