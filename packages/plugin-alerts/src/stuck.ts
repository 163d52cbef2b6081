import type { Labels } from "@tapline/core";
import { formatDuration } from "./duration.ts";
import { labelKey } from "./fingerprint.ts";
import { renderTemplate } from "./format.ts";
import { compileMatchers } from "./matchers.ts";
import type { EngineSink } from "./rule-engine.ts";
import type { NormalRule } from "./rules.ts";

/** @internal What the stuck-step watcher needs to know about a step. */
export interface StepInfo {
  readonly runId: string;
  readonly pipeline: string;
  readonly step: string;
  /** The unit path (`scenes[3]`), telling concurrent units of one step apart. */
  readonly path?: string;
  readonly labels?: Labels;
}

interface Running {
  readonly labels: Labels;
  readonly runId: string;
  readonly startedAt: number;
  /** rule name → identity of the firing alert. */
  readonly fired: Map<string, { fp: string; labels: Labels; message: string }>;
}

/**
 * @internal
 * The stuck-step rule: a step that has been running longer than `after` without finishing fires (run-scoped);
 * it resolves when the step ends or its run ends.
 */
export class StuckSteps {
  readonly #rules: { rule: NormalRule; matches: (l: Labels) => boolean }[];
  readonly #running = new Map<string, Running>();
  readonly #sink: EngineSink;

  constructor(rules: readonly NormalRule[], sink: EngineSink) {
    this.#rules = rules.map((rule) => ({ rule, matches: compileMatchers(rule.matchers) }));
    this.#sink = sink;
  }

  started(step: StepInfo, now: number): void {
    if (this.#rules.length === 0) return;
    const labels = { pipeline: step.pipeline, step: step.step, ...step.labels };
    this.#running.set(`${step.runId}\u0001${step.path ?? step.step}`, {
      labels,
      runId: step.runId,
      startedAt: now,
      fired: new Map(),
    });
  }

  ended(step: StepInfo, now: number): void {
    const key = `${step.runId}\u0001${step.path ?? step.step}`;
    const running = this.#running.get(key);
    if (!running) return;
    this.#running.delete(key);
    this.#resolve(running, now, "step finished");
  }

  endRun(runId: string, now: number): void {
    for (const [key, running] of this.#running) {
      if (running.runId !== runId) continue;
      this.#running.delete(key);
      this.#resolve(running, now, "run ended");
    }
  }

  tick(now: number): void {
    for (const running of this.#running.values()) {
      const elapsed = now - running.startedAt;
      for (const { rule, matches } of this.#rules) {
        if (elapsed < rule.afterMs || running.fired.has(rule.name) || !matches(running.labels)) continue;
        const labels = { alertname: rule.name, ...running.labels, ...rule.labels };
        const fp = labelKey({ ...labels, run_id: running.runId });
        const vars = {
          value: formatDuration(elapsed),
          threshold: formatDuration(rule.afterMs),
          level: rule.level,
          window: formatDuration(rule.afterMs),
          rule: rule.name,
        };
        const message = rule.message
          ? renderTemplate(rule.message, vars, labels)
          : `step ${running.labels.step} of ${running.labels.pipeline} running for ${formatDuration(elapsed)} (limit ${formatDuration(rule.afterMs)})`;
        running.fired.set(rule.name, { fp, labels, message });
        this.#sink.emit({
          rule: rule.name,
          level: rule.level,
          state: "firing",
          labels,
          message,
          value: elapsed / 1000,
          time: now,
          startsAt: now,
          runId: running.runId,
          annotations: { summary: message },
          id: fp,
        });
      }
    }
  }

  #resolve(running: Running, now: number, why: string): void {
    for (const [name, { fp, labels, message }] of running.fired) {
      const rule = this.#rules.find((r) => r.rule.name === name)!.rule;
      const text = `${message} (${why})`;
      this.#sink.emit({
        rule: name,
        level: rule.level,
        state: "resolved",
        labels,
        message: text,
        value: (now - running.startedAt) / 1000,
        time: now,
        startsAt: running.startedAt + rule.afterMs,
        endsAt: now,
        runId: running.runId,
        annotations: { summary: text },
        id: fp,
      });
    }
  }
}
