import type { AlertLevel, StatusPart } from "@tapline/core";
import type { HandlerStats } from "./handler.ts";
import type { AlertHistoryEntry } from "./history.ts";

/** An alert instance that is pending or firing now. */
export interface ActiveAlert {
  /** The alert's one fingerprint (Alertmanager's, over `labels` with `severity` = `level` and `run_id`). */
  readonly fingerprint: string;
  readonly rule: string;
  readonly level: AlertLevel;
  readonly state: "pending" | "firing";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly message: string;
  readonly value?: number;
  /** Epoch ms when it started (pending or firing). */
  readonly startsAt: number;
  /** Epoch ms of its last transition. */
  readonly updatedAt: number;
  readonly runId?: string;
  readonly source?: string;
  /** Set while a silence or an inhibition rule keeps it from being notified. */
  readonly muted?: "silenced" | "inhibited";
}

/** What `manager.summary()` returns. */
export interface AlertSummary {
  /** Transitions to firing in the history in memory, by level. */
  readonly firedByLevel: Readonly<Record<AlertLevel, number>>;
  /** Transitions to firing in the history in memory, by rule. */
  readonly firedByRule: Readonly<Record<string, number>>;
  /** Resolutions in the history in memory. */
  readonly resolved: number;
  /** Alerts firing now, most severe first. */
  readonly firing: readonly ActiveAlert[];
  /** Alerts pending now (waiting for their `for`). */
  readonly pending: number;
  /** Mean time from firing to resolved over the history in memory, in ms; `undefined` when nothing resolved. */
  readonly meanTimeToResolveMs: number | undefined;
  /** Delivery counters per handler. */
  readonly handlers: readonly HandlerStats[];
}

/** @internal Severity order. */
export const LEVEL_RANK: Record<AlertLevel, number> = { info: 0, warning: 1, error: 2, critical: 3 };

/** @internal */
export function summarize(
  history: readonly AlertHistoryEntry[],
  active: readonly ActiveAlert[],
  handlers: readonly HandlerStats[],
): AlertSummary {
  const firedByLevel: Record<AlertLevel, number> = { info: 0, warning: 0, error: 0, critical: 0 };
  const firedByRule: Record<string, number> = {};
  let resolved = 0;
  let totalMs = 0;
  for (const e of history) {
    if (e.state === "firing") {
      firedByLevel[e.level]++;
      firedByRule[e.rule] = (firedByRule[e.rule] ?? 0) + 1;
    } else if (e.state === "resolved") {
      resolved++;
      if (e.startsAt !== undefined) totalMs += (e.endsAt ?? e.time) - e.startsAt;
    }
  }
  const firing = active
    .filter((a) => a.state === "firing")
    .sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || a.startsAt - b.startsAt);
  return {
    firedByLevel,
    firedByRule,
    resolved,
    firing,
    pending: active.length - firing.length,
    meanTimeToResolveMs: resolved > 0 ? totalMs / resolved : undefined,
    handlers: handlers.map((h) => ({ ...h })),
  };
}

/**
 * @internal
 * The status part: the worst firing level decides (critical/error → critical, warning → degraded, info → ok)
 * and the message names the worst alert: "critical: step tts failing 62% over 5m (+2 more firing)".
 */
export function statusPart(
  component: string,
  active: readonly ActiveAlert[],
  handlers: readonly HandlerStats[],
): StatusPart {
  const firing = active
    .filter((a) => a.state === "firing" && !a.muted)
    .sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || a.startsAt - b.startsAt);
  const failing = handlers.filter((h) => h.failed > 0).map((h) => h.name);
  const details = {
    firing: firing.length,
    pending: active.filter((a) => a.state === "pending").length,
    muted: active.filter((a) => a.muted).length,
    ...(failing.length > 0 && { failingHandlers: failing }),
  };
  const worst = firing[0];
  if (!worst) return { component, level: "ok", message: "no alerts firing", details };
  const rank = LEVEL_RANK[worst.level];
  const level = rank >= 2 ? "critical" : rank === 1 ? "degraded" : "ok";
  const more = firing.length > 1 ? ` (+${firing.length - 1} more firing)` : "";
  return { component, level, message: `${worst.level}: ${worst.message}${more}`, details };
}
