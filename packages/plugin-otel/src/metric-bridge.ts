import type { Counter, Gauge, Meter, MeterProvider } from "@opentelemetry/api";
import type { MetricSample } from "@tapline/core";

/** Tapline base units (Prometheus words) as UCUM, the units OpenTelemetry instruments use. */
const UNITS: Readonly<Record<string, string>> = {
  seconds: "s",
  milliseconds: "ms",
  bytes: "By",
  ratio: "1",
  percent: "%",
  celsius: "Cel",
  watts: "W",
  joules: "J",
  hertz: "Hz",
};

/** OpenTelemetry's instrument-name rule; other names are skipped, never thrown on. */
const NAME = /^[A-Za-z][A-Za-z0-9_./-]{0,254}$/;

/** Distinct instruments one bridge creates at most, so a producer inventing names cannot grow memory. */
const MAX_INSTRUMENTS = 2000;

/** Records Tapline metric samples on OpenTelemetry instruments. Returned by {@link metricBridge}. */
export interface MetricBridge {
  /** Records one sample: `counter` samples are added to a counter, others recorded on a gauge. Never throws. */
  record(sample: MetricSample): void;
  /** Instruments created so far. */
  readonly instruments: number;
  /** Samples skipped: a negative counter increment, a name OpenTelemetry rejects, over the instrument cap. */
  readonly skipped: number;
}

/**
 * A bridge from Tapline's metric vocabulary to an OpenTelemetry meter, usable without a pipeline (the
 * plugin's `meterProvider` option feeds it every `metric` hook sample). One instrument per sample name and
 * type, created on first use; the sample's labels become attributes, its unit is mapped to UCUM.
 *
 * @example
 * const bridge = metricBridge(meterProvider);
 * bridge.record({ name: "tapline_step_duration_seconds", value: 0.2, labels: { step: "tts" }, time: Date.now() });
 */
export function metricBridge(provider: MeterProvider, meterName = "@tapline/plugin-otel"): MetricBridge {
  const meter: Meter = provider.getMeter(meterName);
  const counters = new Map<string, Counter>();
  const gauges = new Map<string, Gauge>();
  let instruments = 0;
  let skipped = 0;
  const create = <T>(name: string, unit: string | undefined, make: (opts: object) => T): T | undefined => {
    if (instruments >= MAX_INSTRUMENTS || !NAME.test(name)) return undefined;
    instruments++;
    const mapped = unit === undefined ? undefined : (UNITS[unit] ?? unit);
    return make(mapped === undefined ? {} : { unit: mapped });
  };
  return {
    record(sample) {
      const { name, value } = sample;
      if (typeof value !== "number" || !Number.isFinite(value)) {
        skipped++;
        return;
      }
      try {
        if (sample.type === "counter") {
          let c = counters.get(name);
          if (c === undefined) {
            c = create(name, sample.unit, (o) => meter.createCounter(name, o));
            if (c) counters.set(name, c);
          }
          if (!c || value < 0) skipped++;
          else c.add(value, sample.labels);
        } else {
          let g = gauges.get(name);
          if (g === undefined) {
            g = create(name, sample.unit, (o) => meter.createGauge(name, o));
            if (g) gauges.set(name, g);
          }
          if (!g) skipped++;
          else g.record(value, sample.labels);
        }
      } catch {
        // A misbehaving meter (a broken SDK) loses this sample, never the producer's call.
        skipped++;
      }
    },
    get instruments() {
      return instruments;
    },
    get skipped() {
      return skipped;
    },
  };
}
