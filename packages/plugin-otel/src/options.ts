import type { MeterProvider, TracerProvider } from "@opentelemetry/api";

/** Options of the {@link otel} plugin. Validated once, when the plugin is registered; unknown keys are errors. */
export interface OtelPluginOptions {
  /**
   * Where spans go. Default: the provider registered with `@opentelemetry/api` (`trace.getTracerProvider()`,
   * a no-op until an SDK registers one), read when the app is created.
   */
  tracerProvider?: TracerProvider;
  /**
   * Turns the metrics bridge on: every sample of the `metric` hook is also recorded on an instrument of this
   * provider (a counter for `counter` samples, a gauge otherwise), named as the sample, with its labels as
   * attributes. Off by default.
   */
  meterProvider?: MeterProvider;
  /**
   * The run label read as a W3C `traceparent` (with `tracestate` from the label of that name), so a run
   * started in another process continues the caller's trace: `run(input, { labels: { traceparent } })`.
   * Default `"traceparent"`; `false` reads no label (only the caller's active context).
   */
  traceparentLabel?: string | false;
  /**
   * How long `app.close()` waits for the providers' `forceFlush()`, in ms, so the last runs' spans leave
   * before the process exits. A slow or dead exporter delays `close()` by at most this long. `0` skips the
   * flush. Default 2000.
   */
  flushTimeout?: number;
}

/** @internal The options after defaults. */
export interface NormalizedOtelOptions {
  readonly tracerProvider: TracerProvider | undefined;
  readonly meterProvider: MeterProvider | undefined;
  readonly traceparentLabel: string | false;
  readonly flushTimeout: number;
}
