import { describe, expect, it } from "vitest";
import { columnPlan, numberAt, parseGpuLine, parseGpuRange } from "./parse-line.ts";
import { GPU_QUERY_FIELDS } from "./reading.ts";

const F = GPU_QUERY_FIELDS;
const H100 =
  "0, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H100 80GB HBM3, 100, 11, 19818, 81559, 59, 631.95, 700.00, 1980, 2619, P0, 0x0000000000000004, Enabled";

describe("numberAt (hand-read decimals)", () => {
  const at = (cell: string) => numberAt(cell, 0, cell.length);
  it("is bit-identical to Number() for the decimals nvidia-smi prints", () => {
    for (const cell of [
      "0",
      "7",
      "100",
      "69.85",
      "631.95",
      "700.00",
      "0.1",
      "0.3",
      "1.005",
      "-12.5",
      "81559",
    ]) {
      expect(Object.is(at(cell), Number(cell))).toBe(true);
    }
    // Every power reading 0.00..999.99 W.
    for (let i = 0; i < 100_000; i++) {
      const cell = (i / 100).toFixed(2);
      if (at(cell) !== Number(cell)) throw new Error(`${cell}: ${at(cell)} !== ${Number(cell)}`);
    }
  });
  it("falls back to Number() for other forms, and is absent for non-numbers", () => {
    expect(at("1e3")).toBe(1000);
    expect(at("1234567890123456789")).toBe(Number("1234567890123456789"));
    expect(at("[N/A]")).toBeUndefined();
    expect(at("[Not Supported]")).toBeUndefined();
    expect(at("N/A")).toBeUndefined();
    expect(at("")).toBeUndefined();
    expect(at("-")).toBeUndefined();
    expect(at(".")).toBeUndefined();
    expect(at("12 %")).toBeUndefined();
    expect(at("Infinity")).toBeUndefined();
  });
  it("reads a range inside a longer string", () => {
    expect(numberAt("a,631.95,b", 2, 8)).toBe(631.95);
  });
});

describe("parseGpuLine edge cases", () => {
  it("ignores odd spacing: no spaces, many spaces, tabs, a trailing CR", () => {
    const base = parseGpuLine(H100, F)!;
    expect(parseGpuLine(H100.replaceAll(", ", ","), F)).toEqual(base);
    expect(parseGpuLine(H100.replaceAll(", ", " ,   "), F)).toEqual(base);
    expect(parseGpuLine(H100.replaceAll(", ", ",\t"), F)).toEqual(base);
    expect(parseGpuLine(`  ${H100}\r`, F)).toEqual(base);
    expect(base.powerDrawWatts).toBe(631.95);
    expect(base.throttleReasons).toEqual(["sw_power_cap"]);
  });

  it("keeps [N/A], [Not Supported] and N/A in every column absent, the reading still valid", () => {
    const line = (cell: string) =>
      `3, GPU-abc, Tesla T4, ${Array.from({ length: F.length - 3 }, () => cell).join(", ")}`;
    for (const cell of [
      "[N/A]",
      "[Not Supported]",
      "N/A",
      "[Unknown Error]",
      "",
      "[Insufficient Permissions]",
    ]) {
      const r = parseGpuLine(line(cell), F)!;
      expect(r, cell).toEqual({ index: 3, uuid: "GPU-abc", name: "Tesla T4" });
      expect(Object.keys(r)).toEqual(["index", "uuid", "name"]);
    }
  });

  it("leaves a malformed throttle mask or persistence value absent", () => {
    for (const mask of ["0x", "0xZZ", "12", "0x00000000000000000001", "Enabled"]) {
      const r = parseGpuLine(H100.replace("0x0000000000000004", mask), F)!;
      expect(r.throttleMask, mask).toBeUndefined();
      expect(r.throttleReasons).toBeUndefined();
    }
    expect(parseGpuLine(H100.replace("0x0000000000000004", "0X41"), F)!.throttleMask).toBe(0x41);
    expect(parseGpuLine(H100.replace("Enabled", "Disabled"), F)!.persistenceMode).toBe(false);
    expect(parseGpuLine(H100.replace("Enabled", "enabled"), F)!.persistenceMode).toBeUndefined();
  });

  it("rejects torn lines at every cut, never returning a half-parsed reading", () => {
    for (let cut = 0; cut < H100.length; cut++) {
      const torn = H100.slice(0, cut);
      const r = parseGpuLine(torn, F);
      // A cut inside the last cell still has every column: it may parse, but only with that cell shortened.
      if (r !== undefined) expect(torn.split(",").length).toBe(F.length);
    }
    expect(parseGpuLine(H100.slice(0, H100.lastIndexOf(",")), F)).toBeUndefined();
  });

  it("rejects a non-integer or missing index and a missing uuid", () => {
    expect(parseGpuLine(H100.replace(/^0/, "0.5"), F)).toBeUndefined();
    expect(parseGpuLine(H100.replace(/^0/, ""), F)).toBeUndefined();
    expect(parseGpuLine(H100.replace("GPU-00000000-0000-0000-0000-000000000000", ""), F)).toBeUndefined();
    expect(parseGpuLine(H100.replace("GPU-00000000-0000-0000-0000-000000000000", "N/A"), F)).toBeUndefined();
  });

  it("glues several commas back into the name, wherever the name column is", () => {
    const fields = ["uuid", "utilization.gpu", "name", "index"];
    const r = parseGpuLine("GPU-9, 40, A, B, C, 2", fields)!;
    expect(r).toEqual({ index: 2, uuid: "GPU-9", name: "A, B, C", utilization: 0.4 });
    expect(parseGpuLine("GPU-9, 40, 7, 2", ["uuid", "utilization.gpu", "index"])).toBeUndefined(); // extra cell
  });

  it("skips fields it does not know, and handles many columns", () => {
    const fields = ["index", "fan.speed", "uuid", ...Array.from({ length: 40 }, (_, i) => `x${i}`)];
    const line = `1, 38, GPU-1, ${Array.from({ length: 40 }, (_, i) => i).join(", ")}`;
    expect(parseGpuLine(line, fields)).toEqual({ index: 1, uuid: "GPU-1", name: "" });
  });

  it("parses a line in place inside a chunk (the watcher's path)", () => {
    const chunk = `garbage\n${H100}\nmore`;
    const from = chunk.indexOf("\n") + 1;
    const to = chunk.indexOf("\n", from);
    expect(parseGpuRange(chunk, from, to, columnPlan(F))).toEqual(parseGpuLine(H100, F));
  });
});
