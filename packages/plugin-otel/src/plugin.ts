import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import {
  definePlugin,
  describeError,
  isTaplineError,
  type PluginFactory,
  type StepContext,
  type StepReport,
  WrapStage,
} from "@tapline/core";
import { OTEL_ATTRIBUTES as A, OTEL_EVENTS as E } from "./attributes.ts";
import { type MetricBridge, metricBridge } from "./metric-bridge.ts";
import type { NormalizedOtelOptions, OtelPluginOptions } from "./options.ts";
import { OtelOptionsSchema } from "./schemas.ts";
import { contextFromTraceparent } from "./traceparent.ts";

const NAME = "@tapline/plugin-otel";
const VERSION = "1.0.0";

/**
 * Stages of the plugin's two `wrapStep` taps. The unit tap is the outermost, so everything around the step
 * (retry's backoff, breaker transitions, limits) runs in the unit span's context; the attempt tap is closer
 * to the call than the per-attempt timeout (100), so one attempt span is one call of the step.
 */
const UNIT_STAGE = 10_000;
const ATTEMPT_STAGE = WrapStage.timeout / 2;

/** Findings written as events per unit at most; a unit with more says how many were left out. */
const MAX_FINDING_EVENTS = 32;

/** The unit fields core gains with units of work (issue #14); read defensively while core is a chain. */
type UnitFields = { readonly path?: string; readonly definitionPath?: string; readonly parent?: StepContext };

// Everything a run holds hangs off its RunTrace, which the plugin drops at the run's end: no span-keyed maps
// (they cost a hash insert and delete per span), and a span's owner travels in the context instead.
interface RunTrace {
  readonly span: Span;
  readonly context: Context;
  /** Units not ended yet; the run's end closes any left (abandoned) ones, and their attempts. */
  readonly units: Set<UnitTrace>;
  /** Open units by top-level step name, for samples that carry only `runId` and `step`. */
  readonly byStep: Map<string, UnitTrace>;
  ended: boolean;
}

interface UnitTrace {
  readonly run: RunTrace;
  readonly ctx: StepContext;
  readonly span: Span;
  readonly context: Context;
  ended: boolean;
  /** `tapline.attempt <definition path>`, built once per unit. */
  readonly attemptName: string;
  /** Attempt spans of this unit in flight (one, but for hedging wrappers). */
  attempts: Span[] | undefined;
}

/** What a span of ours belongs to, for events that find their span through the active context. */
type Owner = RunTrace | UnitTrace;

/** The context key under which a run's context (and every context derived from it) carries its run. */
const OWNER = createContextKey("@tapline/plugin-otel owner");

/** Breaker states as plugin-retry publishes them in `tapline_breaker_state`. */
const BREAKER_STATES = ["closed", "half_open", "open", "isolated"];

/**
 * The OpenTelemetry plugin: one trace per run. A span per run (`tapline.run story`), a child per unit of
 * work (`tapline.step scenes[]`: steps, branches and map items) and a child of that per attempt
 * (`tapline.attempt scenes[]`). The step's code runs inside its attempt span's context, so spans of the
 * user's instrumented calls (`fetch`, HTTP clients, SDKs) become its children. Retries, breaker
 * transitions, alerts, validation findings, timeouts and cancellations become span events; errors are
 * recorded with `recordException` (redacted) and the span's status.
 *
 * The run continues the caller's trace: the context active where `run()` is called, or the W3C
 * `traceparent` run label (from another process or a queued job). With `meterProvider`, every metric
 * sample also goes to an OpenTelemetry meter.
 *
 * @example
 * const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
 * const app = createTapline({ plugins: [otel({ tracerProvider: provider })] });
 */
export const otel: PluginFactory<OtelPluginOptions | undefined> = definePlugin<
  NormalizedOtelOptions,
  OtelPluginOptions | undefined
>({
  name: NAME,
  version: VERSION,
  core: "^1.0.0",
  options: OtelOptionsSchema,
  setup(api) {
    const opts = api.options;
    const { hooks } = api;
    const provider = opts.tracerProvider ?? trace.getTracerProvider();

    // Failures of the tracing SDK (a broken provider, a span processor that throws) never reach a run: the
    // first is reported through `pluginError`, later ones are counted in the status part.
    let failures = 0;
    let firstFailure: string | undefined;
    const failed = (error: unknown, where: string): void => {
      failures++;
      if (failures > 1) return;
      firstFailure = api.redact.text(`${where}: ${describeError(error)}`);
      api.reportError(error, where);
    };

    // Units and samples find their run by id; the run's end finds it by its context object, so two runs given
    // the same runId still end their own spans (their units may attach to the later one: ids should be unique).
    const runs = new Map<string, RunTrace>();
    const runsByContext = new WeakMap<object, RunTrace>();
    const units = new WeakMap<StepContext, UnitTrace>();
    let bridge: MetricBridge | undefined;

    hooks.status.tap(NAME, (parts) => {
      parts.push({
        component: "otel",
        level: failures > 0 ? "degraded" : "ok",
        message:
          failures > 0
            ? `${failures} tracing call${failures === 1 ? "" : "s"} failed (first: ${firstFailure})`
            : `tracing ${runs.size} run${runs.size === 1 ? "" : "s"} in flight`,
        details: {
          runsInFlight: runs.size,
          failures,
          ...(bridge && { instruments: bridge.instruments, samplesSkipped: bridge.skipped }),
        },
      });
      return parts;
    });

    let tracer: Tracer;
    try {
      tracer = provider.getTracer(NAME, VERSION);
    } catch (error) {
      failed(error, "getTracer");
      return;
    }
    if (opts.meterProvider) {
      try {
        bridge = metricBridge(opts.meterProvider, NAME);
      } catch (error) {
        failed(error, "getMeter");
      }
    }

    const label = opts.traceparentLabel;
    let warnedTraceparent = false;

    // Only the run's context carries its owner (one context copy per run, not per unit): the unit is found
    // among the run's open units by the active span. Events are rare; units are not.
    const ownerOfActive = (): Owner | undefined => {
      const active = context.active();
      const run = active.getValue(OWNER) as RunTrace | undefined;
      if (!run || run.ended) return undefined;
      const span = trace.getSpan(active);
      if (span !== run.span) {
        for (const unit of run.units) {
          if (unit.span === span) return unit;
          if (unit.attempts?.includes(span!)) return unit;
        }
      }
      return run;
    };

    /** Takes `span` out of the unit's attempts in flight; false when it was not there (already closed). */
    const takeAttempt = (unit: UnitTrace, span: Span): boolean => {
      const list = unit.attempts;
      if (!list) return false;
      if (list.length === 1) {
        if (list[0] !== span) return false;
        list.pop();
        return true;
      }
      const i = list.indexOf(span);
      if (i < 0) return false;
      list.splice(i, 1);
      return true;
    };

    hooks.runStart.tap({ name: NAME, stage: -UNIT_STAGE }, ({ ctx }) => {
      try {
        let parent = context.active();
        const carried = label === false ? undefined : ctx.labels[label];
        if (carried !== undefined) {
          const remote = contextFromTraceparent(carried, ctx.labels.tracestate, parent);
          if (remote) parent = remote;
          else if (!warnedTraceparent) {
            warnedTraceparent = true;
            api.log.warn(
              { label, runId: ctx.runId },
              `run label "${label}" is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); the run starts its own trace`,
            );
          }
        }
        // Run labels become attributes, secret-named ones (and secrets inside values) redacted.
        const attributes = labelAttributes(ctx.labels, api.redact.fields);
        attributes[A.pipeline] = ctx.pipeline;
        attributes[A.runId] = ctx.runId;
        const span = tracer.startSpan(
          `tapline.run ${ctx.pipeline}`,
          { kind: SpanKind.INTERNAL, attributes },
          parent,
        );
        const run: RunTrace = {
          span,
          context: parent,
          units: new Set(),
          byStep: new Map(),
          ended: false,
        };
        (run as { context: Context }).context = trace.setSpan(parent, span).setValue(OWNER, run);
        runs.set(ctx.runId, run);
        runsByContext.set(ctx, run);
      } catch (error) {
        failed(error, "runStart");
      }
    });

    hooks.stepStart.tap({ name: NAME, stage: -UNIT_STAGE }, ({ ctx }) => {
      const run = runs.get(ctx.runId);
      if (!run) return;
      try {
        const u = ctx as StepContext & UnitFields;
        const path = u.path ?? ctx.step;
        const definitionPath = u.definitionPath ?? ctx.step;
        const parent = (u.parent && units.get(u.parent)) || undefined;
        const attributes: Attributes = {
          [A.step]: ctx.step,
          [A.unitPath]: path,
          [A.definitionPath]: definitionPath,
        };
        const parentContext = parent ? parent.context : run.context;
        const span = tracer.startSpan(
          `tapline.step ${definitionPath}`,
          { kind: SpanKind.INTERNAL, attributes },
          parentContext,
        );
        const unit: UnitTrace = {
          run,
          ctx,
          span,
          context: parentContext,
          ended: false,
          attemptName: `tapline.attempt ${definitionPath}`,
          attempts: undefined,
        };
        (unit as { context: Context }).context = trace.setSpan(parentContext, span);
        units.set(ctx, unit);
        run.units.add(unit);
        run.byStep.set(ctx.step, unit);
      } catch (error) {
        failed(error, "stepStart");
      }
    });

    // Outermost: the whole unit (retries, backoff, breaker, limits) runs in the unit span's context.
    hooks.wrapStep.tap({ name: NAME, stage: UNIT_STAGE }, (next, info) => {
      const unit = units.get(info.ctx);
      if (!unit) return next;
      return (input, signal) => {
        let called = false;
        try {
          return context.with(unit.context, () => {
            called = true;
            return next(input, signal);
          });
        } catch (error) {
          if (called) throw error;
          failed(error, "context.with");
          return next(input, signal);
        }
      };
    });

    // Closest to the call: one span per call of the step, active while the step's code runs.
    hooks.wrapStep.tap({ name: NAME, stage: ATTEMPT_STAGE }, (next, info) => {
      const unit = units.get(info.ctx);
      if (!unit) return next;
      return (input, signal) => {
        let span: Span;
        let active: Context;
        try {
          span = tracer.startSpan(
            unit.attemptName,
            {
              kind: SpanKind.INTERNAL,
              attributes: { [A.attempt]: unit.ctx.attempt + 1 },
            },
            unit.context,
          );
          active = trace.setSpan(unit.context, span);
          if (unit.attempts) unit.attempts.push(span);
          else unit.attempts = [span];
        } catch (error) {
          failed(error, "startSpan");
          return next(input, signal);
        }
        let called = false;
        let pending: Promise<unknown>;
        try {
          pending = context.with(active, () => {
            called = true;
            return next(input, signal);
          });
        } catch (error) {
          if (called) {
            endAttempt(unit, span, error, signal);
            throw error;
          }
          failed(error, "context.with");
          pending = next(input, signal);
        }
        return pending.then(
          (value) => {
            endAttempt(unit, span, undefined, signal);
            return value;
          },
          (error: unknown) => {
            endAttempt(unit, span, error ?? new Error("the step rejected with no reason"), signal);
            throw error;
          },
        );
      };
    });

    const endAttempt = (unit: UnitTrace, span: Span, error: unknown, signal: AbortSignal): void => {
      try {
        if (!takeAttempt(unit, span)) return; // already closed by the unit's or the run's end (abandoned)
        if (error !== undefined) {
          const why = signal.aborted ? signal.reason : error;
          const timeout = timeoutOf(why) ?? timeoutOf(error);
          if (timeout) span.addEvent(E.timeout, timeout);
          findingEvents(span, (error as { findings?: unknown }).findings);
          recordError(span, error);
        }
        span.end();
      } catch (e) {
        failed(e, "attempt end");
      }
    };

    const recordError = (span: Span, error: unknown): void => {
      const e = error instanceof Error ? error : undefined;
      const message = api.redact.text(e ? e.message : describeError(error));
      span.recordException({
        name: e?.name ?? typeof error,
        message,
        ...(e?.stack && { stack: api.redact.text(e.stack) }),
        ...(isTaplineError(error) && { code: error.code }),
      });
      span.setAttribute(A.errorType, errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    };

    const findingEvents = (span: Span, findings: unknown): void => {
      if (!Array.isArray(findings) || findings.length === 0) return;
      const n = Math.min(findings.length, MAX_FINDING_EVENTS);
      for (let i = 0; i < n; i++) {
        const f = findings[i] as Record<string, unknown>;
        span.addEvent(E.finding, {
          "tapline.finding.check": String(f.check),
          "tapline.finding.severity": String(f.severity),
          "tapline.finding.message": api.redact.text(String(f.message)),
          ...(typeof f.file === "string" && { "tapline.finding.file": f.file }),
        });
      }
      if (findings.length > n) span.setAttribute("tapline.findings.dropped", findings.length - n);
    };

    // Late (stage 1000): after the plugins that annotate the report (gpu energy, cost) have.
    hooks.stepEnd.tap({ name: NAME, stage: 1000 }, ({ ctx, report }) => {
      const unit = units.get(ctx);
      if (!unit) return;
      units.delete(ctx);
      const { run, span } = unit;
      if (run.byStep.get(ctx.step) === unit) run.byStep.delete(ctx.step);
      run.units.delete(unit);
      unit.ended = true;
      try {
        // An attempt still in flight at the unit's end was abandoned (the run stopped waiting for it).
        if (unit.attempts?.length) abandonAttempts(unit, report.error);
        unitAttributes(span, report);
        findingEvents(span, report.findings);
        if (report.status === "failed") {
          const timeout = timeoutOf(report.error);
          if (timeout) span.addEvent(E.timeout, timeout);
          recordError(span, report.error);
        } else if (report.status === "cancelled") {
          cancelled(span, report.error);
        }
        span.end();
      } catch (error) {
        failed(error, "stepEnd");
      }
    });

    const abandon = (span: Span, reason: unknown): void => {
      span.addEvent(E.abandoned);
      span.setAttribute(A.errorType, "TAPLINE_ERR_CANCELLED");
      span.setStatus({ code: SpanStatusCode.ERROR, message: api.redact.text(describeError(reason)) });
      span.end();
    };

    const abandonAttempts = (unit: UnitTrace, reason: unknown): void => {
      const list = unit.attempts;
      if (!list) return;
      unit.attempts = undefined;
      for (const a of list) abandon(a, reason);
    };

    /** Closes what a run never finished: units that did not reach stepEnd, and their attempts. */
    const abandonUnits = (run: RunTrace, reason: unknown): void => {
      for (const unit of run.units) {
        unit.ended = true;
        units.delete(unit.ctx);
        abandonAttempts(unit, reason);
        abandon(unit.span, reason);
      }
      run.units.clear();
    };

    const cancelled = (span: Span, error: unknown): void => {
      const reason = (error as { reason?: unknown } | undefined)?.reason ?? error;
      const message = api.redact.text(describeError(reason));
      span.addEvent(E.cancel, { "tapline.cancel.reason": message });
      span.setAttribute(A.errorType, "TAPLINE_ERR_CANCELLED");
      span.setStatus({ code: SpanStatusCode.ERROR, message: `cancelled: ${message}` });
    };

    hooks.runEnd.tap({ name: NAME, stage: 1000 }, ({ ctx, report }) => {
      const run = runsByContext.get(ctx);
      if (!run) return;
      runsByContext.delete(ctx);
      if (runs.get(ctx.runId) === run) runs.delete(ctx.runId);
      run.byStep.clear();
      run.ended = true;
      try {
        // Units the run stopped waiting for never reach stepEnd: close them (and their attempts) here.
        if (run.units.size > 0) abandonUnits(run, report.error);
        const { span } = run;
        span.setAttribute(A.runStatus, report.status);
        if (report.failedStep !== undefined) span.setAttribute(A.failedUnit, report.failedStep);
        if (report.status === "failed") {
          const message = api.redact.text(
            `unit ${report.failedStep ?? "?"} failed: ${describeError(report.error)}`,
          );
          span.setAttribute(A.errorType, errorType(report.error));
          span.setStatus({ code: SpanStatusCode.ERROR, message });
        } else if (report.status === "cancelled") {
          cancelled(span, report.error);
        }
      } catch (error) {
        failed(error, "runEnd");
      } finally {
        try {
          run.span.end();
        } catch (error) {
          failed(error, "runEnd");
        }
      }
    });

    // Shared vocabulary as span events: plugin-retry's samples and every alert, on the span active where
    // they were produced (the unit's, thanks to the outer wrap), else the run's unit of that step.
    hooks.metric.tap(NAME, (sample) => {
      if (bridge) bridge.record(sample);
      const event = SAMPLE_EVENTS.get(sample.name);
      if (event === undefined) return;
      try {
        let owner = ownerOfActive();
        if (!owner && sample.runId !== undefined) {
          const run = runs.get(sample.runId);
          const step = sample.labels.step;
          owner = (step !== undefined && run?.byStep.get(step)) || run;
        }
        if (!owner) return;
        const attributes: Attributes = {};
        if (event === E.retry || event === E.giveUp) {
          if ("ctx" in owner) attributes[A.attempt] = owner.ctx.attempt;
        } else {
          if (sample.labels.breaker !== undefined) attributes["tapline.breaker.name"] = sample.labels.breaker;
          if (sample.labels.key !== undefined) attributes["tapline.breaker.key"] = sample.labels.key;
          if (event === E.breaker)
            attributes["tapline.breaker.state"] = BREAKER_STATES[sample.value] ?? String(sample.value);
        }
        owner.span.addEvent(event, attributes, sample.time);
      } catch (error) {
        failed(error, "metric");
      }
    });

    hooks.alert.tap(NAME, (alert) => {
      try {
        const owner = ownerOfActive() ?? (alert.runId === undefined ? undefined : runs.get(alert.runId));
        if (!owner) return;
        owner.span.addEvent(
          E.alert,
          {
            "tapline.alert.rule": alert.rule,
            "tapline.alert.level": alert.level,
            "tapline.alert.state": alert.state,
            "tapline.alert.message": api.redact.text(alert.message),
          },
          alert.time,
        );
      } catch (error) {
        failed(error, "alert");
      }
    });

    return async () => {
      // Spans of runs still open at close (the app cancels and waits for runs first, so normally none).
      for (const run of runs.values()) {
        run.ended = true;
        abandonUnits(run, undefined);
        run.span.end();
      }
      runs.clear();
      if (opts.flushTimeout > 0) {
        await flush([provider, opts.meterProvider], opts.flushTimeout, (e) => failed(e, "forceFlush"));
      }
    };
  },
});

/** plugin-retry's samples (core's shared vocabulary) that become span events. */
const SAMPLE_EVENTS: ReadonlyMap<string, string> = new Map([
  ["tapline_retries_total", E.retry],
  ["tapline_retry_giveups_total", E.giveUp],
  ["tapline_breaker_state", E.breaker],
  ["tapline_breaker_rejections_total", E.breakerRejected],
]);

function labelAttributes(labels: Readonly<Record<string, string>>, redact: <T>(value: T) => T): Attributes {
  const out: Attributes = {};
  const keys = Object.keys(labels);
  if (keys.length === 0) return out;
  const safe = redact(labels);
  for (const key of keys) {
    if (key === "traceparent" || key === "tracestate") continue;
    out[A.labelPrefix + key] = safe[key];
  }
  return out;
}

function unitAttributes(span: Span, report: StepReport): void {
  const attributes: Attributes = { [A.unitStatus]: report.status, [A.attempts]: report.attempts.length };
  if (report.abandoned) attributes[A.abandoned] = true;
  // Read by shape, never declared: the cost plugin owns the `cost` extension's type.
  const usd = (report.extensions.cost as { usd?: unknown } | undefined)?.usd;
  if (typeof usd === "number" && Number.isFinite(usd)) attributes[A.costUsd] = usd;
  const energy = (report.extensions.gpu as { energyJoules?: unknown } | undefined)?.energyJoules;
  if (typeof energy === "number" && Number.isFinite(energy)) attributes[A.gpuEnergy] = energy;
  span.setAttributes(attributes);
}

function errorType(error: unknown): string {
  if (isTaplineError(error)) return error.code;
  if (error instanceof Error) return error.name;
  return "_OTHER";
}

function timeoutOf(error: unknown): Attributes | undefined {
  if (isTaplineError(error, ["TAPLINE_ERR_STEP_TIMEOUT", "TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT"])) {
    const ms = (error as { timeoutMs?: unknown }).timeoutMs;
    return {
      [A.errorType]: error.code,
      ...(typeof ms === "number" && { "tapline.timeout.ms": ms }),
    };
  }
  return undefined;
}

/** Calls `forceFlush()` on each provider that has one, waiting `ms` at most (a dead exporter never hangs close). */
async function flush(providers: unknown[], ms: number, onError: (e: unknown) => void): Promise<void> {
  const flushes: Promise<unknown>[] = [];
  for (const p of providers) {
    const f = (p as { forceFlush?: () => Promise<unknown> } | undefined)?.forceFlush;
    if (typeof f !== "function") continue;
    try {
      flushes.push(Promise.resolve(f.call(p)).catch(onError));
    } catch (error) {
      onError(error);
    }
  }
  if (flushes.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([Promise.all(flushes), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
