import type { AlertLevel, Labels } from "@tapline/core";

/** One alert inside a notification (the shape of an alert in Alertmanager's webhook v4, times as epoch ms). */
export interface NotificationAlert {
  readonly status: "firing" | "resolved";
  readonly rule: string;
  readonly level: AlertLevel;
  /** The labels as sent to Alertmanager and webhooks: identifying labels, `alertname`, `severity`, `run_id` for run-scoped alerts. */
  readonly labels: Labels;
  /** `summary` (the human message) and the rule's annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly message: string;
  readonly value?: number;
  /** Epoch ms. */
  readonly startsAt: number;
  /** Epoch ms; set when resolved. */
  readonly endsAt?: number;
  /**
   * The alert's fingerprint: `fingerprint(labels)`, equal to Alertmanager's for the same label set, and the same
   * value in history, `summary()`, `active()` and webhook bodies. It changes with the level (`severity` is a label).
   */
  readonly fingerprint: string;
  readonly runId?: string;
  /** The plugin that raised it, for alerts that came in through `raise()` / the `alert` hook. */
  readonly source?: string;
}

/**
 * What a handler receives: one group of alerts (Alertmanager's grouping), after silences, inhibition and
 * dedup. `status` is `resolved` only when every alert in it is resolved.
 */
export interface AlertNotification {
  readonly status: "firing" | "resolved";
  readonly alerts: readonly NotificationAlert[];
  /** The labels the group is keyed on (`route.groupBy`). */
  readonly groupLabels: Labels;
  /** Labels every alert of the group shares. */
  readonly commonLabels: Labels;
  /** Annotations every alert of the group shares. */
  readonly commonAnnotations: Readonly<Record<string, string>>;
  /** Alertmanager-style group key: `{}:{alertname="StepSlow"}`. */
  readonly groupKey: string;
  /** The most severe level among the firing alerts (or among all, when resolved). */
  readonly level: AlertLevel;
  /** Epoch ms of the flush. */
  readonly time: number;
}

/** @internal Labels shared by all label sets. */
export function commonOf(sets: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0] };
  for (let i = 1; i < sets.length; i++) {
    for (const k of Object.keys(out)) if (sets[i]![k] !== out[k]) delete out[k];
  }
  return out;
}
