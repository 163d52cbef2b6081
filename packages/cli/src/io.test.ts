import { describe, expect, it } from "vitest";
import { table } from "./io.ts";

describe("table", () => {
  it("aligns columns to the widest cell, ignoring colour escapes", () => {
    expect(table(["a", "bb"], [["\x1b[31mxyz\x1b[39m", "1"]], new Set([1]))).toBe(
      "a    bb\n---  --\n\x1b[31mxyz\x1b[39m   1",
    );
  });

  it("renders a table of 300 000 rows (a long alert history) without overflowing the stack", () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => [String(i), "x"]);
    const text = table(["n", "v"], rows);
    expect(text.split("\n")).toHaveLength(300_002);
    expect(text.split("\n")[1]).toBe("------  -");
  });
});
