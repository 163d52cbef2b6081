import {
  definePlugin,
  isTaplineError,
  type OptionIssue,
  type PluginFactory,
  type StepContext,
  type StepDefinition,
  type StepRunner,
  WrapStage,
} from "@tapline/core";
import { formatOptionIssues, PipelineDefinitionError } from "@tapline/core/kit";
import { SyncHook } from "tapable";
import type { BackoffOptions } from "./backoff.ts";
import type { BreakerState, BreakerTransition } from "./breaker.ts";
import type { Classifier } from "./classify.ts";
import type { Clock, RandomSource } from "./clock.ts";
import type { EffectSchedule } from "./effect-schedule.ts";
import { guarded } from "./internal/attempt.ts";
import { type KeyedBreakerOptions, type KeyedBreakersImpl, normalizeKeyed } from "./keyed.ts";
import {
  type GiveUpEvent,
  type GiveUpReason,
  type NormalizedRetry,
  normalizeRetry,
  type RetryScheduledEvent,
} from "./options.ts";
import { RetryPolicyImpl } from "./retry.ts";
import { RetryPluginSchema, RetryStepSchema } from "./schemas.ts";

/** Per-step retry options (`step(name, fn, { retry: {...} })`), merged over the plugin's `defaults`. */
export interface RetryStepOptions {
  /** Total calls, the first included. Default 3. */
  maxAttempts?: number;
  /** A built-in backoff as data, or an Effect Schedule. */
  backoff?: BackoffOptions | EffectSchedule;
  /** Per-attempt time limit, ms (wrapStep stage 100). */
  attemptTimeout?: number;
  /** Total budget across attempts and sleeps, ms. Default: the step's core `timeout`, if any. */
  deadline?: number;
  /** Your classifier, asked before the built-in one. */
  classify?: Classifier;
  /** A veto on retryable failures. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Honour Retry-After style hints. Default true. */
  honorRetryAfter?: boolean;
  /** Cap on an honoured hint, ms. */
  maxRetryAfter?: number;
  /** A breaker declared in the plugin's `breakers` (wrapStep stage 200), optionally with a key. */
  breaker?: string | { name: string; key?: string };
}

declare module "@tapline/core" {
  interface StepOptions {
    /** Retry, breaker and attempt-timeout options of `@tapline/plugin-retry`; `false` turns retries off for this step. */
    retry?: RetryStepOptions | false;
  }
  interface StepReportExtensions {
    /** What `@tapline/plugin-retry` recorded for the step: every attempt, the time slept, why it gave up. */
    retry?: RetryReport;
  }
}

/** Options of the {@link retry} plugin. */
export interface RetryPluginOptions {
  /** Applied to every step (unless it sets `retry: false`); a step's own `retry` options override them. */
  defaults?: RetryStepOptions;
  /** Named breakers steps refer to with `retry: { breaker: "name" }`; each may be keyed per step. */
  breakers?: Record<string, Omit<KeyedBreakerOptions, "name" | "clock">>;
  /** Time source for policies and breakers (tests). */
  clock?: Clock;
  /** Random source for jitter (tests). */
  random?: RandomSource;
}

/** `retryScheduled` hook event: a retry was scheduled for a step. */
export interface RetryScheduledHookEvent extends RetryScheduledEvent {
  readonly ctx: StepContext;
}

/** `gaveUp` hook event: a step's retry policy stopped with a failure. */
export interface GaveUpHookEvent extends GiveUpEvent {
  readonly ctx: StepContext;
}

/** Hooks the retry plugin exposes for an app (see {@link getRetryHooks}). All synchronous; tap errors are reported, never thrown. */
export interface RetryHooks {
  /** Before each backoff sleep of a step. */
  readonly retryScheduled: SyncHook<[RetryScheduledHookEvent]>;
  /** When a step's policy gives up (attempts, non-retryable, deadline, abort, broken circuit). */
  readonly gaveUp: SyncHook<[GaveUpHookEvent]>;
  /** Every state change of every named breaker. */
  readonly breakerTransition: SyncHook<[BreakerTransition]>;
}

const hooksByApp = new WeakMap<object, RetryHooks>();

/**
 * The retry plugin's typed hooks for `app` (created on first use; one set per app).
 *
 * @example
 * getRetryHooks(app).breakerTransition.tap("me", (t) => console.log(t.breaker, t.from, "->", t.to));
 */
export function getRetryHooks(app: object): RetryHooks {
  let hooks = hooksByApp.get(app);
  if (!hooks) {
    hooks = {
      retryScheduled: new SyncHook(["event"]),
      gaveUp: new SyncHook(["event"]),
      breakerTransition: new SyncHook(["transition"]),
    };
    hooksByApp.set(app, hooks);
  }
  return hooks;
}

/** One attempt as the run report shows it under `extensions.retry`. */
export interface RetryAttemptRecord {
  readonly attempt: number;
  /** `success`, or the failure's classification. */
  readonly outcome: "success" | "retryable" | "nonRetryable" | "ignored" | "failed";
  /** The error's message, for failed attempts. */
  readonly error?: string;
  /** Sleep after this attempt, ms. */
  readonly delayMs?: number;
  readonly retryAfterMs?: number;
}

/** What the plugin adds to a step's report, under `extensions.retry`. */
export interface RetryReport {
  readonly attempts: RetryAttemptRecord[];
  /** Time spent sleeping between attempts, ms. */
  totalDelayMs: number;
  /** Set when the policy gave up. */
  gaveUp?: GiveUpEvent["reason"];
  readonly breaker?: string;
}

const COUNTER = { type: "counter" } as const;

const STATE_CODE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2, isolated: 3 };

/**
 * One step's retry plan, built once per step options object (so once per pipeline step), never per run: the
 * three public policies the standalone `retryPolicy({ breaker, attemptTimeout })` composes, one per stage.
 */
interface StepPlan {
  /** Stage 300: the step's retry policy (no breaker, no attempt timeout: those are the stages below). */
  readonly policy: RetryPolicyImpl;
  /** Stage 200: the step's named breaker, as a name and key (the group makes the key's breaker on use). */
  readonly breaker?: { readonly name: string; readonly key: string };
  /** Stage 100: the options the attempt timeout reads (`attemptTimeout`, the clock), when it has one. */
  readonly timeout?: NormalizedRetry;
  /** The budget is what is left of the step's core timeout (ctx.deadline), computed per run. */
  readonly budgetFromTimeout: boolean;
}

/**
 * The retry plugin: retries steps (wrapStep stage 300), routes their attempts through named breakers
 * (stage 200) and bounds each attempt (stage 100). Publishes `tapline_retry_*` and `tapline_breaker_*`
 * metric samples, raises `breaker_open` alerts, and records attempts in `report.extensions.retry`.
 *
 * @example
 * const app = createTapline({ plugins: [retry({
 *   defaults: { maxAttempts: 3, backoff: { kind: "exponential", base: 500 } },
 *   breakers: { openai: { trip: { kind: "count", threshold: 0.5, size: 20, minimumCalls: 5 } } },
 * })] });
 * app.pipeline("story").step("script", writeScript, { retry: { breaker: "openai", attemptTimeout: 60_000 } });
 */
export const retry: PluginFactory<RetryPluginOptions | undefined> = definePlugin<
  RetryPluginOptions | undefined,
  RetryPluginOptions | undefined
>({
  name: "@tapline/plugin-retry",
  version: "1.0.0",
  core: "^1.0.0",
  // Checked by core at registration (and each step's `retry` when `.step()` is called): path, value, did-you-mean.
  options: RetryPluginSchema,
  stepOptions: { retry: RetryStepSchema },
  setup(api) {
    const { hooks } = api;
    const opts = api.options ?? {};
    const defaults = opts.defaults ?? {};
    const own = getRetryHooks(api.app);
    const call = <T>(hook: SyncHook<[T]>, name: string, event: T) => {
      if (hook.taps.length === 0) return;
      try {
        hook.call(event);
      } catch (error) {
        api.reportError(error, name);
      }
    };

    // Named breakers, one group per app; keyed per step when a step gives a key.
    const breakers = new Map<string, KeyedBreakersImpl>();
    const firing = new Set<string>();
    for (const [name, options] of Object.entries(opts.breakers ?? {})) {
      const group = normalizeKeyed({ ...options, name, ...(opts.clock && { clock: opts.clock }) })();
      breakers.set(name, group);
      api.metric("tapline_breaker_state", 0, { breaker: name }, { type: "gauge" });
      group.onTransition((t) => {
        const labels: Record<string, string> = t.key ? { breaker: name, key: t.key } : { breaker: name };
        const id = `${name}\u0000${t.key}`;
        api.metric("tapline_breaker_state", STATE_CODE[t.to], labels, { type: "gauge" });
        if ((t.to === "open" || t.to === "isolated") && !firing.has(id)) {
          firing.add(id);
          api.raiseAlert({
            rule: "breaker_open",
            level: "error",
            state: "firing",
            labels,
            message: `circuit breaker "${name}${t.key ? `[${t.key}]` : ""}" is ${t.to} (${t.reason})`,
            value: STATE_CODE[t.to],
          });
        } else if (t.to === "closed" && firing.delete(id)) {
          api.raiseAlert({
            rule: "breaker_open",
            level: "error",
            state: "resolved",
            labels,
            message: `circuit breaker "${name}${t.key ? `[${t.key}]` : ""}" closed again`,
            value: 0,
          });
        }
        call(own.breakerTransition, "breakerTransition", t);
      });
      // A shared store going away or coming back: said in the log (why, secrets redacted) and the status part.
      group.shared?.onAvailability((a) => {
        if (a.available)
          api.log.info({ breaker: name, store: a.store }, "breaker store reachable: shared state synced");
        else
          api.log.warn(
            { breaker: name, store: a.store, reason: api.redact.text(a.reason ?? "unknown") },
            "breaker store unreachable: the breaker uses its local state",
          );
      });
      group.onReject((_, key) => {
        api.metric("tapline_breaker_rejections_total", 1, key ? { breaker: name, key } : { breaker: name }, {
          type: "counter",
        });
      });
    }

    // Each step's plan (merged options, normalised, and its policy), built when its pipeline is built and
    // cached by the step's options object: once per step, never per run. Both halves were checked by their
    // schemas already (plugin options at registration, step options in `.step()`), so merging needs no check.
    const plans = new WeakMap<object, StepPlan | null>();
    const planFor = (
      options: Readonly<{ retry?: RetryStepOptions | false; timeout?: number }>,
      pipeline: string,
      step: string,
    ): StepPlan | null => {
      let cached = plans.get(options);
      if (cached !== undefined) return cached;
      if (options.retry === false) cached = null;
      else {
        const { breaker: b, ...merged }: RetryStepOptions = { ...defaults, ...(options.retry ?? {}) };
        // Without its own deadline, the retry budget is what is left of the step's core timeout (ctx.deadline).
        const budgetFromTimeout = merged.deadline === undefined && options.timeout !== undefined;
        if (budgetFromTimeout) merged.deadline = options.timeout;
        const breaker =
          b === undefined
            ? undefined
            : typeof b === "string"
              ? { name: b, key: "" }
              : { name: b.name, key: b.key ?? "" };
        if (breaker && !breakers.has(breaker.name)) {
          const known = [...breakers.keys()];
          const issues: OptionIssue[] = [
            {
              path: "retry.breaker",
              message: `unknown breaker "${breaker.name}"; ${known.length ? `declared breakers: ${known.join(", ")}` : "no breakers are declared"} (add it to retry({ breakers }))`,
              value: breaker.name,
            },
          ];
          throw new PipelineDefinitionError({
            pipeline,
            step,
            why: `invalid step options:\n${formatOptionIssues(issues)}`,
            issues,
          });
        }
        const normalized = normalizeRetry({
          ...merged,
          ...(opts.clock && { clock: opts.clock }),
          ...(opts.random && { random: opts.random }),
        });
        // Stage 300 only retries: the breaker (200) and the attempt timeout (100) are their own stages.
        const policy = new RetryPolicyImpl({ ...normalized, attemptTimeout: undefined, breaker: undefined });
        cached = {
          policy,
          budgetFromTimeout,
          ...(breaker && { breaker }),
          ...(normalized.attemptTimeout !== undefined && { timeout: { ...normalized, deadline: undefined } }),
        };
      }
      plans.set(options, cached);
      return cached;
    };

    // Every unit's plan (map items, branches, cases included) is built and checked when the pipeline is built.
    hooks.pipelineBuild.tap(api.name, ({ pipeline, steps }) => {
      const walk = (defs: readonly StepDefinition[]): void => {
        for (const s of defs) {
          if (s.kind === "step") planFor(s.options, pipeline, s.path);
          if (s.children) walk(s.children);
        }
      };
      walk(steps);
    });

    // Stage 300: retry. The breaker and the attempt timeout are separate stages below it.
    hooks.wrapStep.tap({ name: api.name, stage: WrapStage.retry }, (next, info) => {
      const p = planFor(info.options, info.pipeline, info.step);
      if (!p) return next;
      const { ctx } = info;
      const breakerName = p.breaker?.name;
      return async (input, signal) => {
        const report: RetryReport = breakerName
          ? { attempts: [], totalDelayMs: 0, breaker: breakerName }
          : { attempts: [], totalDelayMs: 0 };
        ctx.annotate("retry", report);
        const value = await p.policy.run(
          (attemptSignal) => {
            ctx.metric("tapline_retry_attempts_total", 1, undefined, COUNTER);
            return next(input, attemptSignal);
          },
          signal,
          {
            callerOwnsSignal: true,
            deadline:
              p.budgetFromTimeout && ctx.deadline !== undefined
                ? Math.max(1, ctx.deadline - Date.now())
                : undefined,
            onRetry(e) {
              report.attempts.push({
                attempt: e.attempt,
                outcome: e.classification,
                error: message(e.error),
                delayMs: e.delayMs,
                ...(e.retryAfterMs !== undefined && { retryAfterMs: e.retryAfterMs }),
              });
              report.totalDelayMs += e.delayMs;
              ctx.metric("tapline_retries_total", 1, undefined, COUNTER);
              ctx.metric("tapline_retry_sleep_seconds_total", e.delayMs / 1000, undefined, {
                type: "counter",
                unit: "seconds",
              });
              call(own.retryScheduled, "retryScheduled", { ...e, ctx });
            },
            onGiveUp(e) {
              report.gaveUp = e.reason;
              report.attempts.push({
                attempt: e.attempts,
                outcome:
                  e.reason !== "aborted" && isTaplineError(e.error, "TAPLINE_ERR_RETRY_BROKEN_CIRCUIT")
                    ? "ignored"
                    : LAST_OUTCOME[e.reason],
                error: message(e.error),
              });
              ctx.metric("tapline_retry_giveups_total", 1, undefined, COUNTER);
              call(own.gaveUp, "gaveUp", { ...e, ctx });
            },
          },
        );
        report.attempts.push({ attempt: ctx.attempt, outcome: "success" });
        return value;
      };
    });

    // Stage 200: each attempt through the step's named breaker, by the breaker's own execute() (the path a
    // standalone policy's attempts take): a cancelled attempt hands its permit back uncounted.
    hooks.wrapStep.tap({ name: api.name, stage: WrapStage.breaker }, (next, info) => {
      const p = planFor(info.options, info.pipeline, info.step);
      if (!p?.breaker) return next;
      const breaker = breakers.get(p.breaker.name)!.get(p.breaker.key);
      const runner: StepRunner = (input, signal) => breaker.execute(() => next(input, signal), signal);
      return runner;
    });

    // Stage 100: per-attempt timeout (the standalone policy's attempt timeout), with a fresh signal linked to
    // the attempt's.
    hooks.wrapStep.tap({ name: api.name, stage: WrapStage.timeout }, (next, info) => {
      const o = planFor(info.options, info.pipeline, info.step)?.timeout;
      if (o === undefined) return next;
      return (input, signal) => guarded(o, (s) => next(input, s), info.ctx.attempt + 1, signal, 0);
    });

    hooks.status.tap(api.name, (parts) => {
      if (breakers.size === 0) return parts;
      const states: Record<string, Record<string, BreakerState>> = {};
      const broken: string[] = [];
      const local: string[] = [];
      const stores: Record<string, { store: string; available: boolean; reason?: string }> = {};
      for (const [name, group] of breakers) {
        states[name] = group.states();
        for (const [key, state] of Object.entries(states[name])) {
          if (state !== "closed") broken.push(`${name}${key ? `[${key}]` : ""} ${state}`);
        }
        const shared = group.shared?.status;
        if (shared) {
          const reason = shared.reason && api.redact.text(shared.reason);
          stores[name] = { store: shared.store, available: shared.available, ...(reason && { reason }) };
          if (!shared.available) local.push(`${name} (${shared.store}: ${reason ?? "unavailable"})`);
        }
      }
      const message = [
        broken.length ? `breakers not closed: ${broken.join(", ")}` : "all breakers closed",
        ...(local.length ? [`shared state unavailable, deciding locally: ${local.join(", ")}`] : []),
      ].join("; ");
      parts.push({
        component: "retry",
        level: broken.length || local.length ? "degraded" : "ok",
        message,
        details: { breakers: states, ...(Object.keys(stores).length && { stores }) },
      });
      return parts;
    });

    return () => {
      hooksByApp.delete(api.app);
      // The store disconnects once no breaker uses it, so nothing keeps the process alive after app.close().
      for (const group of breakers.values()) group.shared?.detach();
    };
  },
});

/** The last attempt's outcome by why the policy gave up (a Record: a new reason does not compile until mapped). */
const LAST_OUTCOME: Record<GiveUpReason, RetryAttemptRecord["outcome"]> = {
  attempts: "retryable",
  nonRetryable: "nonRetryable",
  ignored: "ignored",
  deadline: "retryable",
  aborted: "failed",
  schedule: "retryable",
  brokenCircuit: "ignored",
};

function message(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
