import { execa } from "execa";
import { GpuUnavailableError, missingBinary } from "./errors.ts";
import type { NvidiaSmiOptions } from "./options.ts";
import {
  GPU_QUERY_FIELDS,
  type GpuReading,
  type GpuSnapshot,
  loopArgs,
  parseGpuLine,
  REQUIRED_FIELDS,
  rejectedField,
} from "./reading.ts";
import { parseGpuOptions, resolveBinary, SampleOptionsSchema } from "./schemas.ts";

/** Options of {@link sampleGpus}. */
export interface SampleGpusOptions extends NvidiaSmiOptions {
  /** Kill nvidia-smi after this many ms. Default 15 000 (it can take seconds with persistence mode off). */
  timeout?: number;
  /** Cancels the query. */
  signal?: AbortSignal;
}

/**
 * Reads every GPU once with one short-lived `nvidia-smi --query-gpu=...` (asynchronously: the event loop is
 * never blocked). Rejects with a `GpuUnavailableError` when nvidia-smi is missing, finds no GPU or fails.
 * For repeated sampling use `watchGpus()`: each nvidia-smi start costs GPU initialisation time when
 * persistence mode is off.
 *
 * @example
 * const { gpus } = await sampleGpus();
 * for (const g of gpus) console.log(g.index, g.name, g.utilization, g.memoryUsedBytes);
 */
export async function sampleGpus(options: SampleGpusOptions = {}): Promise<GpuSnapshot> {
  options = parseGpuOptions(SampleOptionsSchema, options, "sampleGpus()");
  const binary = resolveBinary(options.binary);
  const timeout = options.timeout ?? 15_000;
  let fields: string[] = [...GPU_QUERY_FIELDS];
  for (;;) {
    const result = await execa(binary, loopArgs(fields), {
      reject: false,
      stdin: "ignore",
      timeout,
      maxBuffer: 4 * 1024 * 1024,
      windowsHide: true,
      ...(options.signal && { cancelSignal: options.signal }),
    });
    if (result.isCanceled) throw options.signal?.reason ?? new Error("sampleGpus was cancelled");
    if (result.code === "ENOENT" || result.code === "EACCES") {
      throw missingBinary(binary, result.code, result.cause);
    }
    const stdout = String(result.stdout ?? "");
    const output = `${stdout}\n${String(result.stderr ?? "")}`.trim();
    const gpus: GpuReading[] = [];
    for (const line of stdout.split("\n")) {
      const reading = parseGpuLine(line, fields);
      if (reading) gpus.push(reading);
    }
    if (!result.failed && gpus.length > 0) return { time: Date.now(), gpus };
    const field = rejectedField(output);
    if (field !== undefined && !REQUIRED_FIELDS.has(field) && fields.includes(field)) {
      fields = fields.filter((f) => f !== field);
      continue;
    }
    if (result.timedOut) {
      throw new GpuUnavailableError({
        reason: "rejected",
        binary,
        detail: `nvidia-smi did not answer within ${timeout} ms`,
        output,
      });
    }
    const noGpu =
      gpus.length === 0 &&
      (!result.failed ||
        /No devices were found|couldn't communicate with the NVIDIA driver|NVIDIA-SMI has failed/i.test(
          output,
        ));
    const first = output.split("\n").find((l) => l.trim()) ?? `exited with code ${String(result.exitCode)}`;
    throw new GpuUnavailableError({
      reason: noGpu ? "no-gpu" : "rejected",
      binary,
      detail: `nvidia-smi cannot sample GPUs here: ${first.trim()}`,
      output,
    });
  }
}
