// @tapline/plugin-alerts (issues 6, 12). Node has no in-process alerting engine to compare with
// (research/monitoring.md §0), so the peers are: (a) a hand-rolled rule loop (precompiled matchers, an array window
// per series), the code a team writes instead of an engine; (b) core running a step with no plugin, for the added
// step latency.
// Honest counting (issue 12): a sample is not evaluated against all 1,000 rules. The rule index hands it the rules
// whose `step` equality can match (20 here), and about 10 of those match and have their window and state machine
// updated. Throughput is reported in samples/s with those two numbers, never multiplied by the rule count.
// Targets: ≥ 1,000,000 rule-sample evaluations/s (candidates label-matched); ≤ 1 ms added per step while a handler
// hangs. Issue 18: the statistical kinds (anomaly, predict, regression) cost ≤ 3× a threshold rule on the same
// series per sample, with memory per series bounded and stated.
import { createTapline, type MetricSample } from "@tapline/core";
import {
  type AlertRuleInput,
  alertManagerOf,
  alerts,
  type BacktestRecord,
  backtest,
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

// (a) the hand-rolled loop: same rules, same samples, matchers compiled once (equality checks and anchored RegExps
// built up front), the sample's series key computed once, an array window per series. No index: it checks all rules.
type Matcher = (labels: Record<string, string>) => boolean;
type Naive = { metric: string; test: Matcher; windows: Map<string, { t: number; v: number }[]> };
function compile(match: Record<string, string | RegExp>): Matcher {
  const checks = Object.entries(match).map(([k, m]): Matcher => {
    if (typeof m === "string") return (l) => l[k] === m;
    const re = new RegExp(`^(?:${m.source})$`);
    return (l) => re.test(l[k] ?? "");
  });
  return (l) => {
    for (const c of checks) if (!c(l)) return false;
    return true;
  };
}
const naive: Naive[] = rules.map((r) => ({
  metric: r.metric!,
  test: compile(r.match as Record<string, string | RegExp>),
  windows: new Map(),
}));
function naiveObserve(s: MetricSample): void {
  let key: string | undefined;
  for (const rule of naive) {
    if (rule.metric !== s.name || !rule.test(s.labels)) continue;
    key ??= Object.keys(s.labels)
      .sort()
      .map((k) => `${k}=${s.labels[k]}`)
      .join(",");
    let w = rule.windows.get(key);
    if (!w) {
      w = [];
      rule.windows.set(key, w);
    }
    w.push({ t: s.time, v: s.value });
    while (w.length && w[0]!.t < s.time - 60_000) w.shift();
    let sum = 0;
    for (const x of w) sum += x.v;
    if (sum / w.length > 1e9) throw new Error("unreachable");
  }
}

// What one sample costs in rules: the index buckets rules on the equality label most of them use (`step` here), so
// the candidates of a sample are the rules with its `step`; the matched ones also pass their other matchers.
const stepOf = (r: AlertRuleInput) => (r.match as Record<string, string | RegExp>).step as string;
let candidates = 0;
let matched = 0;
for (const s of samples) {
  candidates += rules.filter((r) => stepOf(r) === s.labels.step).length;
  matched += naive.filter((r) => r.test(s.labels)).length;
}
const perSample = { candidates: candidates / samples.length, matched: matched / samples.length };

// Transitions: the same shape of rules with thresholds the samples cross, `for: "1ms"` so instances go pending,
// then firing (warning, escalating to critical), de-escalate and resolve, over and over.
const firingRules: AlertRuleInput[] = rules.map((r) => ({
  ...r,
  aggregate: "last",
  window: 0,
  for: "1ms",
  levels: { warning: { threshold: 5, clear: 4 }, critical: { threshold: 8, clear: 7 } },
}));

export default async function bench(): Promise<void> {
  const manager = createAlertManager({ rules });
  const regexManager = createAlertManager({ rules: regexRules });
  const transitions = { pending: 0, firing: 0, resolved: 0 };
  const firingManager = createAlertManager({
    rules: firingRules,
    onTransition: (e) => void transitions[e.state]++,
  });
  let i = 0;
  let firingSamples = 0;
  const rows = await compare(
    `alerts: one sample against ${RULES} rules (${perSample.candidates.toFixed(1)} candidates from the index, ${perSample.matched.toFixed(1)} matching) (ns per sample)`,
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
        name: "tapline, thresholds crossed (pending/firing/resolved)",
        fn: () => {
          for (let k = 0; k < BATCH; k++) {
            const s = samples[i++ % samples.length]!;
            firingManager.observe({ ...s, time: Date.now() });
          }
          firingSamples += BATCH;
        },
      },
      {
        name: "hand-rolled rule loop, precompiled matchers",
        fn: () => {
          for (let k = 0; k < BATCH; k++) naiveObserve(samples[i++ % samples.length]!);
        },
      },
    ],
    { opsPerCall: BATCH },
  );
  await manager.close();
  await regexManager.close();
  await firingManager.close();
  const sps = (row: (typeof rows)[number]) => 1e9 / row.nsPerOp;
  const [indexed, regexOnly, firing, hand] = rows as [
    (typeof rows)[number],
    (typeof rows)[number],
    (typeof rows)[number],
    (typeof rows)[number],
  ];
  const evals = sps(indexed) * perSample.candidates;
  note(
    `${indexed.name}: ${(sps(indexed) / 1e3).toFixed(0)} k samples/s; each is label-matched against ${perSample.candidates.toFixed(1)} candidate rules and updates ${perSample.matched.toFixed(1)}: ${(evals / 1e6).toFixed(2)} M rule-sample evaluations/s (target ≥ 1 M): ${evals >= 1e6 ? "met" : "MISSED"}; ${((sps(indexed) * perSample.matched) / 1e6).toFixed(2)} M window updates/s`,
  );
  note(
    `${regexOnly.name}: ${(sps(regexOnly) / 1e3).toFixed(0)} k samples/s, every sample label-matched against all ${RULES} rules: ${((sps(regexOnly) * RULES) / 1e6).toFixed(2)} M rule-sample evaluations/s`,
  );
  note(
    `${firing.name}: ${(sps(firing) / 1e3).toFixed(0)} k samples/s, ${(firingSamples ? (transitions.pending + transitions.firing + transitions.resolved) / firingSamples : 0).toFixed(2)} transitions per sample (${transitions.pending} pending, ${transitions.firing} firing or level changes, ${transitions.resolved} resolved), ${firing.ratio.toFixed(2)}× the cost of a sample that crosses nothing`,
  );
  note(
    `${hand.name} (no index, no state machine): ${(sps(hand) / 1e3).toFixed(0)} k samples/s, ${hand.ratio.toFixed(2)}× tapline's time per sample`,
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
  await kinds();
  await backtestFigure();
}

// ---- Issue 18: each statistical kind against a threshold rule on the same series ----
// 100 series (`gpu` 0..99), one sample per series per simulated second, noisy around 50, so the windows are full
// (600 samples in 10 minutes) and nothing fires: the steady-state cost of judging a sample. Each manager holds one
// rule; the threshold rule averages the same 10-minute window the anomaly rule judges against.
const SERIES = 100;
async function kinds(): Promise<void> {
  const threshold: AlertRuleInput = {
    name: "Threshold",
    metric: "m",
    aggregate: "mean",
    window: "10m",
    levels: { warning: 1e9 },
  };
  const anomaly: AlertRuleInput = {
    name: "Anomaly",
    kind: "anomaly",
    metric: "m",
    window: "10m",
    levels: { warning: 1e9 },
  };
  const predict: AlertRuleInput = {
    name: "Predict",
    kind: "predict",
    metric: "m",
    window: "10m",
    horizon: "4h",
    op: "<",
    levels: { warning: -1e12 },
  };
  const regression: AlertRuleInput = {
    name: "Regression",
    kind: "regression",
    window: "10m",
    levels: { warning: 1e9 },
  };
  const stepThreshold: AlertRuleInput = { ...threshold, metric: "tapline_alerts_step_duration_seconds" };
  const managers = {
    threshold: createAlertManager({ rules: [threshold], evaluationInterval: "1h" }),
    anomaly: createAlertManager({ rules: [anomaly], evaluationInterval: "1h" }),
    predict: createAlertManager({ rules: [predict], evaluationInterval: "1h" }),
    stepThreshold: createAlertManager({ rules: [stepThreshold], evaluationInterval: "1h" }),
    regression: createAlertManager({ rules: [regression], evaluationInterval: "1h" }),
  };
  const labels = Array.from({ length: SERIES }, (_, g) => ({ gpu: String(g) }));
  const stepLabels = Array.from({ length: SERIES }, (_, g) => `s${g}`);
  const noise = Array.from({ length: 4096 }, (_, k) => 50 + ((k * 7919) % 97) / 24);
  const clocks = { threshold: 0, anomaly: 0, predict: 0, stepThreshold: 0, regression: 0 };
  const t0 = Date.now();
  type Sampled = "threshold" | "anomaly" | "predict";
  const feed = (kind: Sampled) => {
    const m = managers[kind];
    for (let k = 0; k < BATCH; k++) {
      const n = clocks[kind]++;
      m.observe({
        name: "m",
        value: noise[n % 4096]!,
        labels: labels[n % SERIES]!,
        time: t0 + Math.floor(n / SERIES) * 1000,
      });
    }
  };
  const steps = (kind: "stepThreshold" | "regression") => {
    const m = managers[kind];
    for (let k = 0; k < BATCH; k++) {
      const n = clocks[kind]++;
      m.stepEnded({
        runId: "r",
        pipeline: "p",
        step: stepLabels[n % SERIES]!,
        status: "success",
        durationMs: noise[n % 4096]! * 100,
        time: t0 + Math.floor(n / SERIES) * 1000,
      });
    }
  };
  // Fill every window first (11 simulated minutes), so the timed part is the steady state.
  for (let r = 0; r < (660 * SERIES) / BATCH; r++) {
    feed("threshold");
    feed("anomaly");
    feed("predict");
    steps("stepThreshold");
    steps("regression");
  }
  const rows = await compare(
    `alerts: one sample of one of ${SERIES} series, each kind against a threshold rule (mean over 10m) on the same series (ns per sample)`,
    [
      { name: "threshold (mean, 10m window)", fn: () => feed("threshold") },
      { name: "anomaly (robust z over 10m)", fn: () => feed("anomaly") },
      { name: "predict (linear trend over 10m, 4h ahead)", fn: () => feed("predict") },
    ],
    { opsPerCall: BATCH },
  );
  const stepRows = await compare(
    `alerts: one stepEnded of one of ${SERIES} steps, regression against a threshold rule on the step duration (ns per step)`,
    [
      { name: "threshold on step durations (mean, 10m)", fn: () => steps("stepThreshold") },
      { name: "regression (median of 10m vs a 200-run baseline)", fn: () => steps("regression") },
    ],
    { opsPerCall: BATCH },
  );
  const verdict = (ratio: number) => `${ratio.toFixed(2)}× (target ≤ 3×): ${ratio <= 3 ? "met" : "MISSED"}`;
  note(
    `anomaly: ${verdict(rows[1]!.ratio)}; predict: ${verdict(rows[2]!.ratio)}; regression: ${verdict(stepRows[1]!.ratio)}`,
  );
  for (const m of Object.values(managers)) await m.close();

  // Memory per series, measured: heap growth for 1,000 series with full windows, divided by 1,000.
  const gc = (globalThis as { gc?: () => void }).gc;
  const perSeries = (rule: AlertRuleInput, samplesPerSeries: number, stepFed = false) => {
    gc?.();
    // Windows are typed arrays, whose bytes live outside the JS heap: count both.
    const used = () => {
      const u = process.memoryUsage();
      return u.heapUsed + u.arrayBuffers;
    };
    const before = used();
    const m = createAlertManager({ rules: [rule], evaluationInterval: "1h" });
    for (let t = 0; t < samplesPerSeries; t++)
      for (let g = 0; g < 1000; g++) {
        const time = t0 + t * 1000;
        if (stepFed)
          m.stepEnded({
            runId: "r",
            pipeline: "p",
            step: `s${g}`,
            status: "success",
            durationMs: noise[(t + g) % 4096]! * 100,
            time,
          });
        else
          m.observe({
            name: rule.metric ?? "m",
            value: noise[(t + g) % 4096]!,
            labels: { gpu: String(g) },
            time,
          });
      }
    gc?.();
    const bytes = (used() - before) / 1000;
    void m.close();
    return bytes;
  };
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  note(
    `memory per series (measured, 1,000 series${gc ? "" : ", no --expose-gc: rough"}): threshold ${kb(perSeries(threshold, 600))} and anomaly ${kb(perSeries(anomaly, 600))} with 600 samples in the window (anomaly: 24 B a sample, a time ring plus a sorted copy); predict ${kb(perSeries(predict, 600))} (16 B a sample, O(1) running sums); regression ${kb(perSeries({ ...regression, window: "1m" }, 400, true))} for a 200-value baseline plus its 60-run recent window (24 B a value). Every window is capped by maxSamplesPerWindow (default 10,000), a regression's recent window at 1,000 and its baseline at \`baseline\` (≤ 10,000)`,
  );
}

// ---- Issue 18: the backtest (`tapline alerts test`), over a week of recorded history ----
// A run every 10 minutes (5 steps, 4 metric samples from the steps) and a system sample every 10 s, for 7 days:
// what a data folder of a small production app holds. Five rules of the kinds a rule file mixes. Timed end to end
// (sort, replay, evaluations every second while something can change, the silent gaps skipped), best of 3.
async function backtestFigure(): Promise<void> {
  const DAY = 86_400_000;
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  const records: BacktestRecord[] = [];
  for (let t = 0; t < 7 * DAY; t += 10_000)
    records.push({
      name: "tapline_system_memory_used_ratio",
      value: 0.5 + ((t / 10_000) % 37) / 200,
      labels: {},
      time: t0 + t,
    });
  let runs = 0;
  for (let t = 0; t < 7 * DAY; t += 600_000, runs++) {
    const runId = `r${runs}`;
    let at = t0 + t;
    for (const [k, step] of ["script", "voice", "images", "render", "validate"].entries()) {
      const durationMs =
        2000 + ((runs * 31 + k * 17) % 23) * 100 * (step === "voice" && runs > 900 ? 1.6 : 1);
      at += durationMs;
      records.push({
        t: "step",
        time: at,
        runId,
        pipeline: "story",
        step,
        status: runs % 50 === 7 && k === 1 ? "failed" : "success",
        durationMs,
      });
      if (k < 4)
        records.push({
          name: "queue_depth",
          value: (runs * 7 + k) % 40,
          labels: { queue: step },
          time: at,
          runId,
        });
    }
    records.push({ t: "run", time: at + 1, runId });
  }
  const rules: AlertRuleInput[] = [
    {
      name: "MemoryHigh",
      metric: "tapline_system_memory_used_ratio",
      aggregate: "mean",
      window: "5m",
      for: "2m",
      levels: { warning: 0.66 },
    },
    {
      name: "QueueAnomaly",
      kind: "anomaly",
      metric: "queue_depth",
      window: "1h",
      minSamples: 10,
      levels: { warning: 6 },
    },
    {
      name: "StepFailing",
      metric: "tapline_alerts_step_failed",
      aggregate: "mean",
      window: "30m",
      minSamples: 3,
      levels: { warning: 0.2 },
    },
    {
      name: "VoiceSlower",
      kind: "regression",
      match: { step: "voice" },
      recent: 5,
      levels: { warning: 1.3 },
    },
    { name: "Stuck", kind: "stuck-step", after: "15m" },
  ];
  let best = Number.POSITIVE_INFINITY;
  let result: Awaited<ReturnType<typeof backtest>> | undefined;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    result = await backtest({ rules, records });
    best = Math.min(best, performance.now() - started);
  }
  const fired = result!.rules
    .map((r) => `${r.rule} ${r.events.filter((e) => e.state === "firing").length}`)
    .join(", ");
  note(
    `backtest of 7 days (${records.length.toLocaleString("en")} records: ${result!.records.samples.toLocaleString("en")} samples, ${result!.records.steps} steps, ${result!.records.runs} runs; 5 rules, 1 s evaluations): ${(best / 1000).toFixed(2)} s, ${Math.round(records.length / (best / 1000)).toLocaleString("en")} records/s (firings: ${fired})`,
  );
}
