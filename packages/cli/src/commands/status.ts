import { parseCommand } from "../args.ts";
import { dataDir } from "../data-dir.ts";
import { CliError } from "../errors.ts";
import { ago, json, when } from "../format.ts";
import { palette, table } from "../io.ts";
import { loadMetrics } from "../readers.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: tapline status [--dir <dir>] [--json]

The app's health as @tapline/plugin-metrics last persisted it (<dir>/status.json, written at every snapshot
and when the app closes): healthy, degraded or critical, its message, and the part each plugin contributed.

Options:
  --dir <dir>    the app's data folder (default ./.tapline)
  --json         print the status as one JSON document ({ level, message, parts, time, ageMs })
  -h, --help     show this help

Exit status: 0 healthy, 1 degraded or critical, 2 on a usage error, 3 when no status was persisted.`;

/** `tapline status`: the last persisted `app.status()`. */
export const statusCommand: Command = {
  name: "status",
  summary: "healthy / degraded / critical, with the parts behind it",
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommand(
      "status",
      argv,
      { dir: { type: "string" }, json: { type: "boolean" } },
      false,
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const dir = await dataDir(values.dir, io);
    const { readStatus } = await loadMetrics();
    const status = await readStatus(dir);
    if (!status) {
      throw new CliError(
        "TAPLINE_ERR_CLI_NO_DATA",
        `no status in ${dir}: the app has not persisted one (it needs @tapline/plugin-metrics)`,
      );
    }
    const code = status.level === "healthy" ? 0 : 1;
    const now = Date.now();
    if (values.json) {
      io.stdout.write(json({ ...status, ageMs: now - status.time }));
      return code;
    }
    const c = palette(io.stdout, io.env);
    const paint = status.level === "healthy" ? c.green : status.level === "degraded" ? c.yellow : c.red;
    const level = (l: string) => (l === "ok" ? c.green(l) : l === "critical" ? c.red(l) : c.yellow(l));
    const lines = [
      `${c.bold(paint(status.level.toUpperCase()))}${status.message && status.message !== status.level ? `: ${status.message}` : ""}`,
      c.dim(`as of ${when(status.time)} (${ago(now - status.time)}), from ${dir}`),
    ];
    if (status.parts.length > 0) {
      lines.push(
        "",
        table(
          ["component", "level", "message"],
          status.parts.map((p) => [p.component, level(p.level), p.message]),
        ),
      );
    }
    io.stdout.write(`${lines.join("\n")}\n`);
    return code;
  },
};
