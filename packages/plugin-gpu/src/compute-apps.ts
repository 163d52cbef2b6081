import { execa } from "execa";
import { parseNumber } from "./reading.ts";

/** GPU memory held by one process, from `nvidia-smi --query-compute-apps`. */
export interface GpuProcess {
  /** UUID of the GPU the memory is on. */
  readonly uuid: string;
  readonly pid: number;
  /** Absent when the driver does not report it (`[N/A]`, e.g. Windows WDDM). */
  readonly memoryUsedBytes?: number;
}

/** The arguments of the per-process query. */
export const COMPUTE_APPS_ARGS = [
  "--query-compute-apps=gpu_uuid,pid,used_memory",
  "--format=csv,noheader,nounits",
];

/** Parses `--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits` output. */
export function parseComputeApps(text: string): GpuProcess[] {
  const out: GpuProcess[] = [];
  for (const line of text.split("\n")) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length !== 3 || !cells[0]!.startsWith("GPU-")) continue;
    const pid = parseNumber(cells[1]!);
    if (pid === undefined || !Number.isInteger(pid)) continue;
    const mib = parseNumber(cells[2]!);
    out.push(
      mib === undefined
        ? { uuid: cells[0]!, pid }
        : { uuid: cells[0]!, pid, memoryUsedBytes: mib * 1024 * 1024 },
    );
  }
  return out;
}

/** Runs the per-process query once (asynchronously, bounded by `timeoutMs`). */
export async function queryComputeApps(binary: string, timeoutMs: number): Promise<GpuProcess[]> {
  const result = await execa(binary, COMPUTE_APPS_ARGS, {
    reject: false,
    stdin: "ignore",
    timeout: timeoutMs,
    maxBuffer: 4 * 1024 * 1024,
  });
  if (result.failed) {
    throw new Error(`nvidia-smi --query-compute-apps failed: ${result.shortMessage ?? result.message}`);
  }
  return parseComputeApps(String(result.stdout));
}
