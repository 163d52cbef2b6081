/**
 * Clock event ("throttle") reasons, decoded from the `clocks_throttle_reasons.active` bitmask that
 * nvidia-smi prints as hex (`0x0000000000000004`). Bit values are NVML's `nvmlClocksEventReason*` constants.
 */

import type { ListsEvery } from "./internal/lists.ts";

/** A named clock event reason. */
export type ThrottleReason =
  | "gpu_idle"
  | "applications_clocks_setting"
  | "sw_power_cap"
  | "hw_slowdown"
  | "sync_boost"
  | "sw_thermal_slowdown"
  | "hw_thermal_slowdown"
  | "hw_power_brake_slowdown"
  | "display_clock_setting";

/** Every reason with its NVML bit, in bit order (a `ThrottleReason` missing here does not compile). */
export const THROTTLE_REASONS = [
  { reason: "gpu_idle", bit: 0x1 },
  { reason: "applications_clocks_setting", bit: 0x2 },
  { reason: "sw_power_cap", bit: 0x4 },
  { reason: "hw_slowdown", bit: 0x8 },
  { reason: "sync_boost", bit: 0x10 },
  { reason: "sw_thermal_slowdown", bit: 0x20 },
  { reason: "hw_thermal_slowdown", bit: 0x40 },
  { reason: "hw_power_brake_slowdown", bit: 0x80 },
  { reason: "display_clock_setting", bit: 0x100 },
] as const satisfies readonly { readonly reason: ThrottleReason; readonly bit: number }[];
const _everyReason: ListsEvery<(typeof THROTTLE_REASONS)[number]["reason"][], ThrottleReason> = true;

/**
 * The reasons that mean the GPU is being slowed against the workload's will (power, heat, power brake).
 * `gpu_idle`, application clocks, sync boost and display clocks are normal operation.
 */
export const THROTTLING_REASONS: ReadonlySet<ThrottleReason> = new Set([
  "sw_power_cap",
  "hw_slowdown",
  "sw_thermal_slowdown",
  "hw_thermal_slowdown",
  "hw_power_brake_slowdown",
] as const satisfies readonly ThrottleReason[]);

const cache = new Map<number, readonly ThrottleReason[]>();

/** Decodes a bitmask into reason names (results are cached per mask: the set of masks seen is tiny). */
export function decodeThrottleMask(mask: number): readonly ThrottleReason[] {
  let reasons = cache.get(mask);
  if (!reasons) {
    reasons = Object.freeze(
      THROTTLE_REASONS.filter((r) => (mask & r.bit) !== 0).map((r): ThrottleReason => r.reason),
    );
    if (cache.size < 1024) cache.set(mask, reasons);
  }
  return reasons;
}
