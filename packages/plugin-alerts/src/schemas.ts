import type { OptionIssue } from "@tapline/core";
import { checkOptions } from "@tapline/core/kit";
import * as v from "valibot";
import { parseDuration } from "./duration.ts";
import { AlertConfigError } from "./errors.ts";
import {
  ANOMALY_DIRECTIONS,
  CONSOLE_FORMATS,
  LEVELS,
  NO_DATA_STATES,
  REGRESSION_COMPARES,
  RULE_SCOPES,
  THRESHOLD_OPS,
} from "./kinds.ts";
import { MATCHER_PATTERN } from "./matchers.ts";
import { AGGREGATIONS } from "./window.ts";

/**
 * @internal
 * The valibot schemas of everything plugin-alerts is configured with: rules, levels, routes, inhibition,
 * silences, rule files, manager options and handler options. One mechanism (core's `checkOptions` over
 * `strictObject` schemas) so every unknown key gets a did-you-mean and every issue names its path, value and
 * what was expected. Shapes are checked here; what needs two fields at once (level ordering, hysteresis,
 * duplicate names) is checked where the options are normalised, once, with the same issue shape.
 */

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export const DurationSchema = v.union(
  [
    v.pipe(v.number(), v.finite(), v.minValue(0, "expected a number of ms ≥ 0")),
    v.pipe(
      v.string(),
      v.check(
        (s) => parseDuration(s) !== undefined,
        'expected a duration such as "30s", "10m", "1h30m" or a number of ms ≥ 0',
      ),
    ),
  ],
  'expected a duration such as "30s", "10m" or a number of ms',
);

const PositiveDuration = v.pipe(
  DurationSchema,
  v.check((d) => (parseDuration(d) ?? 0) > 0, 'expected a positive duration such as "1s"'),
);

const LabelName = v.pipe(v.string(), v.regex(LABEL_NAME, "expected a label name such as step or gpu_index"));
const MetricName = v.pipe(
  v.string(),
  v.regex(METRIC_NAME, 'expected a metric name such as "tapline_step_duration_seconds"'),
);
export const NonEmpty = v.pipe(v.string(), v.nonEmpty("expected a non-empty string"));
export const Level = v.picklist(LEVELS);
const Labels = v.record(LabelName, v.string());
const Strings = v.record(v.string(), v.string());
const PositiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const NonNegative = v.pipe(v.number(), v.finite(), v.minValue(0));

function validRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** `'step="tts"'`, `"model=~gpt-.*"`: the matcher strings of a YAML file; regexes must compile. */
const MatcherString = v.pipe(
  v.string(),
  v.check((s) => {
    const m = MATCHER_PATTERN.exec(s);
    if (!m) return false;
    return m[2] === "=~" || m[2] === "!~" ? validRegex(unquote(m[3]!)) : true;
  }, `expected a matcher like 'step="tts"' or "model=~gpt-.*" (a valid regular expression after =~ and !~)`),
);

export function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\"/g, '"')
    : value;
}

// Unions whose options are containers are `lazy` picks by input type, so a bad entry is reported at its own
// path (a union would only say that no option matched).
const MatcherList = v.array(MatcherString);
const MatcherObject = v.record(
  LabelName,
  v.union([v.string(), v.instance(RegExp)], "expected a string (equality) or a RegExp"),
);
export const MatcherSchema = v.lazy((input) =>
  Array.isArray(input)
    ? MatcherList
    : typeof input === "object" && input !== null
      ? MatcherObject
      : v.pipe(
          v.unknown(),
          v.check(() => false, "expected an object of label values or a list of matcher strings"),
        ),
);

const LevelObject = v.strictObject({
  threshold: v.pipe(v.number(), v.finite()),
  clear: v.optional(v.pipe(v.number(), v.finite())),
});
const LevelSpec = v.lazy((input) =>
  typeof input === "object" && input !== null
    ? LevelObject
    : v.pipe(v.number("expected a number or { threshold, clear? }"), v.finite()),
);

const Levels = v.pipe(
  v.strictObject({
    info: v.optional(LevelSpec),
    warning: v.optional(LevelSpec),
    error: v.optional(LevelSpec),
    critical: v.optional(LevelSpec),
  }),
  v.check(
    (l) => Object.values(l).some((x) => x !== undefined),
    "expected at least one of info, warning, error, critical with a threshold, e.g. { warning: 0.2, critical: { threshold: 0.5, clear: 0.4 } }",
  ),
);

const NoData = v.strictObject({
  after: v.optional(DurationSchema),
  state: v.optional(v.picklist(NO_DATA_STATES)),
  level: v.optional(Level),
});

const Flap = v.strictObject({
  period: PositiveDuration,
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2))),
});

const common = {
  name: NonEmpty,
  match: v.optional(MatcherSchema),
  scope: v.optional(v.picklist(RULE_SCOPES)),
  labels: v.optional(Labels),
  annotations: v.optional(Strings),
  message: v.optional(v.string()),
  unit: v.optional(v.string()),
};

interface RuleLevels {
  readonly levels: LevelsValue;
  readonly op?: string | undefined;
}
/** valibot's partialCheck and forward, with the rule's input type left to the caller (their generics cannot name it here). */
const check = v.partialCheck as unknown as (
  paths: readonly (readonly string[])[],
  requirement: (input: never) => boolean,
  message: (issue: { readonly input: unknown }) => string,
) => v.GenericValidation;
const forward = v.forward as unknown as (
  action: v.GenericValidation,
  path: readonly string[],
) => v.GenericValidation;

type LevelValue = number | { readonly threshold: number; readonly clear?: number | undefined };
type LevelsValue = Partial<Record<(typeof LEVELS)[number], LevelValue>>;
const spec = (l: LevelValue) =>
  typeof l === "number"
    ? { threshold: l, clear: l }
    : { threshold: l.threshold, clear: l.clear ?? l.threshold };
const isAbove = (op: string | undefined) => op === undefined || op === ">" || op === ">=";

/** Hysteresis: with `>` a level clears below its threshold, with `<` above it. */
const clearChecks = LEVELS.map((level) =>
  forward(
    check(
      [["levels", level], ["op"]],
      (r: RuleLevels) => {
        const l = r.levels[level];
        if (l === undefined) return true;
        const { threshold, clear } = spec(l);
        return isAbove(r.op) ? clear <= threshold : clear >= threshold;
      },
      (issue) => {
        const r = issue.input as RuleLevels;
        const { threshold, clear } = spec(r.levels[level]!);
        const above = isAbove(r.op);
        return `with op "${r.op ?? ">"}" the clear threshold must be ${above ? "≤" : "≥"} the threshold (${threshold}), got ${clear}`;
      },
    ),
    ["levels", level, "clear"],
  ),
);

/** A more severe level needs a threshold at least as far from normal as a less severe one. */
function levelOrderProblem(r: RuleLevels): string | undefined {
  const above = isAbove(r.op);
  const present = LEVELS.filter((l) => r.levels[l] !== undefined).reverse(); // most severe first
  for (let i = 1; i < present.length; i++) {
    const higher = spec(r.levels[present[i - 1]!]!).threshold;
    const lower = spec(r.levels[present[i]!]!).threshold;
    if (above ? higher < lower : higher > lower)
      return `${present[i - 1]}.threshold (${higher}) must be ${above ? "≥" : "≤"} the ${present[i]} threshold (${lower}) with op "${r.op ?? ">"}"`;
  }
  return undefined;
}
const orderCheck = forward(
  check(
    [["levels"], ["op"]],
    (r: RuleLevels) => levelOrderProblem(r) === undefined,
    (issue) => levelOrderProblem(issue.input as RuleLevels) ?? "",
  ),
  ["levels"],
);

/** A threshold rule (`kind` absent or `"threshold"`). */
const ThresholdRuleShape = v.strictObject({
  ...common,
  kind: v.optional(v.literal("threshold")),
  metric: MetricName,
  by: v.optional(v.array(LabelName)),
  aggregate: v.optional(v.picklist(AGGREGATIONS)),
  window: v.optional(DurationSchema),
  divideBy: v.optional(MetricName),
  op: v.optional(v.picklist(THRESHOLD_OPS)),
  levels: Levels,
  for: v.optional(DurationSchema),
  keepFiringFor: v.optional(DurationSchema),
  minSamples: v.optional(PositiveInt),
  noData: v.optional(NoData),
  flap: v.optional(Flap),
});
// The checks' input is the rule; their generics cannot name it without restating the shape, hence the cast.
// A piped strictObject is a valid variant option at run time (variant reads its `entries`).
const ThresholdRule = v.pipe(
  ThresholdRuleShape,
  ...([...clearChecks, orderCheck] as unknown as v.GenericPipeItem<
    v.InferOutput<typeof ThresholdRuleShape>
  >[]),
) as unknown as typeof ThresholdRuleShape;

/** The level checks (hysteresis, order) on a rule shape of another kind. */
function withLevelChecks<T extends v.GenericSchema>(shape: T): T {
  return v.pipe(
    shape,
    ...([...clearChecks, orderCheck] as unknown as v.GenericPipeItem<v.InferOutput<T>>[]),
  ) as unknown as T;
}

/** Bounds of the statistical kinds' windows (samples kept per series). */
const MaxSamples = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000));

/** An anomaly rule: the robust z-score of each sample against its window. */
const AnomalyRule = withLevelChecks(
  v.strictObject({
    ...common,
    kind: v.literal("anomaly"),
    metric: MetricName,
    by: v.optional(v.array(LabelName)),
    window: v.optional(PositiveDuration),
    warmup: v.optional(DurationSchema),
    direction: v.optional(v.picklist(ANOMALY_DIRECTIONS)),
    levels: Levels,
    for: v.optional(DurationSchema),
    keepFiringFor: v.optional(DurationSchema),
    minSamples: v.optional(v.pipe(PositiveInt, v.minValue(3, "expected at least 3 samples to judge by"))),
    noData: v.optional(NoData),
    flap: v.optional(Flap),
  }),
);

/** A predict rule: a linear trend over `window`, read `horizon` ahead. */
const PredictRule = withLevelChecks(
  v.strictObject({
    ...common,
    kind: v.literal("predict"),
    metric: MetricName,
    by: v.optional(v.array(LabelName)),
    window: v.optional(PositiveDuration),
    horizon: PositiveDuration,
    op: v.optional(v.picklist(THRESHOLD_OPS)),
    levels: Levels,
    for: v.optional(DurationSchema),
    keepFiringFor: v.optional(DurationSchema),
    minSamples: v.optional(v.pipe(PositiveInt, v.minValue(2, "expected at least 2 samples for a line"))),
    noData: v.optional(NoData),
    flap: v.optional(Flap),
  }),
);

/** A regression rule: a step's recent durations against its persisted baseline, per (pipeline, step). */
const RegressionRule = withLevelChecks(
  v.strictObject({
    ...common,
    kind: v.literal("regression"),
    // A baseline per run would never fill: regression series are per label set, across runs.
    scope: v.optional(v.literal("series", '"series" (regression rules compare runs with each other)')),
    by: v.optional(v.array(LabelName)),
    window: v.optional(PositiveDuration),
    baseline: v.optional(v.pipe(MaxSamples, v.maxValue(10_000))),
    recent: v.optional(v.pipe(PositiveInt, v.maxValue(1000))),
    compare: v.optional(v.picklist(REGRESSION_COMPARES)),
    normalize: v.optional(v.boolean()),
    levels: Levels,
    for: v.optional(DurationSchema),
    keepFiringFor: v.optional(DurationSchema),
    minSamples: v.optional(PositiveInt),
    flap: v.optional(Flap),
  }),
);

/** A stuck-step rule: fires when a matching step runs longer than `after`. */
const StuckStepRule = v.strictObject({
  ...common,
  kind: v.literal("stuck-step"),
  after: DurationSchema,
  level: v.optional(Level),
});

export const RuleSchema = v.variant("kind", [
  ThresholdRule,
  StuckStepRule,
  RegressionRule,
  AnomalyRule,
  PredictRule,
]);
/** Rule names are unique (checked even when some rule is invalid, so every problem is listed at once). */
const uniqueNames = v.rawCheck<v.InferOutput<typeof RuleSchema>[]>(({ dataset, addIssue }) => {
  const list = dataset.value;
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((rule, i) => {
    const name = (rule as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name === "") return;
    const before = seen.get(name);
    if (before === undefined) {
      seen.set(name, i);
      return;
    }
    addIssue({
      message: `duplicate rule name (the rule at index ${before} has it too)`,
      input: name,
      path: [
        { type: "array", origin: "value", input: list, key: i, value: rule },
        { type: "object", origin: "value", input: rule, key: "name", value: name },
      ],
    });
  });
});
export const RulesSchema = v.pipe(v.array(RuleSchema), uniqueNames);

export const RouteSchema = v.strictObject({
  groupBy: v.optional(v.array(v.union([LabelName, v.literal("...")], 'expected a label name or "..."'))),
  groupWait: v.optional(DurationSchema),
  groupInterval: v.optional(DurationSchema),
  repeatInterval: v.optional(
    v.lazy((input) =>
      typeof input === "object" && input !== null
        ? v.strictObject({
            info: v.optional(DurationSchema),
            warning: v.optional(DurationSchema),
            error: v.optional(DurationSchema),
            critical: v.optional(DurationSchema),
          })
        : DurationSchema,
    ),
  ),
});

export const InhibitSchema = v.array(
  v.strictObject({
    source: MatcherSchema,
    target: MatcherSchema,
    equal: v.optional(v.array(LabelName)),
  }),
);

const Time = v.union(
  [
    v.pipe(v.number(), v.finite()),
    v.pipe(
      v.string(),
      v.check((s) => Number.isFinite(Date.parse(s)), "expected an ISO date"),
    ),
  ],
  "expected epoch ms or an ISO date",
);

interface SilenceTimes {
  readonly startsAt?: number | string | undefined;
  readonly endsAt?: number | string | undefined;
  readonly duration?: number | string | undefined;
}
const time = (t: number | string) => (typeof t === "number" ? t : Date.parse(t));
const SilenceShape = v.strictObject({
  matchers: MatcherSchema,
  startsAt: v.optional(Time),
  endsAt: v.optional(Time),
  duration: v.optional(DurationSchema),
  comment: v.optional(v.string()),
  createdBy: v.optional(v.string()),
});
export const SilenceSchema = v.pipe(
  SilenceShape,
  ...([
    forward(
      check(
        [["matchers"]],
        (s: { matchers: unknown }) =>
          Array.isArray(s.matchers) ? s.matchers.length > 0 : Object.keys(s.matchers as object).length > 0,
        () => "required: at least one matcher (a silence matching everything is almost always a mistake)",
      ),
      ["matchers"],
    ),
    forward(
      check(
        [["startsAt"], ["endsAt"], ["duration"]],
        (s: SilenceTimes) => s.endsAt !== undefined || s.duration !== undefined,
        () => "missing required option: endsAt or duration (silences always expire)",
      ),
      ["endsAt"],
    ),
    forward(
      check(
        [["startsAt"], ["endsAt"]],
        (s: SilenceTimes) =>
          s.endsAt === undefined ||
          time(s.endsAt) > (s.startsAt === undefined ? Date.now() : time(s.startsAt)),
        () => "must be after startsAt",
      ),
      ["endsAt"],
    ),
  ] as unknown as v.GenericPipeItem<{ matchers: unknown }>[]),
) as unknown as typeof SilenceShape;
export const SilencesSchema = v.array(SilenceSchema);

/** A rule file: `{ rules, route?, inhibit?, silences? }`. */
export const ConfigFileSchema = v.strictObject({
  rules: RulesSchema,
  route: v.optional(RouteSchema),
  inhibit: v.optional(InhibitSchema),
  silences: v.optional(SilencesSchema),
});

const HandlerShape = v.looseObject({
  name: v.string(),
  send: v.function(),
});

const managerEntries = {
  rules: v.optional(
    v.lazy((input) =>
      typeof input === "string"
        ? v.pipe(v.string(), v.nonEmpty("expected a rule file's path"))
        : v.pipe(v.array(RuleSchema, "expected a list of rules or a rule file's path"), uniqueNames),
    ),
  ),
  handlers: v.optional(
    v.array(
      v.custom<unknown>(
        (h) => v.is(HandlerShape, h),
        "not a handler: make it with defineAlertHandler({ name, send })",
      ),
    ),
  ),
  route: v.optional(RouteSchema),
  inhibit: v.optional(InhibitSchema),
  silences: v.optional(SilencesSchema),
  evaluationInterval: v.optional(PositiveDuration),
  dir: v.optional(NonEmpty),
  historySize: v.optional(PositiveInt),
  historyRetention: v.optional(
    v.union([v.literal(false), PositiveDuration], 'expected a positive duration such as "30d", or false'),
  ),
  historyMaxFileBytes: v.optional(PositiveInt),
  maxSeriesPerRule: v.optional(PositiveInt),
  maxSamplesPerWindow: v.optional(PositiveInt),
  closeTimeout: v.optional(DurationSchema),
  component: v.optional(NonEmpty),
  redact: v.optional(v.custom<unknown>((r) => typeof r === "function", "expected a function (text) => text")),
  onTransition: v.optional(v.function()),
  onError: v.optional(v.function()),
  onMetric: v.optional(v.function()),
};

export const ManagerOptionsSchema = v.strictObject(managerEntries);

/** The plugin's options: the manager's, minus what the plugin wires itself, plus `persist`. */
export const PluginOptionsSchema = v.optional(
  v.strictObject({
    rules: managerEntries.rules,
    handlers: managerEntries.handlers,
    route: managerEntries.route,
    inhibit: managerEntries.inhibit,
    silences: managerEntries.silences,
    evaluationInterval: managerEntries.evaluationInterval,
    historySize: managerEntries.historySize,
    historyRetention: managerEntries.historyRetention,
    historyMaxFileBytes: managerEntries.historyMaxFileBytes,
    maxSeriesPerRule: managerEntries.maxSeriesPerRule,
    maxSamplesPerWindow: managerEntries.maxSamplesPerWindow,
    closeTimeout: managerEntries.closeTimeout,
    component: managerEntries.component,
    persist: v.optional(v.boolean()),
  }),
);

/** `defineAlertHandler()`'s definition (extra keys allowed: a handler may carry its own fields). */
export const HandlerSchema = v.looseObject({
  name: NonEmpty,
  send: v.function("expected a function (notification, { signal }) => Promise<void>"),
  timeoutMs: v.optional(NonNegative),
  retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  backoffMs: v.optional(NonNegative),
  sendResolved: v.optional(v.boolean()),
  immediate: v.optional(v.boolean()),
  maxQueue: v.optional(PositiveInt),
  start: v.optional(v.function()),
  close: v.optional(v.function()),
});

export const delivery = {
  name: v.optional(NonEmpty),
  timeoutMs: v.optional(v.pipe(v.number(), v.finite(), v.minValue(1))),
  retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  backoffMs: v.optional(NonNegative),
};
const Headers = v.record(
  v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "expected an HTTP header name")),
  v.string(),
);

export const WebhookOptionsSchema = v.strictObject({
  ...delivery,
  url: v.string(),
  headers: v.optional(Headers),
  secret: v.optional(NonEmpty),
  signatureHeader: v.optional(NonEmpty),
  externalURL: v.optional(v.string()),
  maxAlerts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  sendResolved: v.optional(v.boolean()),
});

export const ForwarderOptionsSchema = v.strictObject({
  ...delivery,
  url: v.string(),
  headers: v.optional(Headers),
  resendIntervalMs: v.optional(v.pipe(v.number(), v.finite(), v.minValue(1))),
  generatorURL: v.optional(v.string()),
  onResendError: v.optional(v.function()),
});

export const ConsoleOptionsSchema = v.optional(
  v.strictObject({
    name: v.optional(NonEmpty),
    write: v.optional(v.function()),
    format: v.optional(v.picklist(CONSOLE_FORMATS)),
  }),
);

export const FileOptionsSchema = v.strictObject({
  path: NonEmpty,
  name: v.optional(NonEmpty),
});

const presetFields = {
  warning: v.optional(v.pipe(v.number(), v.finite())),
  critical: v.optional(v.pipe(v.number(), v.finite())),
  window: v.optional(DurationSchema),
  minSamples: v.optional(PositiveInt),
  level: v.optional(Level),
  after: v.optional(DurationSchema),
};

/** The options schema of a preset: the common ones (`name`, `match`, `for`, `keepFiringFor`, `labels`) plus `own`. */
export function presetSchema(own: readonly (keyof typeof presetFields)[], timing = true) {
  const entries: Record<string, v.GenericSchema> = {
    name: v.optional(NonEmpty),
    match: v.optional(MatcherSchema),
    labels: v.optional(Labels),
    ...(timing && { for: v.optional(DurationSchema), keepFiringFor: v.optional(DurationSchema) }),
  };
  for (const key of own) entries[key] = presetFields[key];
  return v.optional(v.strictObject(entries));
}

/**
 * Checks `input` against a schema; throws one {@link AlertConfigError} naming `subject` (a factory such as
 * `webhookHandler()`) or the rule file, with every issue explained by core (path, value, expected, did-you-mean).
 */
export function parseConfig<T>(
  schema: v.GenericSchema<unknown, T>,
  input: unknown,
  source: { readonly subject?: string; readonly file?: string },
  extra?: (value: T, issues: OptionIssue[]) => void,
): T {
  const fail = (issues: readonly OptionIssue[]) =>
    new AlertConfigError({
      issues,
      subject: source.subject ?? source.file ?? "alert configuration",
      ...(source.file !== undefined && { file: source.file }),
    });
  const result = checkOptions(schema, input);
  if (result.issues) throw fail(result.issues);
  if (extra) {
    const issues: OptionIssue[] = [];
    extra(result.value, issues);
    if (issues.length > 0) throw fail(issues);
  }
  return result.value;
}

/**
 * Like {@link parseConfig} for a handler factory whose options hold secrets (a webhook URL, a routing key, a
 * password): an issue about one of `secretPaths` keeps its path and message but never the value, and no
 * message quotes a secret's value.
 */
export function parseSecretConfig<T>(
  schema: v.GenericSchema<unknown, T>,
  input: unknown,
  subject: string,
  secretPaths: readonly string[],
): T {
  const result = checkOptions(schema, input);
  if (!result.issues) return result.value;
  const values = secretPaths
    .map((p) =>
      p.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], input),
    )
    .filter((s) => typeof s === "string" || typeof s === "number")
    .map(String)
    .filter((s) => s.length >= 4);
  const clean = (text: string) => values.reduce((t, s) => t.split(s).join("[redacted]"), text);
  const issues = result.issues.map((i): OptionIssue => {
    const { value, ...rest } = i;
    const secret = secretPaths.includes(i.path);
    return {
      ...rest,
      // core's message ends with what it was given ("…, got X"): not for a secret
      message: clean(secret ? i.message.replace(/,? got [\s\S]*$/, "") : i.message),
      ...(!secret && value !== undefined && { value: typeof value === "string" ? clean(value) : value }),
    };
  });
  throw new AlertConfigError({ issues, subject });
}
