export { OTEL_ATTRIBUTES, OTEL_EVENTS } from "./attributes.ts";
export { type MetricBridge, metricBridge } from "./metric-bridge.ts";
export type { OtelPluginOptions } from "./options.ts";
export { otel } from "./plugin.ts";
export { contextFromTraceparent, parseTraceparent, traceparentOf } from "./traceparent.ts";
