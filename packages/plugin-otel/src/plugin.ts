import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { definePlugin, describeError, type PluginFactory, type StepContext, WrapStage } from "@tapline/core";
import { OTEL_ATTRIBUTES as A, OTEL_EVENTS as E } from "./attributes.ts";
import { flush } from "./flush.ts";
import { type MetricBridge, metricBridge } from "./metric-bridge.ts";
import type { NormalizedOtelOptions, OtelPluginOptions } from "./options.ts";
import {
  abandonAttempts,
  abandonUnits,
  OWNER,
  ownerOf,
  type RunTrace,
  takeAttempt,
  type UnitTrace,
} from "./run-trace.ts";
import { OtelOptionsSchema } from "./schemas.ts";
import {
  alertAttributes,
  errorType,
  findingEvents,
  labelAttributes,
  markCancelled,
  recordError,
  SAMPLE_EVENTS,
  sampleAttributes,
  timeoutOf,
  unitAttributes,
} from "./span-record.ts";
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

/** The unit fields core gains with units of work (issue #14); read defensively while core is a chain. */
type UnitFields = { readonly path?: string; readonly definitionPath?: string; readonly parent?: StepContext };

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
 * const exporter = new OTLPTraceExporter(); // @opentelemetry/exporter-trace-otlp-http
 * const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
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
    const { hooks, redact } = api;
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

    hooks.runStart.tap({ name: NAME, stage: -UNIT_STAGE }, ({ ctx }) => {
      try {
        let parent = context.active();
        // The run option first (never a metric label), then the label, for callers that can only set labels.
        const fromOption = ctx.traceparent !== undefined;
        const carried = fromOption ? ctx.traceparent : label === false ? undefined : ctx.labels[label];
        if (carried !== undefined) {
          const remote = contextFromTraceparent(
            carried,
            fromOption ? ctx.tracestate : ctx.labels.tracestate,
            parent,
          );
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
        const attributes = labelAttributes(ctx.labels, redact);
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
          findingEvents(span, (error as { findings?: unknown }).findings, redact);
          recordError(span, error, redact);
        }
        span.end();
      } catch (e) {
        failed(e, "attempt end");
      }
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
        if (unit.attempts?.length) abandonAttempts(unit, report.error, redact);
        unitAttributes(span, report);
        findingEvents(span, report.findings, redact);
        if (report.status === "failed") {
          const timeout = timeoutOf(report.error);
          if (timeout) span.addEvent(E.timeout, timeout);
          recordError(span, report.error, redact);
        } else if (report.status === "cancelled") {
          markCancelled(span, report.error, redact);
        }
        span.end();
      } catch (error) {
        failed(error, "stepEnd");
      }
    });

    hooks.runEnd.tap({ name: NAME, stage: 1000 }, ({ ctx, report }) => {
      const run = runsByContext.get(ctx);
      if (!run) return;
      runsByContext.delete(ctx);
      if (runs.get(ctx.runId) === run) runs.delete(ctx.runId);
      run.byStep.clear();
      run.ended = true;
      try {
        // Units the run stopped waiting for never reach stepEnd: close them (and their attempts) here.
        if (run.units.size > 0) abandonUnits(run, report.error, units, redact);
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
          markCancelled(span, report.error, redact);
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
        let owner = ownerOf(context.active());
        // Outside a unit's context (no context manager, or a hook of core's), the sample's step names it.
        if ((!owner || !("ctx" in owner)) && sample.runId !== undefined) {
          const run = runs.get(sample.runId);
          const step = sample.labels.step;
          owner = (step !== undefined ? run?.byStep.get(step) : undefined) ?? owner ?? run;
        }
        if (!owner) return;
        owner.span.addEvent(
          event,
          sampleAttributes(event, sample, "ctx" in owner ? owner.ctx : undefined),
          sample.time,
        );
      } catch (error) {
        failed(error, "metric");
      }
    });

    hooks.alert.tap(NAME, (alert) => {
      try {
        const owner =
          ownerOf(context.active()) ?? (alert.runId === undefined ? undefined : runs.get(alert.runId));
        if (!owner) return;
        owner.span.addEvent(E.alert, alertAttributes(alert, redact), alert.time);
      } catch (error) {
        failed(error, "alert");
      }
    });

    return async () => {
      // Spans of runs still open at close (the app cancels and waits for runs first, so normally none).
      for (const run of runs.values()) {
        run.ended = true;
        try {
          abandonUnits(run, undefined, units, redact);
          run.span.end();
        } catch (error) {
          failed(error, "dispose");
        }
      }
      runs.clear();
      if (opts.flushTimeout > 0) {
        await flush([provider, opts.meterProvider], opts.flushTimeout, (e) => failed(e, "forceFlush"));
      }
    };
  },
});
