// @tapline/plugin-alerts (issue 6). Node has no in-process alerting engine to compare with (research/monitoring.md §0),
// so the peers are: (a) a hand-rolled rule loop (Object.entries matching + an array window per series), the code a
// team writes instead of an engine; (b) core running a step with no plugin, for the added step latency.
// Targets: ≥ 1,000,000 rule-sample evaluations/s through 1,000 rules; ≤ 1 ms added per step while a handler hangs.
import { createTapline, type MetricSample } from "@tapline/core";
import {
  type AlertRuleInput,
  alertManagerOf,
  alerts,
  createAlertManager,
  defineAlertHandler,
} from "@tapline/plugin-alerts";
import { compare, note } from "./harness.ts";

const RULES = 1000;
const BATCH = 100;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };

// 1,000 rules on one metric name, so every sample is label-matched against all of them: equality matchers on
// `step`, and one rule in ten with a regex on `model`. Each sample matches one or two rules; the rest are rejected.
const rules: AlertRuleInput[] = Array.from(
  { length: RULES },
  (_, i): AlertRuleInput => ({
    name: `StepSlow${i}`,
    metric: "tapline_step_duration_seconds",
    match:
      i % 10 === 0
        ? { step: `s${i % 50}`, model: /gpt-4.*|claude-.*/ }
        : { step: `s${i % 50}`, pipeline: `p${i % 20}` },
    aggregate: "mean",
    window: "1m",
    levels: { warning: { threshold: 1e9, clear: 1e9 } },
  }),
);
// Worst case for the index: regex-only matchers, so every sample is matched against all 1,000 rules one by one.
const regexRules: AlertRuleInput[] = rules.map((r, i) => ({
  ...r,
  match: [`step=~"s${i % 50}|none"`, `pipeline=~"p${i % 20}|x"`],
}));
const samples: MetricSample[] = Array.from({ length: 5000 }, (_, i) => ({
  name: "tapline_step_duration_seconds",
  value: (i % 97) / 10,
  labels: {
    pipeline: `p${i % 20}`,
    step: `s${i % 50}`,
    model: i % 3 === 0 ? "gpt-4o" : "mock",
    status: "success",
  },
  time: Date.now(),
}));

// (a) the hand-rolled loop: same rules, same samples, Object.entries matching, an array window per series.
type Naive = {
  name: string;
  metric: string;
  match: [string, string | RegExp][];
  windows: Map<string, { t: number; v: number }[]>;
};
const naive: Naive[] = rules.map((r) => ({
  name: r.name,
  metric: r.metric!,
  match: Object.entries(r.match as Record<string, string | RegExp>),
  windows: new Map(),
}));
function naiveObserve(s: MetricSample): void {
  for (const rule of naive) {
    if (rule.metric !== s.name) continue;
    if (
      !rule.match.every(([k, m]) =>
        typeof m === "string" ? s.labels[k] === m : new RegExp(`^(?:${m.source})$`).test(s.labels[k] ?? ""),
      )
    )
      continue;
    const key = JSON.stringify(Object.entries(s.labels).sort());
    const w = rule.windows.get(key) ?? [];
    rule.windows.set(key, w);
    w.push({ t: s.time, v: s.value });
    while (w.length && w[0]!.t < s.time - 60_000) w.shift();
    const mean = w.reduce((a, x) => a + x.v, 0) / w.length;
    if (mean > 1e9) throw new Error("unreachable");
  }
}

export default async function bench(): Promise<void> {
  const manager = createAlertManager({ rules });
  const regexManager = createAlertManager({ rules: regexRules });
  let i = 0;
  const rows = await compare(
    `alerts: samples through ${RULES} rules with label matching (ns per sample)`,
    [
      {
        name: "tapline createAlertManager().observe",
        fn: () => {
          for (let k = 0; k < BATCH; k++) manager.observe(samples[i++ % samples.length]!);
        },
      },
      {
        name: "tapline, regex-only rules (no index)",
        fn: () => {
          for (let k = 0; k < BATCH; k++) regexManager.observe(samples[i++ % samples.length]!);
        },
      },
      {
        name: "hand-rolled rule loop",
        fn: () => {
          for (let k = 0; k < BATCH; k++) naiveObserve(samples[i++ % samples.length]!);
        },
      },
    ],
    { opsPerCall: BATCH },
  );
  await manager.close();
  await regexManager.close();
  for (const row of rows.slice(0, 2)) {
    const evals = (1e9 / row.nsPerOp) * RULES;
    note(
      `${row.name}: ${(1e9 / row.nsPerOp).toFixed(0)} samples/s × ${RULES} rules = ${(evals / 1e6).toFixed(2)} M rule-sample evaluations/s (target ≥ 1 M): ${evals >= 1e6 ? "met" : "MISSED"}`,
    );
  }
  note(
    `hand-rolled loop (same rules as the first row): ${rows[2]!.ratio.toFixed(1)}× slower per sample than tapline`,
  );

  // Added step latency while a handler hangs: every run flips a rule (fail → firing, success → resolved), so each
  // step produces a notification for a handler that never answers (60 s timeout). Steps must not wait for it.
  // `immediate` so every transition reaches the handler's queue inside the run itself (grouped notifications would
  // wait for a timer that a microtask-only bench loop may never let fire).
  let calls = 0;
  const hang = defineAlertHandler({
    name: "hang",
    immediate: true,
    timeoutMs: 60_000,
    retries: 0,
    maxQueue: 100,
    send: () => {
      calls++;
      return new Promise<void>(() => {});
    },
  });
  const withAlerts = createTapline({
    logger: silent,
    plugins: [
      alerts({
        rules: [
          {
            name: "StepFailing",
            metric: "tapline_alerts_step_failed",
            aggregate: "last",
            levels: { warning: 0.5 },
          },
        ],
        handlers: [hang],
        route: { groupWait: 0, groupInterval: 1 },
        persist: false,
        closeTimeout: 10,
      }),
    ],
  });
  const bare = createTapline({ logger: silent });
  let flip = 0;
  const step = () => {
    if (flip++ % 2 === 0) throw new Error("flaky");
    return 1;
  };
  const pa = withAlerts.pipeline("p").step("tts", step).build();
  const pb = bare.pipeline("p").step("tts", step).build();
  const lat = await compare("alerts: one-step run while an alert handler hangs (ns per run)", [
    { name: "core, no plugin", fn: () => pb.run() },
    { name: "core + alerts, hanging handler", fn: () => pa.run() },
  ]);
  const addedMs = (lat[1]!.nsPerOp - lat[0]!.nsPerOp) / 1e6;
  note(
    `added latency per step with a hanging handler: ${(addedMs * 1000).toFixed(1)} µs (target ≤ 1 ms): ${addedMs <= 1 ? "met" : "MISSED"}`,
  );
  const stats = alertManagerOf(withAlerts)!.summary().handlers[0]!;
  note(
    `during the runs the hanging handler was called ${calls}× and ${stats.dropped} notifications overflowed its queue (${stats.queued} waiting): it was hanging, not idle`,
  );
  await withAlerts.close();
  await bare.close();
}
