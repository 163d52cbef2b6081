import type { HistoryStats, MetricHistory } from "./history.ts";
import type { PerformanceTracker, TrackerSnapshot } from "./tracker.ts";

/** A point-in-time view of everything the plugin tracks. */
export interface MetricsSnapshot extends TrackerSnapshot {
  /** History stats of every system and process metric (`tapline_system_*`, `tapline_process_*`). */
  readonly system: readonly HistoryStats[];
  /** History stats of every other metric hook sample: quality gauges from validators, retry counters... */
  readonly quality: readonly HistoryStats[];
}

/** Names the system sampler publishes under. */
const SYSTEM_PREFIXES = ["tapline_system_", "tapline_process_", "tapline_sampler_"];
/** Already in the tracker (as the step series). */
const STEP_DURATION = "tapline_step_duration_seconds";

/** The tracker's snapshot with the history split into system metrics and everything else. */
export function metricsSnapshot(tracker: PerformanceTracker, history: MetricHistory): MetricsSnapshot {
  const system: HistoryStats[] = [];
  const quality: HistoryStats[] = [];
  for (const h of history.all()) {
    if (SYSTEM_PREFIXES.some((p) => h.name.startsWith(p))) system.push(h);
    else if (h.name !== STEP_DURATION) quality.push(h);
  }
  return { ...tracker.snapshot(), system, quality };
}
