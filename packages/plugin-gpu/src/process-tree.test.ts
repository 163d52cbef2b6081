import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { processTree } from "./process-tree.ts";

describe("processTree", () => {
  it("contains the root and its children and grandchildren, not unrelated processes", async () => {
    // sh -> sleep: a grandchild of this process
    const child = spawn("sh", ["-c", "sleep 5 & wait"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const tree = await processTree(process.pid);
      expect(tree.has(process.pid)).toBe(true);
      expect(tree.has(child.pid!)).toBe(true);
      expect(tree.size).toBeGreaterThanOrEqual(3);
      expect(tree.has(1)).toBe(false);
      const childTree = await processTree(child.pid!);
      expect(childTree.has(process.pid)).toBe(false);
      expect(childTree.size).toBe(2);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
