import { join } from "node:path";
import {
  definePlugin,
  type OptionIssue,
  type PluginFactory,
  type StepContext,
  type StepDefinition,
} from "@tapline/core";
import { formatOptionIssues, PipelineDefinitionError } from "@tapline/core/kit";
import { amountsFor, type KeyState, LimiterImpl } from "./limiter.ts";
import {
  type Costs,
  type LimiterOptions,
  type LimitStepOption,
  type LimitStepOptions,
  systemClock,
} from "./options.ts";
import { LimitStepSchema, LimitsPluginSchema } from "./schemas.ts";
import {
  type SpendBudgetOptions,
  type SpendUpdate,
  SpendWindows,
  type WindowBudgetExceededError,
} from "./spend-window.ts";

declare module "@tapline/core" {
  interface StepOptions {
    /**
     * Limits of `@tapline/plugin-limits` this unit takes: a key name, `{ key, weight?, cost? }`, or a list.
     * On a `.map()` it applies to each item.
     */
    limit?: LimitStepOption;
  }
  interface StepReportExtensions {
    /** How long the unit waited for `@tapline/plugin-limits` (set only when it waited). */
    limits?: LimitsReport;
  }
}

/** What the plugin adds to a unit's report, under `extensions.limits`, when the unit waited. */
export interface LimitsReport {
  /** ms spent waiting for concurrency slots. */
  slotWaitMs: number;
  /** ms spent waiting for rate windows and 429 pauses, all attempts together. */
  rateWaitMs: number;
}

/**
 * Options of the {@link limits} plugin: the keys steps refer to, the app's spend per window, and optionally a
 * shared store and a clock. At least one key or one window.
 */
export interface LimitsPluginOptions extends Omit<LimiterOptions, "keys"> {
  /** The keys and their limits. Steps refer to them by name. */
  keys?: LimiterOptions["keys"];
  /**
   * The app's spend limits per calendar window (`{ daily: { usd: 20 } }`), counted from every run's
   * `ctx.cost()` and kept across restarts under `<dir>/limits/`. A unit whose estimate would pass a window's
   * limit (or any unit, once the window's spend has passed it) does not start: it fails with
   * `TAPLINE_ERR_BUDGET_EXCEEDED` (a `WindowBudgetExceededError`, with `window` and `period`).
   */
  budget?: SpendBudgetOptions;
}

/**
 * Stage of the bulkhead: outside every other wrapper (core's `WrapStage.timing` is 900), so a unit holds its slot across all its
 * retries and backoff sleeps, and the time it queued is not counted as the step's work.
 */
const SLOT_STAGE = 1000;
/**
 * Stage of the rate limiter: inside retry (300), so every attempt (every API call) is counted and waits; outside
 * the breaker (200), so a breaker's slow-call timing sees the real call, not the wait for a token.
 */
const RATE_STAGE = 250;
/**
 * Stage of the app's window budget: inside the bulkhead, so it is checked when the unit really starts (after
 * it queued for a slot, while others spent); outside timing and retry, so once per unit, like core's budget.
 */
const BUDGET_STAGE = 950;

interface Entry {
  readonly key: string | ((input: unknown, ctx: StepContext) => string);
  readonly weight: number | ((input: unknown) => number);
  readonly cost: Costs | ((input: unknown, ctx: StepContext) => Costs) | undefined;
}

interface Resolved {
  readonly state: KeyState;
  readonly weight: number;
  readonly entry: Entry;
}

const toEntries = (limit: LimitStepOption): Entry[] =>
  (Array.isArray(limit) ? limit : [limit]).map((l: string | LimitStepOptions) =>
    typeof l === "string"
      ? { key: l, weight: 1, cost: undefined }
      : { key: l.key, weight: l.weight ?? 1, cost: l.cost },
  );

/**
 * The limits plugin: bulkheads, rate limits per key (requests and cost units per window) and concurrencies
 * that follow a gauge from core's `metric` hook, for any step, parallel branch or map item that sets
 * `limit`. A unit holds its slot from before its first attempt to after its last (wrapStep stage 1000);
 * each attempt waits for room in the key's windows (stage 250); a 429 with a retry hint pauses the key.
 *
 * @example
 * const app = createTapline({ plugins: [limits({ keys: {
 *   gpu: { concurrency: 1, queue: 100, queueTimeout: "1m" },
 *   tts: { rate: [{ limit: 100, per: "1m" }, { limit: 50_000, per: "1m", unit: "characters" }], maxWait: "30s" },
 * } })] });
 * app.pipeline("story").map("voice", (s) => s.lines, speak, {
 *   limit: { key: "tts", cost: (line) => ({ characters: line.text.length }) },
 * });
 */
export const limits: PluginFactory<LimitsPluginOptions> = definePlugin<
  LimitsPluginOptions,
  LimitsPluginOptions
>({
  name: "@tapline/plugin-limits",
  version: "1.0.0",
  core: "^1.0.0",
  options: LimitsPluginSchema,
  stepOptions: { limit: LimitStepSchema },
  setup(api) {
    const { budget, keys = {}, ...rest } = api.options;
    const limiter = new LimiterImpl({ ...rest, keys });
    const { hooks } = api;
    const clock = rest.clock ?? systemClock;
    const windows = budget
      ? new SpendWindows(
          join(api.dir, "limits"),
          budget,
          () => clock.now(),
          (message, details) => api.log.warn(details, message),
        )
      : undefined;

    // Each unit's entries, normalised once per options object (once per step definition), never per run.
    const plans = new WeakMap<object, readonly Entry[] | null>();
    const planFor = (options: { limit?: LimitStepOption }): readonly Entry[] | null => {
      let plan = plans.get(options);
      if (plan === undefined) {
        plan = options.limit === undefined ? null : toEntries(options.limit);
        plans.set(options, plan);
      }
      return plan;
    };

    // Unknown keys and cost units are definition errors, found when the pipeline is built.
    const check = (pipeline: string, top: string, def: StepDefinition): void => {
      const plan = planFor(def.options);
      const issues: OptionIssue[] = [];
      plan?.forEach((e, i) => {
        const at = Array.isArray(def.options.limit) ? `limit[${i}]` : "limit";
        if (typeof e.key !== "string") return;
        const state = limiter.states.get(e.key);
        if (!state) {
          issues.push({
            path: `${at}.key`,
            message: `unknown limit key "${e.key}"; declared keys: ${limiter.keys.join(", ")} (add it to limits({ keys }))`,
            value: e.key,
          });
          return;
        }
        if (e.cost && typeof e.cost === "object") {
          const units = new Set(state.windows.map((w) => w.unit));
          for (const unit of Object.keys(e.cost)) {
            if (!units.has(unit)) {
              issues.push({
                path: `${at}.cost.${unit}`,
                message: `limit "${e.key}" has no window counting "${unit}" (its windows count: ${[...units].join(", ") || "nothing"})`,
                value: e.cost[unit],
              });
            }
          }
        }
      });
      if (issues.length) {
        throw new PipelineDefinitionError({
          pipeline,
          step: top,
          why: `invalid step options at ${def.path}:\n${formatOptionIssues(issues)}`,
          issues,
        });
      }
      for (const child of def.children ?? []) check(pipeline, top, child);
    };
    hooks.pipelineBuild.tap(api.name, ({ pipeline, steps }) => {
      for (const s of steps) check(pipeline, s.name, s);
    });

    const resolve = (plan: readonly Entry[], input: unknown, ctx: StepContext): Resolved[] => {
      const out: Resolved[] = [];
      for (const entry of plan) {
        const key = typeof entry.key === "string" ? entry.key : entry.key(input, ctx);
        const weight = typeof entry.weight === "number" ? entry.weight : entry.weight(input);
        out.push({ state: limiter.get(key), weight, entry });
      }
      // Several slots are always taken in key order, so two units never hold one each and wait for the other.
      if (out.length > 1) out.sort((a, b) => (a.state.name < b.state.name ? -1 : 1));
      return out;
    };

    const reportOf = (ctx: StepContext): LimitsReport => {
      let r = reports.get(ctx);
      if (!r) {
        r = { slotWaitMs: 0, rateWaitMs: 0 };
        reports.set(ctx, r);
        ctx.annotate("limits", r);
      }
      return r;
    };
    const reports = new WeakMap<StepContext, LimitsReport>();
    const waited = (ctx: StepContext, key: string, kind: "slot" | "rate", ms: number) => {
      const r = reportOf(ctx);
      if (kind === "slot") r.slotWaitMs += ms;
      else r.rateWaitMs += ms;
      ctx.metric(
        "tapline_limit_wait_seconds_total",
        ms / 1000,
        { key, kind },
        { type: "counter", unit: "seconds" },
      );
    };

    // Stage 1000: the bulkhead, around everything (retries included).
    hooks.wrapStep.tap({ name: api.name, stage: SLOT_STAGE }, (next, info) => {
      const plan = planFor(info.options);
      if (!plan) return next;
      const { ctx } = info;
      // Static keys without a concurrency need nothing around the unit.
      if (plan.every((e) => typeof e.key === "string" && limiter.states.get(e.key)?.gate === undefined))
        return next;
      // The common case, one static key with a fixed weight: no resolving, no async frame on the fast path.
      const only = plan.length === 1 ? plan[0]! : undefined;
      const gate =
        only && typeof only.key === "string" && typeof only.weight === "number"
          ? limiter.states.get(only.key)?.gate
          : undefined;
      if (gate) {
        const weight = only!.weight as number;
        const release = () => gate.release(weight);
        const run = (input: unknown, signal: AbortSignal) => {
          let pending: Promise<unknown>;
          try {
            pending = next(input, signal);
          } catch (error) {
            release();
            throw error;
          }
          return pending.then(
            (value) => {
              release();
              return value;
            },
            (error: unknown) => {
              release();
              throw error;
            },
          );
        };
        return (input, signal) => {
          if (gate.tryTake(weight)) return run(input, signal);
          const state = limiter.states.get(only!.key as string)!;
          const heavy = limiter.tooHeavy(state, weight);
          if (heavy) return Promise.reject(heavy);
          const t0 = limiter.clock.now();
          return gate.acquire(weight, signal).then(() => {
            waited(ctx, state.name, "slot", limiter.clock.now() - t0);
            return run(input, signal);
          });
        };
      }
      return async (input, signal) => {
        const all = resolve(plan, input, ctx);
        const held: Resolved[] = [];
        try {
          for (const r of all) {
            const gate = r.state.gate;
            if (!gate) continue;
            if (!gate.tryTake(r.weight)) {
              const heavy = limiter.tooHeavy(r.state, r.weight);
              if (heavy) throw heavy;
              const t0 = limiter.clock.now();
              await gate.acquire(r.weight, signal);
              waited(ctx, r.state.name, "slot", limiter.clock.now() - t0);
            }
            held.push(r);
          }
          return await next(input, signal);
        } finally {
          for (let i = held.length - 1; i >= 0; i--) held[i]!.state.gate!.release(held[i]!.weight);
        }
      };
    });

    // Stage 250: the rate windows, once per attempt; a 429 with a hint pauses the key.
    hooks.wrapStep.tap({ name: api.name, stage: RATE_STAGE }, (next, info) => {
      const plan = planFor(info.options);
      if (!plan) return next;
      // Static keys without a rate (a plain bulkhead) need nothing per attempt.
      if (plan.every((e) => typeof e.key === "string" && limiter.states.get(e.key)?.rate === undefined))
        return next;
      const { ctx } = info;
      return async (input, signal) => {
        const all = resolve(plan, input, ctx);
        for (const r of all) {
          const rate = r.state.rate;
          if (!rate) continue;
          const cost = r.entry.cost;
          const amounts =
            cost === undefined
              ? r.state.plain
              : amountsFor(r.state, typeof cost === "function" ? cost(input, ctx) : cost);
          if (!rate.tryTake(amounts)) {
            const t0 = limiter.clock.now();
            await rate.acquire(amounts, signal);
            waited(ctx, r.state.name, "rate", limiter.clock.now() - t0);
          }
        }
        try {
          return await next(input, signal);
        } catch (error) {
          for (const r of all) limiter.saw(r.state, error);
          throw error;
        }
      };
    });

    const gauges = [...limiter.states.values()].some((k) => k.gauge);
    if (gauges || windows) {
      hooks.metric.tap(api.name, (sample) => {
        if (gauges) limiter.observe(sample);
        if (windows && sample.name === "tapline_cost_total") {
          const unit = sample.unit ?? sample.labels.unit;
          if (unit) {
            const updates = windows.record(unit, sample.value, {
              ...(sample.runId !== undefined && { run: sample.runId }),
              ...(sample.labels.pipeline !== undefined && { pipeline: sample.labels.pipeline }),
              ...(sample.labels.step !== undefined && { step: sample.labels.step }),
            });
            for (const u of updates) spendUpdated(u);
          }
        }
      });
    }

    // Each window's spend as a gauge; an alert (`budget_exhausted`) once a window's spend passes its limit,
    // resolved by the first spend of the next period.
    const exhausted = new Map<string, string>();
    const spendUpdated = (u: SpendUpdate) => {
      const labels = { window: u.window, unit: u.unit };
      api.metric("tapline_budget_spent", u.spent, labels, { type: "gauge", unit: u.unit });
      const id = `${u.window}\u0000${u.unit}`;
      const firing = exhausted.get(id);
      if (firing !== undefined && firing !== u.period) {
        exhausted.delete(id);
        api.raiseAlert({
          rule: "budget_exhausted",
          level: "warning",
          state: "resolved",
          labels,
          message: `the app's ${u.window} budget has room again (${u.period}: ${u.spent} of ${u.limit} ${u.unit})`,
          value: u.spent,
        });
      }
      if (u.spent > u.limit && !exhausted.has(id)) {
        exhausted.set(id, u.period);
        const message = `the app's ${u.window} spend (${u.period}) reached ${Math.round(u.spent * 1e6) / 1e6} ${u.unit}, past its limit of ${u.limit} ${u.unit}: no unit starts until the next ${u.window === "hourly" ? "hour" : u.window === "daily" ? "day" : "month"}`;
        api.log.warn(
          { window: u.window, period: u.period, spent: u.spent, limit: u.limit, unit: u.unit },
          message,
        );
        api.raiseAlert({
          rule: "budget_exhausted",
          level: "warning",
          state: "firing",
          labels,
          message,
          value: u.spent,
        });
      }
    };

    if (windows) {
      // Runs a window stopped, so their report says why (`report.budgetExceeded`), as for core's own budget.
      const stopped = new Map<string, WindowBudgetExceededError>();
      hooks.wrapStep.tap({ name: api.name, stage: BUDGET_STAGE }, (next, info) => {
        const { ctx } = info;
        const estimateOf = info.options.estimate;
        return (input, signal) => {
          let estimate: Costs | undefined;
          try {
            estimate = typeof estimateOf === "function" ? estimateOf(input) : estimateOf;
          } catch (error) {
            return Promise.reject(error);
          }
          const stop = windows.check(estimate, ctx.path);
          if (stop) {
            if (!stopped.has(ctx.runId)) stopped.set(ctx.runId, stop);
            ctx.log.warn({ window: stop.window, spent: stop.spent, limit: stop.limit }, stop.message);
            return Promise.reject(stop);
          }
          if (!estimate) return next(input, signal);
          const held = estimate;
          windows.reserve(ctx.runId, held);
          const done = () => windows.release(ctx.runId, held);
          let pending: Promise<unknown>;
          try {
            pending = next(input, signal);
          } catch (error) {
            done();
            throw error;
          }
          return pending.then(
            (value) => {
              done();
              return value;
            },
            (error: unknown) => {
              done();
              throw error;
            },
          );
        };
      });
      hooks.runEnd.tap(api.name, ({ report }) => {
        const stop = stopped.get(report.runId);
        if (!stop) return;
        stopped.delete(report.runId);
        report.budgetExceeded ??= stop;
      });
    }

    hooks.status.tap(api.name, (parts) => {
      const keys: Record<string, unknown> = {};
      const lines: string[] = [];
      for (const name of limiter.keys) {
        const s = limiter.stats(name);
        keys[name] = s;
        if (s.queued > 0 || s.waitingForRate > 0)
          lines.push(`${name}: ${s.queued} waiting for a slot, ${s.waitingForRate} for the rate`);
      }
      let level: "ok" | "degraded" = "ok";
      const spend = windows?.state();
      for (const [window, w] of Object.entries(spend ?? {})) {
        for (const [unit, limit] of Object.entries(w.limit)) {
          if ((w.spent[unit] ?? 0) < limit) continue;
          level = "degraded";
          lines.push(
            `${window} budget spent: ${w.spent[unit]} of ${limit} ${unit} (${w.period}); no unit starts`,
          );
        }
      }
      const store = rest.store?.status;
      if (store && !store.available) {
        level = "degraded";
        lines.unshift(
          `shared store unavailable (${store.reason ?? "unknown"}): units of ${limiter.keys.join(", ") || "no key"} fail with TAPLINE_ERR_LIMITS_STORE until it is back`,
        );
      }
      parts.push({
        component: "limits",
        level,
        message: lines.length ? lines.join("; ") : "no unit waiting",
        details: {
          keys,
          ...(spend && { budget: spend }),
          ...(store && { store }),
        },
      });
      return parts;
    });

    return async () => {
      await limiter.close();
      windows?.close();
    };
  },
});
