import * as v from "valibot";
import { parseDuration } from "./duration.ts";
import type { KeyLimiterOptions } from "./limiter.ts";
import type {
  GaugeConcurrency,
  LimitClock,
  LimiterOptions,
  LimitKeyOptions,
  LimitStepOption,
  LimitStepOptions,
  RateWindow,
} from "./options.ts";
import type { LimitsPluginOptions } from "./plugin.ts";
import type { SpendBudgetOptions } from "./spend-window.ts";
import type { LimitStore } from "./store.ts";

// Every option schema of the package (core's one mechanism: valibot strictObject, so an unknown key is a
// did-you-mean issue). Typed against the interfaces users read (options.ts has no valibot), so published
// declarations never mention valibot. @internal, all of them.

const fn = (what: string) => v.custom<(...args: any[]) => any>((x) => typeof x === "function", what);
const positive = v.pipe(v.number(), v.finite("must be a finite number"), v.gtValue(0, "must be > 0"));
const nonNegative = v.pipe(v.number(), v.finite("must be a finite number"), v.minValue(0, "must be ≥ 0"));
const wholeFrom = (min: number) =>
  v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(min, `must be ≥ ${min}`));
const duration = v.custom<RateWindow["per"]>(
  (x) => parseDuration(x) !== undefined,
  'must be a duration: ms (a number ≥ 0) or text such as "500ms", "30s", "1m", "1h"',
);
const positiveDuration = v.pipe(
  duration,
  v.check((x) => parseDuration(x)! > 0, "must be a duration > 0"),
);
const name = v.pipe(v.string(), v.minLength(1, "must be a non-empty string"));

const RateWindowSchema = v.strictObject({
  limit: positive,
  per: positiveDuration,
  unit: v.optional(name),
}) satisfies v.GenericSchema<RateWindow>;

const GaugeSchema = v.pipe(
  v.strictObject({
    gauge: v.strictObject({ name, labels: v.optional(v.record(v.string(), v.string())) }),
    per: v.optional(positive),
    min: v.optional(nonNegative),
    max: v.optional(positive),
    initial: v.optional(nonNegative),
  }),
  v.forward(
    v.check((g) => g.max === undefined || g.max >= (g.min ?? 0), "must be ≥ min"),
    ["max"],
  ),
) satisfies v.GenericSchema<GaugeConcurrency>;

const KeyEntries = {
  concurrency: v.optional(v.lazy((x) => (typeof x === "object" && x !== null ? GaugeSchema : positive))),
  queue: v.optional(wholeFrom(0)),
  queueTimeout: v.optional(positiveDuration),
  rate: v.optional(
    v.lazy((x) =>
      Array.isArray(x)
        ? v.pipe(v.array(RateWindowSchema), v.minLength(1, "needs a window"))
        : RateWindowSchema,
    ),
  ),
  maxWait: v.optional(duration),
  pauseOn429: v.optional(v.boolean()),
};
const needsALimit = <T extends { concurrency?: unknown; rate?: unknown }>() =>
  v.check<T, string>(
    (k) => k.concurrency !== undefined || k.rate !== undefined,
    "a key needs a concurrency, a rate, or both",
  );
const KeySchema = v.pipe(
  v.strictObject(KeyEntries),
  needsALimit(),
) satisfies v.GenericSchema<LimitKeyOptions>;

const StoreSchema = v.custom<LimitStore>(
  (s) =>
    typeof (s as LimitStore | null)?.semaphore === "function" &&
    typeof (s as LimitStore).rateWindows === "function",
  "must be a LimitStore (semaphore(key) and rateWindows(key, windows))",
);
const ClockSchema = v.custom<LimitClock>((c) => {
  const clock = c as Partial<LimitClock> | null;
  return (
    typeof clock?.now === "function" &&
    typeof clock.setTimeout === "function" &&
    typeof clock.clearTimeout === "function"
  );
}, "must have now(), setTimeout() and clearTimeout()");

/** @internal Options of createLimiter() and of the limits() plugin. */
export const LimiterSchema: v.GenericSchema<LimiterOptions> = v.strictObject({
  keys: v.pipe(
    v.record(name, KeySchema),
    v.check((k) => Object.keys(k).length > 0, "declare at least one key"),
  ),
  store: v.optional(StoreSchema),
  clock: v.optional(ClockSchema),
});

const WindowLimits = v.pipe(
  v.record(name, positive),
  v.check((c) => Object.keys(c).length > 0, "name at least one cost unit: { usd: 20 }"),
);
const SpendBudgetSchema = v.strictObject({
  hourly: v.optional(WindowLimits),
  daily: v.optional(WindowLimits),
  monthly: v.optional(WindowLimits),
  timeZone: v.optional(
    v.pipe(
      name,
      v.check((tz) => {
        try {
          new Intl.DateTimeFormat("en", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone ("UTC", "Europe/Paris")'),
    ),
  ),
}) satisfies v.GenericSchema<SpendBudgetOptions>;

/** @internal Options of the limits() plugin: keys, or a window budget, or both. */
export const LimitsPluginSchema: v.GenericSchema<LimitsPluginOptions> = v.pipe(
  v.strictObject({
    keys: v.optional(v.record(name, KeySchema)),
    budget: v.optional(
      v.pipe(
        SpendBudgetSchema,
        v.check(
          (b) => b.hourly !== undefined || b.daily !== undefined || b.monthly !== undefined,
          "needs a window: hourly, daily or monthly",
        ),
      ),
    ),
    store: v.optional(StoreSchema),
    clock: v.optional(ClockSchema),
  }),
  v.check(
    (o) => Object.keys(o.keys ?? {}).length > 0 || o.budget !== undefined,
    "declare at least one key, or a budget",
  ),
);

/** @internal One key's options alone (bulkhead(), rateLimit()). */
export const KeyOptionsSchema: v.GenericSchema<KeyLimiterOptions> = v.pipe(
  v.strictObject({
    ...KeyEntries,
    name: v.optional(name),
    store: v.optional(StoreSchema),
    clock: v.optional(ClockSchema),
  }),
  needsALimit(),
);

const costs = v.record(v.string(), nonNegative);
const isFn = (x: unknown) => typeof x === "function";
const LimitObjectSchema = v.strictObject({
  key: v.lazy((x) => (isFn(x) ? fn("") : name)),
  weight: v.optional(v.lazy((x) => (isFn(x) ? fn("") : positive))),
  cost: v.optional(v.lazy((x) => (isFn(x) ? fn("") : costs))),
});
const ONE = "must be a key name, { key, weight?, cost? }, or a list of them";
const OneLimitSchema = v.lazy((x) =>
  typeof x === "object" && x !== null
    ? LimitObjectSchema
    : v.pipe(v.string(ONE), v.minLength(1, "must be a non-empty key name")),
) satisfies v.GenericSchema<string | LimitStepOptions>;

/** @internal The `limit` step option. */
export const LimitStepSchema = v.lazy((x) =>
  Array.isArray(x)
    ? v.pipe(v.array(OneLimitSchema), v.minLength(1, "must name at least one key"))
    : OneLimitSchema,
) satisfies v.GenericSchema<LimitStepOption>;
