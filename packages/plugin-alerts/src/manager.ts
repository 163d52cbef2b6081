import {
  type AlertEvent,
  type Labels,
  type MetricSample,
  redactSecrets,
  type StatusPart,
} from "@tapline/core";
import { isSecretKey, REDACTED } from "@tapline/core/kit";
import { BaselineStore } from "./baseline-store.ts";
import { Dispatcher, normalizeRoute, type RouteInput } from "./dispatcher.ts";
import type { Duration } from "./duration.ts";
import {
  AlertConfigError,
  type AlertConfigIssue,
  type AlertHandlerError,
  AlertManagerClosedError,
} from "./errors.ts";
import { alertLabelSet, fingerprint, labelKey } from "./fingerprint.ts";
import { type AlertHandler, HandlerRunner, type HandlerStats } from "./handler.ts";
import { AlertHistory, type AlertHistoryEntry, DEFAULT_HISTORY_RETENTION_MS } from "./history.ts";
import { loadAlertConfigSync } from "./load.ts";
import type { NotificationAlert } from "./notification.ts";
import { CompiledRule, type Transition } from "./rule-engine.ts";
import { MetricRules } from "./rule-index.ts";
import { type AlertRuleInput, ms, normalizeRules } from "./rules.ts";
import { ManagerOptionsSchema, parseConfig } from "./schemas.ts";
import {
  type InhibitRuleInput,
  parseInhibitRules,
  parseSilence,
  type Silence,
  type SilenceInput,
  SilenceStore,
} from "./silences.ts";
import { StuckSteps } from "./stuck.ts";
import { type ActiveAlert, type AlertSummary, statusPart, summarize } from "./summary.ts";

/** Options of {@link createAlertManager}. */
export interface AlertManagerOptions {
  /** Rules as objects, or the path of a YAML/JSON file holding `{ rules, route?, inhibit?, silences? }`. */
  readonly rules?: readonly AlertRuleInput[] | string;
  /** Where notifications go. Each runs isolated (timeout, retries, its own queue). */
  readonly handlers?: readonly AlertHandler[];
  /** Grouping and pacing of notifications (Alertmanager's route). */
  readonly route?: RouteInput;
  /** Inhibition rules: while a source alert fires, matching targets sharing the `equal` labels are muted. */
  readonly inhibit?: readonly InhibitRuleInput[];
  /** Silences to start with; add more with `manager.silence()`. */
  readonly silences?: readonly SilenceInput[];
  /** How often windows age and `for`/`keepFiringFor`/no-data/stuck steps are checked. Default `1s`. */
  readonly evaluationInterval?: Duration;
  /**
   * Directory of the JSONL history (`<dir>/alerts/`) and of the regression rules' baselines
   * (`<dir>/alerts/baselines.json`, read on start); without it both stay in memory only.
   */
  readonly dir?: string;
  /** Transitions kept in memory. Default 1000. */
  readonly historySize?: number;
  /**
   * How long history files under `<dir>/alerts/` are kept: a day's files are deleted once the whole day is older
   * than this (checked at the first write or evaluation, then at most hourly, and at each new day). `false`
   * keeps them forever. Default `30d`.
   */
  readonly historyRetention?: Duration | false;
  /**
   * Size cap of one history file in bytes: when the next line would pass it, writing goes on in the day's next
   * numbered file (`alerts-YYYY-MM-DD.1.jsonl`, `.2`, ...); `readAlertHistory` reads them all in order.
   * Default 16 MiB.
   */
  readonly historyMaxFileBytes?: number;
  /** Cardinality guard: series per rule beyond this are ignored (reported once). Default 10 000. */
  readonly maxSeriesPerRule?: number;
  /** Samples kept per window. Default 10 000. */
  readonly maxSamplesPerWindow?: number;
  /** How long `close()` waits for handlers to drain. Default 5 s. */
  readonly closeTimeout?: Duration;
  /** Name of the status component. Default `alerts`. */
  readonly component?: string;
  /**
   * Called for each transition (pending, firing, level change, resolved). Must not throw. `fingerprint` is the
   * alert's one fingerprint (see {@link fingerprint}): the one Alertmanager computes for its labels with
   * `severity` (and `run_id` for run-scoped alerts).
   */
  readonly onTransition?: (event: AlertEvent & { readonly fingerprint: string }) => void;
  /** Called when a handler gives up on a notification, the history cannot be written, or a rule drops series. */
  readonly onError?: (error: unknown) => void;
  /**
   * Redacts secrets in alert texts: every message, annotation and label value passes through it before it is
   * kept in history, shown in `active()`/`status()` or sent to a handler (label and annotation keys named like
   * secrets, such as `token` or `authorization`, are replaced whole). Default: core's `redactSecrets`; the
   * plugin passes the app's redactor (`api.redact.text`).
   */
  readonly redact?: (text: string) => string;
  /** Called with the manager's own metrics (`tapline_alert_notifications_total{handler,outcome}`). */
  readonly onMetric?: (name: string, value: number, labels: Record<string, string>) => void;
}

/** A step that started or ended, for the stuck-step rule and the step presets. */
export interface StepObservation {
  readonly runId: string;
  readonly pipeline: string;
  /** The step's definition path, the `step` label (`scenes[]` for every item of a map: one series). */
  readonly step: string;
  /** The unit's path with indexes (`scenes[3]`), telling concurrent units apart; default `step`. */
  readonly path?: string;
  readonly labels?: Labels;
  /** Epoch ms; default now. */
  readonly time?: number;
}

/** A finished step, for the step failure-rate and p95 presets. */
export interface StepResult extends StepObservation {
  readonly status: "success" | "failed" | "cancelled" | "skipped" | "suspended";
  readonly durationMs: number;
  /**
   * The size of the work the step did (seconds of audio, frames, tokens), for regression rules with
   * `normalize: true`; the plugin reads it from the step's `report.extensions.size.value`.
   */
  readonly size?: number;
}

/** An in-process alerting engine, usable with or without a Tapline app. */
export interface AlertManager {
  /** Feeds one metric sample to the rules that match it. Synchronous and cheap; never throws for a bad sample. */
  observe(sample: MetricSample): void;
  /** Records a step's start (stuck-step rules). */
  stepStarted(step: StepObservation): void;
  /** Records a step's end: feeds `tapline_alerts_step_failed` (0/1) and `tapline_alerts_step_duration_seconds`. */
  stepEnded(step: StepResult): void;
  /** Resolves every alert scoped to the run. */
  endRun(runId: string): void;
  /** Takes an alert raised elsewhere (another plugin's `AlertEvent`) into history, notification and status. */
  raise(alert: Omit<AlertEvent, "time"> & { readonly time?: number }): void;
  /** Alerts pending or firing now. */
  active(): ActiveAlert[];
  /** Transitions kept in memory, oldest first. */
  history(): AlertHistoryEntry[];
  /** Counts by level and rule, firing now, mean time to resolve, handler counters. */
  summary(): AlertSummary;
  /** The status part: worst firing level and a human message. */
  status(): StatusPart;
  /** Adds a silence; returns it with its id. Throws an `AlertConfigError` for a bad one. */
  silence(input: SilenceInput): Silence;
  /** Ends a silence now. */
  expireSilence(id: string): boolean;
  /** Silences with their state. */
  silences(): Silence[];
  /** Runs one evaluation now (normally every `evaluationInterval`). */
  tick(): void;
  /** Sends every group that has something to say now, without waiting for group timers; waits for the history file. */
  flush(): Promise<void>;
  /** Flushes, waits for handlers (bounded by `closeTimeout`), stops every timer. Idempotent. */
  close(): Promise<void>;
}

/** Metric name fed by `stepEnded`: 1 for a failed step, 0 otherwise (its mean is the failure rate). */
export const STEP_FAILED_METRIC = "tapline_alerts_step_failed";
/** Metric name fed by `stepEnded`: the step's duration in seconds. */
export const STEP_DURATION_METRIC = "tapline_alerts_step_duration_seconds";

/**
 * Creates an alert manager: rules evaluated on every sample, Alertmanager-style notification, bounded history,
 * status. Options are validated once; an `AlertConfigError` lists every bad field with its path.
 *
 * @example
 * const alerts = createAlertManager({
 *   rules: [presets.stepFailureRate({ warning: 0.2, critical: 0.5 }), presets.diskAlmostFull()],
 *   handlers: [consoleHandler()],
 *   route: { groupWait: "5s" },
 * });
 * alerts.observe({ name: "tapline_system_disk_used_ratio", value: 0.97, labels: { mount: "/" }, time: Date.now() });
 * console.log(alerts.status().message); // "critical: disk / 97% full"
 * await alerts.close();
 */
export function createAlertManager(options: AlertManagerOptions = {}): AlertManager {
  return new Manager(options, prepare(options, "createAlertManager()"));
}

/** @internal Issues of an {@link AlertConfigError}; those from a rule file say which file and where in it. */
export function fileIssues(error: AlertConfigError): AlertConfigIssue[] {
  if (error.file === undefined) return [...error.issues];
  return error.issues.map((i) => ({
    ...i,
    path: "rules",
    message: `in rule file ${error.file}${i.path === "(file)" ? "" : ` at ${i.path}`}: ${i.message}`,
  }));
}

/** @internal Creates a manager from options {@link prepare} already checked (the plugin checks at registration). */
export function createPreparedManager(
  options: AlertManagerOptions,
  prepared: PreparedOptions,
  clock?: ReplayClock,
): AlertManager {
  return new Manager(options, prepared, clock);
}

/**
 * @internal A manager's clock for a replay (the backtest): every "now" the manager reads comes from it, and no
 * evaluation timer runs (the replay calls `tick()` at the evaluation times it steps through).
 */
export interface ReplayClock {
  now(): number;
}

/** @internal Options validated and normalised once, for {@link Manager}. */
export type PreparedOptions = ReturnType<typeof prepare>;

/** @internal Validates (valibot schema, then what needs several fields) and normalises the options, once. */
export function prepare(input: unknown, subject: string) {
  const options = parseConfig(ManagerOptionsSchema, input ?? {}, { subject }) as AlertManagerOptions;
  const file = typeof options.rules === "string" ? options.rules : undefined;
  // A rule file is checked on its own and its errors name it.
  const loaded = file === undefined ? undefined : loadAlertConfigSync(file);
  const issues: AlertConfigIssue[] = [];
  const rules = normalizeRules(
    loaded ? loaded.rules : (options.rules as readonly AlertRuleInput[] | undefined),
  );
  const route = normalizeRoute(options.route ?? loaded?.route);
  const inhibit = parseInhibitRules(options.inhibit ?? loaded?.inhibit);
  const names = new Map<string, number>();
  (options.handlers ?? []).forEach((h, i) => {
    const before = names.get(h.name);
    if (before !== undefined)
      issues.push({
        path: `handlers[${i}].name`,
        message: `duplicate handler name "${h.name}" (also handlers[${before}]); give one a "name"`,
        value: h.name,
      });
    else names.set(h.name, i);
  });
  if (issues.length > 0) throw new AlertConfigError({ issues, subject });
  const now = Date.now();
  const store = new SilenceStore();
  for (const silence of options.silences ?? loaded?.silences ?? [])
    store.insert(parseSilence(silence, now, ""));
  const retention = options.historyRetention;
  return {
    rules,
    route,
    inhibit,
    silences: store,
    evalMs: ms(options.evaluationInterval, 1000),
    closeMs: ms(options.closeTimeout, 5000),
    retentionMs: retention === false ? Number.POSITIVE_INFINITY : ms(retention, DEFAULT_HISTORY_RETENTION_MS),
    redact: options.redact ?? redactSecrets,
  };
}

const noop = () => {};

class Manager implements AlertManager {
  readonly #byMetric = new Map<string, MetricRules>();
  readonly #rules: CompiledRule[] = [];
  readonly #regressions: CompiledRule[] = [];
  readonly #baselines: BaselineStore;
  readonly #stuck: StuckSteps;
  readonly #active = new Map<string, ActiveAlert>();
  readonly #history: AlertHistory;
  readonly #runners: HandlerRunner[];
  readonly #dispatcher: Dispatcher;
  readonly #silences: SilenceStore;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #closeMs: number;
  readonly #component: string;
  readonly #onTransition: NonNullable<AlertManagerOptions["onTransition"]>;
  readonly #onError: (error: unknown) => void;
  readonly #onMetric: NonNullable<AlertManagerOptions["onMetric"]>;
  readonly #redact: (text: string) => string;
  /** The manager's clock: `Date.now`, or a backtest's replayed time. */
  readonly #now: () => number;
  #closing: Promise<void> | undefined;

  constructor(options: AlertManagerOptions, prepared: ReturnType<typeof prepare>, clock?: ReplayClock) {
    this.#now = clock?.now ?? Date.now;
    const { rules, route, inhibit, silences, evalMs, closeMs, retentionMs, redact } = prepared;
    // Label values and rendered texts repeat; a bounded cache keeps redaction off the hot path of transition storms.
    const cache = new Map<string, string>();
    this.#redact = (text) => {
      let out = cache.get(text);
      if (out === undefined) {
        if (cache.size >= 4096) cache.clear();
        out = redact(text);
        cache.set(text, out);
      }
      return out;
    };
    this.#onTransition = options.onTransition ?? noop;
    this.#onError = options.onError ?? noop;
    this.#onMetric = options.onMetric ?? noop;
    this.#component = options.component ?? "alerts";
    this.#closeMs = closeMs;
    this.#silences = silences;
    const sink = {
      emit: (t: Transition) => this.#transition(t),
      dropped: (rule: string, limit: number) =>
        this.#onError(
          new Error(
            `alert rule "${rule}" reached ${limit} series; new label sets are ignored (narrow "match" or "by", or raise maxSeriesPerRule)`,
          ),
        ),
      inactive: (fp: string) => {
        this.#active.delete(fp);
      },
    };
    const byMetric = new Map<string, CompiledRule[]>();
    this.#baselines = new BaselineStore(options.dir, (e) => this.#onError(e));
    const regressionNames = rules.filter((r) => r.kind === "regression").map((r) => r.name);
    // Baselines of rules no longer configured are dropped at the next write.
    const saved = regressionNames.length > 0 ? this.#baselines.read(regressionNames) : new Map();
    for (const rule of rules) {
      if (rule.kind === "stuck-step") continue;
      const compiled = new CompiledRule(
        rule,
        sink,
        options.maxSeriesPerRule ?? 10_000,
        options.maxSamplesPerWindow ?? 10_000,
      );
      this.#rules.push(compiled);
      if (rule.kind === "regression") {
        // Fed by stepEnded, not by samples; its baselines survive restarts.
        compiled.load(saved.get(rule.name) ?? []);
        this.#regressions.push(compiled);
        continue;
      }
      for (const metric of rule.divideBy ? [rule.metric, rule.divideBy] : [rule.metric]) {
        const list = byMetric.get(metric) ?? [];
        list.push(compiled);
        byMetric.set(metric, list);
      }
    }
    for (const [metric, list] of byMetric) this.#byMetric.set(metric, new MetricRules(list));
    this.#stuck = new StuckSteps(
      rules.filter((r) => r.kind === "stuck-step"),
      sink,
    );
    this.#history = new AlertHistory(options.historySize ?? 1000, options.dir, (e) => this.#onError(e), {
      retentionMs,
      ...(options.historyMaxFileBytes !== undefined && { maxFileBytes: options.historyMaxFileBytes }),
    });
    this.#runners = (options.handlers ?? []).map(
      (h) =>
        new HandlerRunner(h, {
          result: (handler, outcome, error?: AlertHandlerError) => {
            this.#onMetric("tapline_alert_notifications_total", 1, { handler, outcome });
            if (error) this.#onError(error);
          },
        }),
    );
    this.#dispatcher = new Dispatcher(route, inhibit, silences, this.#runners);
    // A replay drives tick() itself, at its own times.
    this.#timer = clock ? undefined : setInterval(() => this.tick(), evalMs);
    this.#timer?.unref();
  }

  observe(sample: MetricSample): void {
    const index = this.#byMetric.get(sample.name);
    if (index === undefined || this.#closing) return;
    if (typeof sample.value !== "number" || Number.isNaN(sample.value) || !sample.labels) return;
    const rules = index.candidates(sample.labels);
    const now = this.#now();
    let key: string | undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (!rule.matches(sample.labels)) continue;
      if (key === undefined && rule.rule.by === undefined) key = labelKey(sample.labels);
      rule.observe(sample, now, key);
    }
  }

  stepStarted(step: StepObservation): void {
    if (this.#closing) return;
    this.#stuck.started(step, step.time ?? this.#now());
  }

  stepEnded(step: StepResult): void {
    if (this.#closing) return;
    const time = step.time ?? this.#now();
    this.#stuck.ended(step, time);
    if (step.status === "skipped") return;
    const labels = { pipeline: step.pipeline, step: step.step, ...step.labels };
    this.observe({
      name: STEP_FAILED_METRIC,
      value: step.status === "failed" ? 1 : 0,
      labels,
      time,
      runId: step.runId,
    });
    if (step.status !== "success") return;
    const seconds = step.durationMs / 1000;
    this.observe({
      name: STEP_DURATION_METRIC,
      value: seconds,
      labels,
      time,
      runId: step.runId,
      unit: "seconds",
    });
    const now = this.#now();
    for (const rule of this.#regressions) {
      if (!rule.matches(labels)) continue;
      const size = step.size;
      if (rule.rule.normalize && !(typeof size === "number" && size > 0 && Number.isFinite(size))) continue;
      const value = rule.rule.normalize ? seconds / size! : seconds;
      rule.observe({ name: STEP_DURATION_METRIC, value, labels, time, runId: step.runId }, now, undefined);
    }
  }

  endRun(runId: string): void {
    const now = this.#now();
    for (const rule of this.#rules) if (rule.rule.scope === "run") rule.endRun(runId, now);
    this.#stuck.endRun(runId, now);
    for (const alert of [...this.#active.values()]) {
      if (alert.runId === runId && alert.source !== undefined)
        this.raise({ ...alert, state: "resolved", message: `${alert.message} (run ended)` });
    }
  }

  raise(alert: Omit<AlertEvent, "time"> & { readonly time?: number }): void {
    if (this.#closing) throw new AlertManagerClosedError({ what: `raise alert "${alert.rule}"` });
    const time = alert.time ?? this.#now();
    const labels = { alertname: alert.rule, ...alert.labels };
    const id = labelKey(alert.runId === undefined ? labels : { ...labels, run_id: alert.runId });
    const previous = this.#active.get(id);
    if (alert.state === "resolved" && !previous) return;
    if (previous && previous.state === alert.state && previous.level === alert.level) return; // dedup by identity
    this.#transition({
      ...alert,
      labels,
      time,
      startsAt: alert.startsAt ?? previous?.startsAt ?? time,
      ...(alert.state === "resolved" && { endsAt: time }),
      id,
    });
  }

  active(): ActiveAlert[] {
    const now = this.#now();
    return [...this.#active.values()].map((a) => {
      const muted =
        a.state === "firing"
          ? this.#dispatcher.muted(
              { labels: alertLabelSet(a.labels, a.level, a.runId), fingerprint: a.fingerprint },
              now,
            )
          : undefined;
      const { muted: _m, ...rest } = a;
      return muted ? { ...rest, muted } : rest;
    });
  }

  history(): AlertHistoryEntry[] {
    return this.#history.list();
  }

  summary(): AlertSummary {
    return summarize(this.#history.list(), this.active(), this.#stats());
  }

  status(): StatusPart {
    return statusPart(this.#component, this.active(), this.#stats());
  }

  silence(input: SilenceInput): Silence {
    return this.#silences.add(input, this.#now());
  }

  expireSilence(id: string): boolean {
    return this.#silences.expire(id, this.#now());
  }

  silences(): Silence[] {
    return this.#silences.list(this.#now());
  }

  tick(): void {
    const now = this.#now();
    for (const rule of this.#rules) {
      try {
        rule.tick(now);
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#stuck.tick(now);
    this.#history.prune(now);
    void this.#saveBaselines(now, false);
  }

  #saveBaselines(now: number, force: boolean): Promise<void> {
    for (const rule of this.#regressions) {
      const saved = rule.save();
      if (saved) this.#baselines.update(rule.rule.name, saved);
    }
    return this.#baselines.save(now, force);
  }

  async flush(): Promise<void> {
    this.#dispatcher.flushAll(this.#now());
    await this.#history.flush();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      this.#dispatcher.flushAll(this.#now());
      this.#dispatcher.close();
      await Promise.all(
        this.#runners.map((r) => r.close(this.#closeMs).catch((e: unknown) => this.#onError(e))),
      );
      await this.#history.flush();
      await this.#saveBaselines(this.#now(), true);
    })();
    return this.#closing;
  }

  #stats(): HandlerStats[] {
    return this.#runners.map((r) => ({ ...r.stats }));
  }

  #transition(raw: Transition): void {
    // Secrets never leave the manager: texts are redacted once per transition, before history, status and handlers.
    const redact = this.#redact;
    const t: Transition = {
      ...raw,
      message: redact(raw.message),
      labels: redactRecord(raw.labels, redact),
      ...(raw.annotations !== undefined && { annotations: redactRecord(raw.annotations, redact) }),
    };
    const now = t.time;
    const labels = t.labels;
    // The one fingerprint, computed once per transition over the label set as sent (severity, run_id).
    const wire = alertLabelSet(labels, t.level, t.runId);
    const fp = fingerprint(wire);
    if (t.state === "resolved") this.#active.delete(t.id);
    else {
      const before = this.#active.get(t.id);
      this.#active.set(t.id, {
        fingerprint: fp,
        rule: t.rule,
        level: t.level,
        state: t.state,
        labels,
        annotations: t.annotations ?? { summary: t.message },
        message: t.message,
        ...(t.value !== undefined && { value: t.value }),
        startsAt: before?.startsAt ?? t.startsAt,
        updatedAt: now,
        ...(t.runId !== undefined && { runId: t.runId }),
        ...(t.source !== undefined && { source: t.source }),
      });
    }
    const muted =
      t.state === "pending" ? undefined : this.#dispatcher.muted({ labels: wire, fingerprint: fp }, now);
    this.#history.add({
      time: now,
      fingerprint: fp,
      rule: t.rule,
      level: t.level,
      state: t.state,
      labels,
      message: t.message,
      ...(t.value !== undefined && { value: t.value }),
      startsAt: t.startsAt,
      ...(t.endsAt !== undefined && { endsAt: t.endsAt }),
      ...(t.runId !== undefined && { runId: t.runId }),
      ...(t.source !== undefined && { source: t.source }),
      ...(muted && { muted }),
    });
    if (t.state !== "pending") {
      const alert: NotificationAlert = {
        status: t.state === "resolved" ? "resolved" : "firing",
        rule: t.rule,
        level: t.level,
        labels: wire,
        annotations: t.annotations ?? { summary: t.message },
        message: t.message,
        ...(t.value !== undefined && { value: t.value }),
        startsAt: t.startsAt,
        ...(t.endsAt !== undefined && { endsAt: t.endsAt }),
        fingerprint: fp,
        ...(t.runId !== undefined && { runId: t.runId }),
        ...(t.source !== undefined && { source: t.source }),
      };
      this.#dispatcher.update(alert, t.id, now);
    }
    try {
      const { id: _id, ...event } = t;
      this.#onTransition({ ...event, fingerprint: fp });
    } catch (error) {
      this.#onError(error);
    }
  }
}

function redactRecord(record: Readonly<Record<string, string>>, redact: (text: string) => string): Labels {
  const out: Record<string, string> = {};
  for (const key in record) out[key] = isSecretKey(key) ? REDACTED : redact(record[key]!);
  return out;
}
