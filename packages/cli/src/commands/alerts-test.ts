import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isTaplineError } from "@tapline/core";
import type { AlertRuleInput, BacktestResult } from "@tapline/plugin-alerts";
import { parse as parseYaml } from "yaml";
import { cliError, usage } from "../errors.ts";
import { clip } from "../format.ts";
import { type CliIo, palette, table } from "../io.ts";
import { loadAlerts, loadMetrics } from "../readers.ts";
import { type Command, dataDir, defineCommand } from "./command.ts";

const HELP = `Usage: tapline alerts test <rules.yaml> [--dir <dir>] [--since <time>] [--interval <duration>] [--json]

Backtests alert rules: replays the history a Tapline app recorded under <dir> (the metric samples in
<dir>/metrics, the step and run records in <dir>/runs, both written by @tapline/plugin-metrics) through
the rules of <rules.yaml>, with the same evaluation code as the live alerts plugin and the recorded times
as its clock, and prints per rule when each alert would have fired and resolved (time, level, value,
message), as \`promtool test rules\` does for Prometheus. Nothing is written and nobody is notified.
<rules.yaml> is a rule file ({ rules: [...] }) or a \`tapline run\` config, whose plugins.alerts.rules
(a list, or a rule file's path) are tested.

Regression rules start from an empty baseline; gaps between records are replayed as if the app ran
through them. Step records carry the unit's size and labels (written by @tapline/plugin-metrics from this
release on); records written before carry neither, so rules with \`normalize: true\` or matchers on labels
see no step durations in them.

Options:
  --dir <dir>            the app's data folder (default ./.tapline)
  --since <time>         only records since a duration ago (30m, 2h, 7d) or a date
  --interval <duration>  how often the replay evaluates between records (default 1s, as the plugin)
  --json                 print one JSON document: records replayed and, per rule, its transitions
  -h, --help             show this help

Exit status: 0, 2 on a usage error or a bad rule file (its problems are listed with their paths),
3 when <dir> does not exist or holds no samples or run records.`;

/** `tapline alerts test <rules>`: alert rules backtested against a data folder's recorded history. */
export const alertsTestCommand: Command = defineCommand({
  name: "alerts test",
  summary: "replay recorded history through alert rules: when each would have fired and resolved",
  help: HELP,
  options: { dir: { type: "string" }, interval: { type: "string" } },
  positionals: true,
  since: true,
  async run({ values, positionals, since, io, print }) {
    if (positionals.length !== 1)
      throw usage(
        `tapline alerts test: ${positionals.length === 0 ? "give the rule file to test" : `one rule file, got ${positionals.length}: ${positionals.join(" ")}`} (tapline alerts test rules.yaml --dir .tapline)`,
      );
    const file = resolve(io.cwd, positionals[0]!);
    const { backtest, loadAlertConfig } = await loadAlerts();
    // The rule file first: its problems are what to fix, whatever the folder holds.
    const rules = await readRules(file, loadAlertConfig);
    // A rule file was checked as it was read; a tapline config's inline rules are checked here, naming the file.
    await backtest({ rules, records: [] }).catch((error: unknown) => {
      if (!isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")) throw error;
      throw cliError(
        "TAPLINE_ERR_CLI_CONFIG",
        `tapline alerts test: invalid alert rules in ${file}:\n${error.issues.map((i) => `  - plugins.alerts.${i.path}: ${i.message}`).join("\n")}\nfix the fields listed and run again`,
        { cause: error },
      );
    });
    const dir = await dataDir(values.dir, io);
    const { readJsonl } = await loadMetrics();
    const warnings: string[] = [];
    const onWarning = (w: { message: string }) => void warnings.push(w.message);
    let read = 0;
    async function* recorded() {
      for (const stream of ["metrics", "runs"])
        for await (const record of readJsonl(join(dir, stream), { onWarning })) {
          read++;
          yield record;
        }
    }
    const result = await backtest({
      rules,
      records: recorded(),
      ...(since !== undefined && { since }),
      ...(values.interval !== undefined && { evaluationInterval: values.interval }),
    }).catch((error: unknown) => {
      // The rules were checked above: what is left to reject is the interval.
      if (!isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")) throw error;
      throw usage(
        `tapline alerts test: --interval "${values.interval}" is not a duration > 0 (500ms, 1s, 1m)`,
      );
    });
    for (const w of warnings.slice(0, 5)) io.stderr.write(`tapline alerts test: ${w}\n`);
    if (read === 0)
      throw cliError(
        "TAPLINE_ERR_CLI_NO_DATA",
        `no metric samples or run records under ${dir} (metrics/, runs/): record some runs with @tapline/plugin-metrics, or pass the --dir of an app that did`,
      );
    return print(
      0,
      () => ({ file, dir, ...result, warnings: [...warnings, ...result.warnings] }),
      () => formatBacktest(result, file, dir, io),
    );
  },
});

/**
 * The rules of a rule file (`{ rules, route?, ... }`), or of a `tapline run` config (`plugins.alerts.rules`: a
 * list, or the path of a rule file relative to the config), so the rules an app runs can be tested as they are.
 */
async function readRules(
  file: string,
  load: (file: string) => Promise<{ rules: AlertRuleInput[] }>,
): Promise<readonly AlertRuleInput[] | string> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  let doc: unknown;
  try {
    doc = text === undefined ? undefined : parseYaml(text);
  } catch {
    doc = undefined; // the rule-file loader reports bad YAML, naming the file
  }
  const plugins = (doc as { plugins?: unknown } | undefined)?.plugins;
  if (typeof plugins !== "object" || plugins === null || "rules" in (doc as object))
    return (
      await load(file).catch((error: unknown) => {
        throw configError(error);
      })
    ).rules;
  const alerts = (plugins as Record<string, unknown>).alerts as { rules?: unknown } | undefined;
  const rules = alerts?.rules;
  if (typeof rules === "string") {
    const ruleFile = resolve(dirname(file), rules);
    return (
      await load(ruleFile).catch((error: unknown) => {
        throw configError(error);
      })
    ).rules;
  }
  if (!Array.isArray(rules))
    throw cliError(
      "TAPLINE_ERR_CLI_CONFIG",
      `tapline alerts test: ${file} is a tapline config without alert rules: give plugins.alerts.rules (a list, or a rule file), or pass a rule file ({ rules: [...] })`,
    );
  return rules as AlertRuleInput[];
}

/** A rule-file problem as a config error: exit 2, with the file and every bad field (path, what to fix). */
function configError(error: unknown): unknown {
  if (!isTaplineError(error, "TAPLINE_ERR_ALERTS_CONFIG")) return error;
  return cliError(
    "TAPLINE_ERR_CLI_CONFIG",
    `tapline alerts test: ${error.message}\nfix the fields listed (an unknown key names the closest known one) and run again`,
    { cause: error },
  );
}

const iso = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, "Z");

function formatBacktest(result: BacktestResult, file: string, dir: string, io: CliIo): string {
  const c = palette(io.stdout, io.env);
  const { samples, steps, runs } = result.records;
  const out: string[] = [];
  const span = result.from === undefined ? "" : `, ${iso(result.from)} to ${iso(result.to!)}`;
  out.push(
    `${c.bold("Backtest")} of ${file} against ${dir}: ${samples} sample(s), ${steps} step(s), ${runs} run(s)${span}`,
  );
  const level = (l: string) =>
    l === "critical" || l === "error" ? c.red(l) : l === "warning" ? c.yellow(l) : l;
  for (const rule of result.rules) {
    out.push("");
    // A level change is a firing transition of an alert already firing: count each alert's episodes once.
    const open = new Set<string>();
    let fired = 0;
    for (const e of rule.events) {
      const id = `${JSON.stringify(e.labels)}\u0000${e.runId ?? ""}`;
      if (e.state === "resolved") open.delete(id);
      else if (!open.has(id)) {
        open.add(id);
        fired++;
      }
    }
    if (rule.events.length === 0) {
      out.push(`${c.bold(rule.rule)} (${rule.kind}): ${c.green("never fired")}`);
      continue;
    }
    const tail = rule.firingAtEnd > 0 ? `, ${c.red(`${rule.firingAtEnd} still firing at the end`)}` : "";
    out.push(`${c.bold(rule.rule)} (${rule.kind}): fired ${fired} time(s)${tail}`);
    const rows = rule.events.map((e) => [
      iso(e.time),
      e.state === "firing" ? c.red(e.state) : c.green(e.state),
      level(e.level),
      e.value === undefined ? "" : formatNumber(e.value),
      clip(
        Object.entries(e.labels)
          .filter(([k]) => k !== "alertname")
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
        36,
      ),
      clip(e.message, 80),
    ]);
    out.push(table(["time", "state", "level", "value", "labels", "message"], rows, new Set([3])));
  }
  if (result.warnings.length > 0) {
    out.push("");
    for (const w of result.warnings) out.push(c.yellow(`warning: ${w}`));
  }
  return `${out.join("\n")}\n`;
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(1) : n.toPrecision(3);
}
