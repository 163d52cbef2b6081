import { describe, expect, it } from "vitest";
import { parseComputeApps } from "./compute-apps.ts";

describe("parseComputeApps", () => {
  it("parses the H100 capture's rows (nounits) and skips junk", () => {
    const text = [
      "GPU-00000000-0000-0000-0000-000000000000, 11327, 2566",
      "GPU-00000000-0000-0000-0000-000000000000, 11345, [N/A]",
      "No running processes found",
      "GPU-1, notapid, 3",
      "",
    ].join("\n");
    expect(parseComputeApps(text)).toEqual([
      { uuid: "GPU-00000000-0000-0000-0000-000000000000", pid: 11327, memoryUsedBytes: 2566 * 1048576 },
      { uuid: "GPU-00000000-0000-0000-0000-000000000000", pid: 11345 },
    ]);
  });
});
