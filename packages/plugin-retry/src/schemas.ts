import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import * as v from "valibot";
import type {
  BackoffOptions,
  ConstantBackoffOptions,
  ExponentialBackoffOptions,
  JitterKind,
  LinearBackoffOptions,
} from "./backoff.ts";
import type { BreakerSnapshot, CircuitBreaker, CircuitBreakerOptions, OpenDuration } from "./breaker.ts";
import type { Classifier } from "./classify.ts";
import type { Clock, RandomSource } from "./clock.ts";
import type { EffectSchedule } from "./effect-schedule.ts";
import { BREAKER_STATES, JITTER_KINDS, type SameUnion } from "./internal/lists.ts";
import type { KeyedBreakerOptions } from "./keyed.ts";
import type { GiveUpEvent, RetryOptions, RetryScheduledEvent } from "./options.ts";
import type { RetryPluginOptions, RetryStepOptions } from "./plugin.ts";
import type { BreakerStore } from "./store.ts";
import type { SlowCallOptions, TripPolicy } from "./trip.ts";

/**
 * @internal
 * Every option of this package as a valibot schema: the one mechanism core explains (path, value, expected,
 * closest key). Schemas only validate; defaults are applied once, by the normalisers, when a policy, breaker
 * or plugin is built. Each schema is typed against the exported interface, so the interfaces (and their
 * JSDoc) stay the public contract and published types never mention valibot.
 */

// ---- Building blocks -------------------------------------------------------------------------------------

const fn = <T>(what: string) => v.custom<T>((x) => typeof x === "function", `must be a function ${what}`);

const finiteMs = v.pipe(v.number(), v.finite("must be a finite number of ms"));
/** A finite number of ms > 0. */
const positiveMs = v.pipe(finiteMs, v.gtValue(0, "must be a number of ms > 0"));
/** A finite number of ms ≥ 0. */
const nonNegativeMs = v.pipe(finiteMs, v.minValue(0, "must be a number of ms ≥ 0"));
/** A whole number ≥ 1 (finite). */
const count = v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1, "must be ≥ 1"));
const countUpTo = (max: number) => v.pipe(count, v.maxValue(max, `must be ≤ ${max}`));
/** A ratio in (0, 1]. */
const ratio = v.pipe(v.number(), v.gtValue(0, "must be a ratio > 0"), v.maxValue(1, "must be a ratio ≤ 1"));

/** The path item valibot gives a nested key, so a cross-field issue lands on the field at fault. */
const at = (input: object, key: string): [v.IssuePathItem] => [
  {
    type: "object",
    origin: "value",
    input: input as Record<string, unknown>,
    key,
    value: (input as Record<string, unknown>)[key],
  },
];

/** Keeps a schema's own type (variants need it) while checking that its output fits the interface `T`. */
const typed =
  <T>() =>
  <S extends v.GenericSchema<unknown, T>>(schema: S): S =>
    schema;

// `Schedule.isSchedule` only looks for the TypeId key, which the structural `EffectSchedule` type lets any object
// carry; a real Schedule also has the step effect that `Schedule.toStep` runs, so check it here, once, rather than
// crash on the first failure.
const isSchedule = (x: unknown): x is EffectSchedule =>
  typeof x === "object" &&
  x !== null &&
  Schedule.isSchedule(x) &&
  Effect.isEffect((x as { step?: unknown }).step);

const ClockSchema = v.custom<Clock>((c) => {
  const clock = c as Partial<Clock> | null | undefined;
  return (
    typeof clock?.now === "function" &&
    typeof clock.setTimeout === "function" &&
    typeof clock.clearTimeout === "function"
  );
}, "must have now(), setTimeout() and clearTimeout()");
const RandomSchema = fn<RandomSource>("() => number in [0, 1)");
const ClassifySchema = fn<Classifier>('(error) => "retryable" | "nonRetryable" | "ignored" | undefined');

// ---- Backoff ---------------------------------------------------------------------------------------------

const Jitter: v.GenericSchema<JitterKind> = v.picklist(JITTER_KINDS);

const Exponential = typed<ExponentialBackoffOptions>()(
  v.strictObject({
    kind: v.literal("exponential"),
    base: v.optional(positiveMs),
    factor: v.optional(v.pipe(v.number(), v.finite("must be finite"), v.minValue(1, "must be ≥ 1"))),
    maxDelay: v.optional(nonNegativeMs),
    jitter: v.optional(Jitter),
  }),
);

const Linear = typed<LinearBackoffOptions>()(
  v.strictObject({
    kind: v.literal("linear"),
    base: v.optional(nonNegativeMs),
    increment: v.optional(nonNegativeMs),
    maxDelay: v.optional(nonNegativeMs),
    jitter: v.optional(Jitter),
  }),
);

const Constant = typed<ConstantBackoffOptions>()(
  v.pipe(
    v.strictObject({
      kind: v.literal("constant"),
      delay: v.optional(nonNegativeMs),
      jitter: v.optional(Jitter),
    }),
    // `base` is the other kinds' first delay; a constant backoff's is `delay` (read by core's did-you-mean).
    v.metadata({ didYouMean: { base: "delay", maxDelay: "delay" } }),
  ),
);

const BackoffKinds = v.variant("kind", [Exponential, Linear, Constant]);
// A backoff kind added to `BackoffOptions` without its schema (or the reverse) does not compile.
true satisfies SameUnion<v.InferOutput<typeof BackoffKinds>["kind"], BackoffOptions["kind"]>;

/** A built-in backoff as data; `maxDelay` may not be below `base` (default 200). */
export const BackoffDataSchema: v.GenericSchema<BackoffOptions> = v.pipe(
  BackoffKinds,
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const b = dataset.value as { kind: string; base?: number; maxDelay?: number };
    if (b.kind === "constant" || b.maxDelay === undefined) return;
    const base = b.base ?? 200;
    if (b.maxDelay < base) {
      addIssue({
        message: `must be ≥ base (${base} ms)`,
        input: b.maxDelay,
        expected: `>=${base}`,
        path: at(b, "maxDelay"),
      });
    }
  }),
);

const ScheduleSchema = v.custom<EffectSchedule>(
  isSchedule,
  "must be an Effect Schedule (made by effect's Schedule module)",
);

/** @internal `backoff`: a built-in backoff as data, or any Effect `Schedule`. */
export const BackoffSchema: v.GenericSchema<BackoffOptions | EffectSchedule> = v.lazy(
  (input): v.GenericSchema<BackoffOptions | EffectSchedule> =>
    // Anything carrying the TypeId is meant as a Schedule: say so, rather than ask it for a `kind`.
    Schedule.isSchedule(input) ? ScheduleSchema : BackoffDataSchema,
);

// ---- Trip policies and breakers --------------------------------------------------------------------------

const SlowCall: v.GenericSchema<SlowCallOptions> = v.strictObject({
  durationMs: positiveMs,
  rateThreshold: ratio,
});

const TripKinds = v.variant("kind", [
  v.strictObject({ kind: v.literal("consecutive"), threshold: count }),
  v.strictObject({
    kind: v.literal("count"),
    threshold: ratio,
    size: countUpTo(100_000),
    minimumCalls: v.optional(count),
    slowCall: v.optional(SlowCall),
  }),
  v.strictObject({
    kind: v.literal("time"),
    threshold: ratio,
    windowMs: positiveMs,
    minimumCalls: v.optional(count),
    buckets: v.optional(countUpTo(1000)),
    slowCall: v.optional(SlowCall),
  }),
]);
// A trip kind added to `TripPolicy` without its schema (or the reverse) does not compile.
true satisfies SameUnion<v.InferOutput<typeof TripKinds>["kind"], TripPolicy["kind"]>;

/** When a closed breaker opens. */
export const TripSchema: v.GenericSchema<TripPolicy> = v.pipe(
  TripKinds,
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const t = dataset.value as { kind: string; size?: number; minimumCalls?: number };
    if (t.kind === "count" && t.minimumCalls !== undefined && t.minimumCalls > t.size!) {
      addIssue({
        message: `must be ≤ size (${t.size})`,
        input: t.minimumCalls,
        expected: `<=${t.size}`,
        path: at(t, "minimumCalls"),
      });
    }
  }),
);

const OpenDurationSchema: v.GenericSchema<OpenDuration> = v.lazy(
  (input): v.GenericSchema<OpenDuration> =>
    typeof input === "number"
      ? nonNegativeMs
      : v.custom<OpenDuration>(
          (x) => typeof x === "function" || isSchedule(x),
          "must be ms, a function of the opening number, or an Effect Schedule",
        ),
);

const SnapshotSchema = v.custom<BreakerSnapshot>((s) => {
  const snap = s as Partial<BreakerSnapshot> | null;
  return (
    !!snap &&
    snap.version === 1 &&
    (BREAKER_STATES as readonly unknown[]).includes(snap.state) &&
    typeof snap.openUntil === "number" &&
    !!snap.window
  );
}, "must be a snapshot returned by breaker.snapshot() (version 1)");

const breakerEntries = {
  trip: v.optional(TripSchema),
  openDuration: v.optional(OpenDurationSchema),
  maxOpenDuration: v.optional(nonNegativeMs),
  honorRetryAfter: v.optional(v.boolean()),
  halfOpen: v.optional(
    v.strictObject({
      probes: v.optional(count),
      successThreshold: v.optional(count),
      probeTimeout: v.optional(positiveMs),
    }),
  ),
  classify: v.optional(ClassifySchema),
  store: v.optional(
    v.custom<BreakerStore>(
      (x) => typeof (x as { attach?: unknown } | null)?.attach === "function",
      "must be a breaker store (memoryBreakerStore(), or redisBreakerStore() from @tapline/plugin-retry/redis)",
    ),
  ),
};
const named = { name: v.optional(v.pipe(v.string(), v.minLength(1, "must be a non-empty string"))) };
const keyedEntries = { idleMs: v.optional(positiveMs), maxKeys: v.optional(count) };

/** `maxOpenDuration` may not be below a fixed `openDuration`. */
const openWithinMax = <T>() =>
  v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const o = dataset.value as { openDuration?: unknown; maxOpenDuration?: number };
    const max = o.maxOpenDuration ?? 3_600_000;
    if (typeof o.openDuration === "number" && o.openDuration > max) {
      addIssue({
        message: `must be ≥ openDuration (${o.openDuration} ms)`,
        input: max,
        expected: `>=${o.openDuration}`,
        path: at(o, "maxOpenDuration"),
      });
    }
  });

/** @internal Options of `circuitBreaker()`. */
export const CircuitBreakerSchema: v.GenericSchema<CircuitBreakerOptions> = v.pipe(
  v.strictObject({
    ...named,
    ...breakerEntries,
    clock: v.optional(ClockSchema),
    initialState: v.optional(SnapshotSchema),
  }),
  openWithinMax(),
);

/** @internal Options of `keyedBreakers()`. */
export const KeyedBreakersSchema: v.GenericSchema<KeyedBreakerOptions> = v.pipe(
  v.strictObject({ ...named, ...breakerEntries, ...keyedEntries, clock: v.optional(ClockSchema) }),
  openWithinMax(),
);

/** @internal One entry of the plugin's `breakers` (its name is the key; the clock is the plugin's). */
export const PluginBreakerSchema: v.GenericSchema<Omit<KeyedBreakerOptions, "name" | "clock">> = v.pipe(
  v.strictObject({ ...breakerEntries, ...keyedEntries }),
  openWithinMax(),
);

// ---- Retry -----------------------------------------------------------------------------------------------

const retryEntries = {
  maxAttempts: v.optional(count),
  backoff: v.optional(BackoffSchema),
  classify: v.optional(ClassifySchema),
  shouldRetry: v.optional(fn<(error: unknown, attempt: number) => boolean>("(error, attempt) => boolean")),
  attemptTimeout: v.optional(positiveMs),
  deadline: v.optional(positiveMs),
  honorRetryAfter: v.optional(v.boolean()),
  maxRetryAfter: v.optional(positiveMs),
};

const BreakerInstance = v.custom<CircuitBreaker>(
  (b) => typeof (b as { acquire?: unknown } | null)?.acquire === "function",
  "must be a breaker made by circuitBreaker()",
);

/** @internal Options of `retryPolicy()`. */
export const RetryOptionsSchema: v.GenericSchema<RetryOptions> = v.strictObject({
  ...retryEntries,
  breaker: v.optional(BreakerInstance),
  clock: v.optional(ClockSchema),
  random: v.optional(RandomSchema),
  onRetry: v.optional(fn<(event: RetryScheduledEvent) => void>("(event) => void")),
  onGiveUp: v.optional(fn<(event: GiveUpEvent) => void>("(event) => void")),
});

const BreakerName = v.pipe(v.string(), v.minLength(1, "must be a non-empty breaker name"));
const BreakerRef: v.GenericSchema<(RetryStepOptions["breaker"] & object) | string> = v.lazy(
  (input): v.GenericSchema<string | { name: string; key?: string }> =>
    typeof input === "string"
      ? BreakerName
      : v.strictObject({ name: BreakerName, key: v.optional(v.string()) }),
);

/** @internal A step's `retry` options (also the plugin's `defaults`). */
export const RetryStepOptionsSchema: v.GenericSchema<RetryStepOptions> = v.strictObject({
  ...retryEntries,
  breaker: v.optional(BreakerRef),
});

/** @internal The `retry` step option: options, or `false` to turn retries off. */
export const RetryStepSchema: v.GenericSchema<RetryStepOptions | false> = v.lazy(
  (input): v.GenericSchema<RetryStepOptions | false> =>
    input === false
      ? v.literal(false)
      : typeof input === "object" && input !== null
        ? RetryStepOptionsSchema
        : v.custom<false>(() => false, "must be retry options { maxAttempts, backoff, ... } or false"),
);

/** @internal Options of the `retry()` plugin (`undefined` is `{}`). */
export const RetryPluginSchema: v.GenericSchema<RetryPluginOptions | undefined> = v.optional(
  v.pipe(
    v.strictObject({
      defaults: v.optional(RetryStepOptionsSchema),
      breakers: v.optional(v.record(v.string(), PluginBreakerSchema)),
      clock: v.optional(ClockSchema),
      random: v.optional(RandomSchema),
    }),
    // Options of p-retry, cockatiel and the step options, given at the top level.
    v.metadata({
      didYouMean: {
        retries: "defaults.maxAttempts",
        maxAttempts: "defaults.maxAttempts",
        backoff: "defaults.backoff",
        attemptTimeout: "defaults.attemptTimeout",
        deadline: "defaults.deadline",
        breaker: "breakers",
      },
    }),
  ),
);
