import type { AlertLevel, Labels } from "@tapline/core";
import type { Duration } from "./duration.ts";
import type { HandlerRunner } from "./handler.ts";
import { type AlertNotification, commonOf, type NotificationAlert } from "./notification.ts";
import { ms } from "./rules.ts";
import type { InhibitRule, SilenceStore } from "./silences.ts";

/** How notifications are grouped and paced (Alertmanager's route). */
export interface RouteInput {
  /** Labels that split alerts into groups; `["..."]` makes one group per alert. Default `["alertname"]`. */
  readonly groupBy?: readonly string[];
  /** Wait before the first notification of a new group, to collect its siblings. Default `30s`. */
  readonly groupWait?: Duration;
  /** Wait before notifying a group again about a change. Default `5m`. */
  readonly groupInterval?: Duration;
  /**
   * Wait before re-sending an unchanged, still-firing group. Default `4h`. Per level (`{ critical: "30m",
   * warning: "4h" }`): the group's most severe firing level picks it; a level left out takes 4h.
   */
  readonly repeatInterval?: Duration | Partial<Readonly<Record<AlertLevel, Duration>>>;
}

/** @internal */
export interface Route {
  readonly groupBy: readonly string[] | "all";
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: Readonly<Record<AlertLevel, number>>;
}

/** @internal Normalises a route that passed the schema (`schemas.ts`). */
export function normalizeRoute(r: RouteInput = {}): Route {
  return {
    groupBy: r.groupBy === undefined ? ["alertname"] : r.groupBy.includes("...") ? "all" : [...r.groupBy],
    groupWaitMs: ms(r.groupWait, 30_000),
    groupIntervalMs: Math.max(1, ms(r.groupInterval, 300_000)),
    repeatIntervalMs: repeatPerLevel(r.repeatInterval),
  };
}

function repeatPerLevel(raw: RouteInput["repeatInterval"]): Record<AlertLevel, number> {
  const one = typeof raw === "object" ? undefined : ms(raw, 14_400_000);
  const of = (level: AlertLevel) =>
    one ?? ms((raw as Partial<Record<AlertLevel, Duration>>)[level], 14_400_000);
  return { info: of("info"), warning: of("warning"), error: of("error"), critical: of("critical") };
}

interface Group {
  readonly key: string;
  readonly labels: Labels;
  readonly alerts: Map<string, NotificationAlert>;
  /** instance id → level last notified as firing. */
  readonly notified: Map<string, AlertLevel>;
  timer: NodeJS.Timeout | undefined;
  flushed: boolean;
  lastFlushAt: number;
  lastSentAt: number;
}

const RANK: Record<AlertLevel, number> = { info: 0, warning: 1, error: 2, critical: 3 };

/**
 * @internal
 * Alertmanager's notification pipeline, in-process: inhibition, silences, grouping with wait/interval/repeat,
 * dedup per alert instance (a group is re-sent only when its set of firing alerts or their levels changed, or the
 * repeat interval passed), resolved notifications.
 */
export class Dispatcher {
  readonly #route: Route;
  readonly #inhibit: readonly InhibitRule[];
  readonly #silences: SilenceStore;
  readonly #grouped: HandlerRunner[];
  readonly #immediate: HandlerRunner[];
  readonly #groups = new Map<string, Group>();
  readonly #firing = new Map<string, NotificationAlert>();
  readonly #immediateSent = new Set<string>();

  constructor(
    route: Route,
    inhibit: readonly InhibitRule[],
    silences: SilenceStore,
    runners: readonly HandlerRunner[],
  ) {
    this.#route = route;
    this.#inhibit = inhibit;
    this.#silences = silences;
    this.#grouped = runners.filter((r) => !r.handler.immediate);
    this.#immediate = runners.filter((r) => r.handler.immediate);
  }

  /**
   * A firing alert appeared or changed level, or an alert resolved. `id` is the instance's identity, which a
   * level change keeps (its fingerprint, over the labels with `severity`, changes).
   */
  update(alert: NotificationAlert, id: string, now: number): void {
    if (alert.status === "firing") this.#firing.set(id, alert);
    else this.#firing.delete(id);
    if (this.#immediate.length > 0) this.#sendImmediate(alert, id, now);
    if (this.#grouped.length === 0) return;
    const { key, labels } = this.#groupOf(alert.labels);
    let group = this.#groups.get(key);
    if (!group) {
      if (alert.status === "resolved") return; // never notified in a group that no longer exists
      group = {
        key,
        labels,
        alerts: new Map(),
        notified: new Map(),
        timer: undefined,
        flushed: false,
        lastFlushAt: 0,
        lastSentAt: 0,
      };
      this.#groups.set(key, group);
    }
    group.alerts.set(id, alert);
    if (!group.timer) {
      const delay = group.flushed
        ? Math.max(0, group.lastFlushAt + this.#route.groupIntervalMs - now)
        : this.#route.groupWaitMs;
      this.#schedule(group, delay);
    }
  }

  /** True when a silence or an inhibition rule mutes the alert now. */
  muted(
    alert: { readonly labels: Labels; readonly fingerprint: string },
    now: number,
  ): "silenced" | "inhibited" | undefined {
    if (this.#silences.silenced(alert.labels, now)) return "silenced";
    for (const rule of this.#inhibit) {
      if (!rule.target(alert.labels)) continue;
      for (const source of this.#firing.values()) {
        if (source.fingerprint === alert.fingerprint || !rule.source(source.labels)) continue;
        if (rule.equal.every((l) => (source.labels[l] ?? "") === (alert.labels[l] ?? ""))) return "inhibited";
      }
    }
    return undefined;
  }

  /** Sends every group that has something to say now (used by `flush()` and `close()`). */
  flushAll(now: number): void {
    for (const group of [...this.#groups.values()]) {
      if (group.timer) clearTimeout(group.timer);
      group.timer = undefined;
      this.#flush(group, now, false);
    }
  }

  /** Stops every timer. */
  close(): void {
    for (const group of this.#groups.values()) if (group.timer) clearTimeout(group.timer);
    this.#groups.clear();
  }

  #schedule(group: Group, delay: number): void {
    group.timer = setTimeout(() => {
      group.timer = undefined;
      this.#flush(group, Date.now(), true);
    }, delay);
    group.timer.unref();
  }

  #groupOf(labels: Labels): { key: string; labels: Labels } {
    const by = this.#route.groupBy === "all" ? Object.keys(labels).sort() : this.#route.groupBy;
    const picked: Record<string, string> = {};
    for (const name of by) if (labels[name] !== undefined) picked[name] = labels[name]!;
    const key = `{}:{${Object.entries(picked)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(",")}}`;
    return { key, labels: picked };
  }

  #flush(group: Group, now: number, reschedule: boolean): void {
    group.flushed = true;
    group.lastFlushAt = now;
    const toSend: NotificationAlert[] = [];
    let changed = false;
    const ids: string[] = [];
    for (const [id, alert] of group.alerts) {
      if (alert.status === "firing") {
        if (this.muted(alert, now)) {
          // A muted alert is left out; once notified, dropping it counts as a change so receivers catch up later.
          if (group.notified.delete(id)) changed = true;
          continue;
        }
        toSend.push(alert);
        ids.push(id);
        if (group.notified.get(id) !== alert.level) changed = true;
      } else if (group.notified.has(id)) {
        toSend.push(alert);
        ids.push(id);
        changed = true;
      }
    }
    let top: AlertLevel | undefined;
    for (const a of toSend)
      if (a.status === "firing" && (top === undefined || RANK[a.level] > RANK[top])) top = a.level;
    const repeatDue = top !== undefined && now - group.lastSentAt >= this.#route.repeatIntervalMs[top];
    if (toSend.length > 0 && (changed || repeatDue)) {
      const notification = buildNotification(group.key, group.labels, toSend, now);
      for (const runner of this.#grouped) runner.enqueue(notification);
      group.lastSentAt = now;
      toSend.forEach((alert, i) => {
        if (alert.status === "firing") group.notified.set(ids[i]!, alert.level);
        else group.notified.delete(ids[i]!);
      });
    }
    for (const [fp, alert] of group.alerts) if (alert.status === "resolved") group.alerts.delete(fp);
    if (group.alerts.size === 0) {
      this.#groups.delete(group.key);
      return;
    }
    if (reschedule && !group.timer) this.#schedule(group, this.#route.groupIntervalMs);
  }

  #sendImmediate(alert: NotificationAlert, id: string, now: number): void {
    if (alert.status === "firing") {
      if (this.muted(alert, now)) return;
      this.#immediateSent.add(id);
    } else if (!this.#immediateSent.delete(id)) return;
    const { key, labels } = this.#groupOf(alert.labels);
    const notification = buildNotification(key, labels, [alert], now);
    for (const runner of this.#immediate) runner.enqueue(notification);
  }
}

/** @internal Builds a notification for a set of alerts (Alertmanager's webhook v4 shape). */
export function buildNotification(
  groupKey: string,
  groupLabels: Labels,
  alerts: readonly NotificationAlert[],
  now: number,
): AlertNotification {
  const firing = alerts.filter((a) => a.status === "firing");
  let level: AlertLevel = "info";
  for (const a of firing.length ? firing : alerts) if (RANK[a.level] > RANK[level]) level = a.level;
  return {
    status: firing.length > 0 ? "firing" : "resolved",
    alerts,
    groupLabels,
    commonLabels: commonOf(alerts.map((a) => a.labels)),
    commonAnnotations: commonOf(alerts.map((a) => a.annotations)),
    groupKey,
    level,
    time: now,
  };
}
