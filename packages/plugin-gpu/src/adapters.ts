/** A display or compute adapter found by systeminformation (any vendor). */
export interface GpuAdapter {
  readonly vendor: string;
  readonly model: string;
  /** PCI bus, when known. */
  readonly bus?: string;
  /** Video memory in bytes, when known. */
  readonly vramBytes?: number;
  readonly driverVersion?: string;
}

/**
 * Lists every graphics adapter (NVIDIA or not) through systeminformation's `graphics()`: static facts that
 * nvidia-smi does not give (other vendors, integrated GPUs). Costly and partly synchronous (systeminformation
 * 5 runs `nvidia-smi` with `execFileSync`), so call it once, never per sample; the plugin calls it only when
 * nvidia-smi is unavailable, to say what the machine has instead. Resolves to `[]` if it fails.
 *
 * @example
 * for (const a of await listGpuAdapters()) console.log(a.vendor, a.model);
 */
export async function listGpuAdapters(): Promise<GpuAdapter[]> {
  try {
    const si = await import("systeminformation");
    const { controllers } = await si.graphics();
    return controllers.map((c) => ({
      vendor: c.vendor || "unknown",
      model: c.model || c.name || "unknown",
      ...(c.bus && { bus: c.bus }),
      ...(typeof c.vram === "number" && c.vram > 0 && { vramBytes: c.vram * 1024 * 1024 }),
      ...(c.driverVersion && { driverVersion: c.driverVersion }),
    }));
  } catch {
    return [];
  }
}
