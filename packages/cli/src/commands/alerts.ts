import type { AlertHistoryEntry as AlertEntry } from "@tapline/plugin-alerts";
import { clip, when } from "../format.ts";
import { type CliIo, palette, table } from "../io.ts";
import { loadAlerts } from "../readers.ts";
import { alertsTestCommand } from "./alerts-test.ts";
import { type Command, defineCommand } from "./command.ts";

const HELP = `Usage: tapline alerts [--dir <dir>] [--active] [--since <time>] [--json]
       tapline alerts test <rules.yaml> [--dir <dir>] [--since <time>] [--json]   (tapline alerts test --help)

The alert history @tapline/plugin-alerts wrote under <dir>/alerts (every transition: pending, firing,
resolved), or with --active only the alerts still firing or pending when the app last wrote.

Options:
  --dir <dir>       the app's data folder (default ./.tapline)
  --active          only alerts that are still active (their last transition is not "resolved")
  --since <time>    only transitions since a duration ago (30m, 2h, 7d) or a date
  --json            print one JSON document: an array of transitions
  -h, --help        show this help

Exit status: 0, 2 on a usage error, 3 when <dir> does not exist.`;

const historyCommand = defineCommand({
  name: "alerts",
  summary: "alert history, the alerts still active, or a backtest of rules (alerts test)",
  help: HELP,
  options: { active: { type: "boolean" } },
  since: true,
  dataDir: true,
  async run({ values, since, dir, io, print }) {
    const { readAlertHistory } = await loadAlerts();
    const warnings: string[] = [];
    const entries = await readAlertHistory(dir, {
      active: values.active === true,
      ...(since !== undefined && { since }),
      onWarning: (w) => {
        warnings.push(String(w));
      },
    });
    for (const w of warnings.slice(0, 5)) io.stderr.write(`tapline alerts: ${w}\n`);
    return print(
      0,
      () => entries,
      () => formatAlerts(entries, values.active === true, dir, io),
    );
  },
});

/** `tapline alerts`: the alert history and the active alerts; `tapline alerts test`: a backtest of rules. */
export const alertsCommand: Command = {
  ...historyCommand,
  run: (argv, io) =>
    argv[0] === "test" ? alertsTestCommand.run(argv.slice(1), io) : historyCommand.run(argv, io),
};

function formatAlerts(entries: readonly AlertEntry[], active: boolean, dir: string, io: CliIo): string {
  const c = palette(io.stdout, io.env);
  if (entries.length === 0)
    return active ? `No active alerts in ${dir}.\n` : `No alerts recorded in ${dir}.\n`;
  const level = (l: string) =>
    l === "critical" || l === "error" ? c.red(l) : l === "warning" ? c.yellow(l) : l;
  const state = (s: string) => (s === "firing" ? c.red(s) : s === "resolved" ? c.green(s) : c.yellow(s));
  const labels = (l: Readonly<Record<string, string>>) =>
    Object.entries(l)
      .filter(([k]) => k !== "alertname") // the rule column already says it
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  const rows = entries.map((e) => [
    when(e.time),
    state(e.state),
    level(e.level),
    e.rule,
    clip(labels(e.labels), 36),
    clip(e.message, 64),
  ]);
  const title = active ? `${entries.length} active alert(s)` : `${entries.length} alert transition(s)`;
  return `${c.bold(title)} in ${dir}\n\n${table(["time", "state", "level", "rule", "labels", "message"], rows)}\n`;
}
