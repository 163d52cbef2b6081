import type { AlertHistoryEntry as AlertEntry } from "@tapline/plugin-alerts";
import { parseCommand, parseSince } from "../args.ts";
import { dataDir } from "../data-dir.ts";
import { clip, json, when } from "../format.ts";
import { palette, table } from "../io.ts";
import { loadAlerts } from "../readers.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: tapline alerts [--dir <dir>] [--active] [--since <time>] [--json]

The alert history @tapline/plugin-alerts wrote under <dir>/alerts (every transition: pending, firing,
resolved), or with --active only the alerts still firing or pending when the app last wrote.

Options:
  --dir <dir>       the app's data folder (default ./.tapline)
  --active          only alerts that are still active (their last transition is not "resolved")
  --since <time>    only transitions since a duration ago (30m, 2h, 7d) or a date
  --json            print one JSON document: an array of transitions
  -h, --help        show this help

Exit status: 0, 2 on a usage error, 3 when <dir> does not exist.`;

/** `tapline alerts`: the alert history and the active alerts. */
export const alertsCommand: Command = {
  name: "alerts",
  summary: "alert history, or the alerts still active",
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommand(
      "alerts",
      argv,
      {
        dir: { type: "string" },
        active: { type: "boolean" },
        since: { type: "string" },
        json: { type: "boolean" },
      },
      false,
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    // Usage first: a bad --since is a usage error (2) even where there is no data (3).
    const since = values.since === undefined ? undefined : parseSince(values.since);
    const dir = await dataDir(values.dir, io);
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
    if (values.json) {
      io.stdout.write(json(entries));
      return 0;
    }
    io.stdout.write(formatAlerts(entries, values.active === true, dir, io));
    return 0;
  },
};

function formatAlerts(
  entries: readonly AlertEntry[],
  active: boolean,
  dir: string,
  io: Parameters<Command["run"]>[1],
): string {
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
