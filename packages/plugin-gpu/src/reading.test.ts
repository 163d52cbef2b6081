import { describe, expect, it } from "vitest";
import { GPU_QUERY_FIELDS, loopArgs, parseGpuLine, parseNumber, rejectedField } from "./reading.ts";

const F = GPU_QUERY_FIELDS;
// The H100 "load" row of test/fixtures/h100.csv, as nvidia-smi prints it with nounits for our field order.
const H100_LOAD =
  "0, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H100 80GB HBM3, 100, 11, 19818, 81559, 59, 631.95, 700.00, 1980, 2619, P0, 0x0000000000000000, Enabled";

describe("parseGpuLine", () => {
  it("converts a real H100 line to base units", () => {
    const r = parseGpuLine(H100_LOAD, F)!;
    expect(r).toEqual({
      index: 0,
      uuid: "GPU-00000000-0000-0000-0000-000000000000",
      name: "NVIDIA H100 80GB HBM3",
      utilization: 1,
      memoryUtilization: 0.11,
      memoryUsedBytes: 19818 * 1048576,
      memoryTotalBytes: 81559 * 1048576,
      temperatureCelsius: 59,
      powerDrawWatts: 631.95,
      powerLimitWatts: 700,
      smClockHz: 1980e6,
      memoryClockHz: 2619e6,
      pstate: "P0",
      throttleMask: 0,
      throttleReasons: [],
      persistenceMode: true,
    });
  });

  it("leaves [N/A], [Not Supported], [Unknown Error] and N/A fields absent, never NaN", () => {
    const line =
      "1, GPU-df6e7a7c-7314-46f8-abc4-b88b36dcf3aa, NVIDIA GeForce RTX 2080 SUPER, [N/A], [Not Supported], 575, [Unknown Error], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [Not Supported], N/A";
    const r = parseGpuLine(line, F)!;
    expect(r).toEqual({
      index: 1,
      uuid: "GPU-df6e7a7c-7314-46f8-abc4-b88b36dcf3aa",
      name: "NVIDIA GeForce RTX 2080 SUPER",
      memoryUsedBytes: 575 * 1048576,
    });
    for (const v of Object.values(r)) expect(Number.isNaN(v)).toBe(false);
  });

  it("decodes the throttle mask into reasons", () => {
    const r = parseGpuLine(H100_LOAD.replace("0x0000000000000000", "0x0000000000000045"), F)!;
    expect(r.throttleMask).toBe(0x45);
    expect(r.throttleReasons).toEqual(["gpu_idle", "sw_power_cap", "hw_thermal_slowdown"]);
  });

  it("keeps a product name that contains a comma", () => {
    const r = parseGpuLine("3, GPU-1, Odd, Name, 50", ["index", "uuid", "name", "utilization.gpu"])!;
    expect(r.name).toBe("Odd, Name");
    expect(r.utilization).toBe(0.5);
  });

  it("rejects lines that are not readings", () => {
    expect(parseGpuLine("No devices were found", F)).toBeUndefined();
    expect(parseGpuLine("0, GPU-0000", F)).toBeUndefined(); // torn
    expect(parseGpuLine("", F)).toBeUndefined();
    expect(parseGpuLine(H100_LOAD.replace(/^0/, "[N/A]"), F)).toBeUndefined(); // no index
    expect(
      parseGpuLine(H100_LOAD.replace("GPU-00000000-0000-0000-0000-000000000000", "[N/A]"), F),
    ).toBeUndefined();
  });

  it("follows the field order it is given (a driver that lacks a field)", () => {
    const fields = F.filter((f) => f !== "clocks_throttle_reasons.active");
    const r = parseGpuLine(H100_LOAD.replace(", 0x0000000000000000", ""), fields)!;
    expect(r.persistenceMode).toBe(true);
    expect(r.throttleMask).toBeUndefined();
  });
});

describe("helpers", () => {
  it("parseNumber", () => {
    expect(parseNumber("69.85")).toBe(69.85);
    expect(parseNumber("[N/A]")).toBeUndefined();
    expect(parseNumber("Enabled")).toBeUndefined();
    expect(parseNumber("")).toBeUndefined();
  });
  it("loopArgs builds an argument array, no shell", () => {
    expect(loopArgs(["index", "uuid"], 250)).toEqual([
      "--query-gpu=index,uuid",
      "--format=csv,noheader,nounits",
      "-lms",
      "250",
    ]);
    expect(loopArgs(["index"])).toEqual(["--query-gpu=index", "--format=csv,noheader,nounits"]);
  });
  it("rejectedField reads nvidia-smi's message", () => {
    expect(rejectedField('Field "clocks_throttle_reasons.active" is not a valid field to query.')).toBe(
      "clocks_throttle_reasons.active",
    );
    expect(rejectedField("No devices were found")).toBeUndefined();
  });
});
