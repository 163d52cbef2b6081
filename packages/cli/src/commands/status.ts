import type { StatusPart } from "@tapline/core";
import { cliError } from "../errors.ts";
import { ago, when } from "../format.ts";
import { palette, table } from "../io.ts";
import { loadMetrics } from "../readers.ts";
import { type Command, defineCommand } from "./command.ts";

const HELP = `Usage: tapline status [--dir <dir>] [--json]

The app's health as @tapline/plugin-metrics last persisted it (<dir>/status.json, written at every snapshot
and when the app closes): healthy, degraded or critical, and the part each plugin contributed. For an app
"unknown" parts (no information: a sampler that stopped with the app) are shown but do not decide the
health or the exit status.

Options:
  --dir <dir>    the app's data folder (default ./.tapline)
  --json         print one JSON document: the persisted { level, message, parts, time } plus
                 health (the level that counts) and ageMs
  -h, --help     show this help

Exit status: 0 healthy, 1 degraded or critical, 2 on a usage error, 3 when no status was persisted.`;

/** core's part while the app closes. */
const isClosedPart = (p: StatusPart) => p.component === "core" && p.message === "app closed";

/** `tapline status`: the last persisted `app.status()`. */
export const statusCommand: Command = defineCommand({
  name: "status",
  summary: "healthy / degraded / critical, with the parts behind it",
  help: HELP,
  dataDir: true,
  async run({ dir, io, print }) {
    const { readStatus } = await loadMetrics();
    const status = await readStatus(dir);
    if (!status) {
      throw cliError(
        "TAPLINE_ERR_CLI_NO_DATA",
        `no status in ${dir}: the app has not persisted one (it needs @tapline/plugin-metrics)`,
      );
    }
    // An app writes its last status while it closes, when samplers have stopped and report `unknown` (and
    // early builds of core 1.0 added { core, degraded, "app closed" }): neither says anything about the app's
    // health, so the headline and the exit status use the other parts; all are shown, those dimmed.
    const counted = status.parts.filter((p) => p.level !== "unknown" && !isClosedPart(p));
    const health = counted.some((p) => p.level === "critical")
      ? "critical"
      : counted.some((p) => p.level !== "ok")
        ? "degraded"
        : "healthy";
    const code = health === "healthy" ? 0 : 1;
    const now = Date.now();
    return print(
      code,
      () => ({ ...status, health, ageMs: now - status.time }),
      () => {
        const c = palette(io.stdout, io.env);
        const paint = health === "healthy" ? c.green : health === "degraded" ? c.yellow : c.red;
        const level = (l: string) => (l === "ok" ? c.green(l) : l === "critical" ? c.red(l) : c.yellow(l));
        const problems = counted
          .filter((p) => p.level !== "ok")
          .map((p) => `${p.level}: ${p.component}: ${p.message}`);
        const lines = [
          `${c.bold(paint(health.toUpperCase()))}${problems.length ? `: ${problems.join("; ")}` : ""}`,
          c.dim(`last status as of ${when(status.time)} (${ago(now - status.time)}), from ${dir}`),
        ];
        if (status.parts.length > 0) {
          const rows = status.parts.map((p) => {
            const row = [p.component, level(p.level), p.message];
            return counted.includes(p) ? row : row.map((cell) => c.dim(cell));
          });
          lines.push("", table(["component", "level", "message"], rows));
        }
        return `${lines.join("\n")}\n`;
      },
    );
  },
});
