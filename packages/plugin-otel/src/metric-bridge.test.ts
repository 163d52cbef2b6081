import type { Meter, MeterProvider } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { metricBridge } from "./metric-bridge.ts";

function fakeProvider() {
  const calls: string[] = [];
  const meter = {
    createCounter: (name: string, o: { unit?: string }) => {
      calls.push(`counter ${name} ${o.unit ?? ""}`);
      return { add: (v: number, a: object) => void calls.push(`add ${name} ${v} ${JSON.stringify(a)}`) };
    },
    createGauge: (name: string, o: { unit?: string }) => {
      calls.push(`gauge ${name} ${o.unit ?? ""}`);
      return {
        record: (v: number) => {
          if (v === 13) throw new Error("meter broke");
          calls.push(`record ${name} ${v}`);
        },
      };
    },
  } as unknown as Meter;
  return { provider: { getMeter: () => meter } as unknown as MeterProvider, calls };
}

const sample = (name: string, value: number, extra: object = {}) => ({
  name,
  value,
  labels: { step: "tts" },
  time: 0,
  ...extra,
});

describe("metricBridge", () => {
  it("one instrument per name and type, units mapped to UCUM", () => {
    const { provider, calls } = fakeProvider();
    const b = metricBridge(provider);
    b.record(sample("tapline_step_duration_seconds", 0.5, { unit: "seconds" }));
    b.record(sample("tapline_step_duration_seconds", 0.7, { unit: "seconds" }));
    b.record(sample("tapline_retries_total", 1, { type: "counter" }));
    expect(calls).toEqual([
      "gauge tapline_step_duration_seconds s",
      "record tapline_step_duration_seconds 0.5",
      "record tapline_step_duration_seconds 0.7",
      "counter tapline_retries_total ",
      'add tapline_retries_total 1 {"step":"tts"}',
    ]);
    expect(b.instruments).toBe(2);
  });

  it("skips what OTel would reject and never throws: negative increments, bad names, NaN, a broken meter", () => {
    const { provider } = fakeProvider();
    const b = metricBridge(provider);
    b.record(sample("c_total", -1, { type: "counter" }));
    b.record(sample("9starts-with-digit", 1));
    b.record(sample("g", Number.NaN));
    expect(() => b.record(sample("g", 13))).not.toThrow();
    expect(b.skipped).toBe(4);
  });
});
