import { stat } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { redactSecrets } from "@tapline/core";
import { parseDuration, redactFields } from "@tapline/core/kit";
import type { DurableStore, RunRow, UnitRow, UnitTree } from "@tapline/plugin-durable";
import { cliError, usage } from "../errors.ts";
import { clip, duration, when } from "../format.ts";
import { type CliIo, type Palette, palette, table } from "../io.ts";
import { loadDurable } from "../readers.ts";
import { type Command, defineCommand } from "./command.ts";
import { costText } from "./run-report.ts";

const HELP = `Usage: tapline runs [--status <status>] [--pipeline <name>] [--limit <n>] [--dir <dir>] [--json]
       tapline runs show <runId> [--dir <dir>] [--json]
       tapline runs prune [--keep <duration>] [--dir <dir>]

The durable runs @tapline/plugin-durable saved in <dir>/durable.sqlite (the app need not be running).

  tapline runs             the saved runs, newest first: id, pipeline, status, last update, resumes, cost,
                           and for a suspended run its reason (a failed one: its error). A run saved as
                           running whose lease expired (its process died) shows as interrupted.
  tapline runs show <id>   the run's unit tree from its last execution: each unit replayed or ran, its
                           attempts, duration, files, cost and saved cost; the suspension (reason and
                           data) and the error. A run whose process died shows the units it saved.
  tapline runs prune       deletes runs last updated longer ago than --keep (default 7d), except runs
                           whose lease is held, and prints how many went.

Options:
  --status <status>    only runs that are failed, suspended, running, interrupted, cancelled or success
  --pipeline <name>    only runs of this pipeline
  --limit <n>          at most n runs (default 50)
  --keep <duration>    with prune: keep runs updated within this (7d, 12h, 30m); default 7d
  --dir <dir>          the app's data folder (default ./.tapline)
  --json               print one JSON document
  -h, --help           show this help

Resume one with tapline resume <runId> <module>, approve a suspended one with
tapline approve <runId> <module> --data <json>.

Exit status: 0, 2 on a usage error, 3 when <dir> or its durable store does not exist or the run id is
unknown (runs show).`;

const STATUSES = ["failed", "suspended", "running", "interrupted", "cancelled", "success"] as const;
type ShownStatus = (typeof STATUSES)[number];

/** `tapline runs`, `tapline runs show <runId>`, `tapline runs prune`. */
export const runsCommand: Command = defineCommand({
  name: "runs",
  summary: "durable runs saved by @tapline/plugin-durable: list, show one, prune",
  help: HELP,
  options: {
    status: { type: "string" },
    pipeline: { type: "string" },
    limit: { type: "string" },
    keep: { type: "string" },
  },
  positionals: true,
  dataDir: true,
  async run({ values, positionals, dir, io, print }) {
    const [action, ...rest] = positionals;
    const only = (allowed: readonly string[]) => {
      for (const key of ["status", "pipeline", "limit", "keep"] as const)
        if (values[key] !== undefined && !allowed.includes(key))
          throw usage(
            `tapline runs${action ? ` ${action}` : ""}: --${key} does not apply here (see tapline runs --help)`,
          );
    };
    if (action === undefined) {
      only(["status", "pipeline", "limit"]);
      const query = listQuery(values);
      const { store, decode } = await openStore(dir);
      try {
        const now = Date.now();
        const rows = await listRuns(store, query, now);
        const runs = rows.map((row) => describeRun(row, decode, now));
        return print(
          0,
          () => redactFields(runs),
          () => formatList(runs, dir, now, io),
        );
      } finally {
        await store.close();
      }
    }
    if (action === "show") {
      only([]);
      if (rest.length !== 1)
        throw usage(`tapline runs show: expected one run id, got ${rest.length} (tapline runs show <runId>)`);
      const runId = rest[0]!;
      const { store, decode } = await openStore(dir);
      try {
        const row = await store.getRun(runId);
        if (!row)
          throw cliError(
            "TAPLINE_ERR_CLI_NO_DATA",
            `no saved run "${runId}" in ${store.location} (tapline runs --dir ${dir} lists them)`,
          );
        const now = Date.now();
        const run = describeRun(row, decode, now);
        const tree = row.tree === undefined ? undefined : (JSON.parse(row.tree) as UnitTree[]);
        const units = await store.listUnits(runId);
        const shown = {
          ...run,
          input: safeDecode(row.input, decode),
          tree,
          savedUnits: units.map(savedUnit),
        };
        return print(
          0,
          () => redactFields(jsonSafe(shown)),
          () => formatRun(run, tree, units, now, io),
        );
      } finally {
        await store.close();
      }
    }
    if (action === "prune") {
      only(["keep"]);
      if (rest.length > 0) throw usage(`tapline runs prune: unexpected argument "${rest[0]}"`);
      const keep = values.keep ?? "7d";
      const keepMs = parseDuration(keep);
      if (keepMs === undefined)
        throw usage(`tapline runs prune: --keep "${keep}" is not a duration (7d, 12h, 30m)`);
      const { store } = await openStore(dir);
      try {
        const now = Date.now();
        const pruned = await store.prune(now - keepMs, now);
        return print(
          0,
          () => ({ pruned, keep, store: store.location }),
          () => `Pruned ${pruned} run(s) last updated more than ${keep} ago from ${store.location}.\n`,
        );
      } finally {
        await store.close();
      }
    }
    throw usage(`tapline runs: unknown action "${action}" (tapline runs [show <runId> | prune]; see --help)`);
  },
});

/** A run as `tapline runs` shows it: the status a person means (`interrupted`), values decoded. */
interface ShownRun {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: ShownStatus;
  /** The status in the store (`running` for an interrupted run). */
  readonly savedStatus: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly resumes: number;
  readonly cost?: Readonly<Record<string, number>>;
  readonly suspended?: { readonly unit: string; readonly reason: string; readonly data?: unknown };
  readonly error?: string;
  readonly lease?: { readonly holder: string; readonly until: number };
}

type Decode = (text: string) => unknown;

function listQuery(values: { status?: string; pipeline?: string; limit?: string }) {
  const status = values.status;
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
    throw usage(`tapline runs: --status "${status}" is not one of ${STATUSES.join(", ")}`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw usage(`tapline runs: --limit "${values.limit}" is not a whole number of runs (1 or more)`);
  return {
    status: status as ShownStatus | undefined,
    ...(values.pipeline !== undefined && { pipeline: values.pipeline }),
    limit,
  };
}

/** A `running` row whose lease ran out (or that has none) belongs to a process that died. */
function interrupted(row: RunRow, now: number): boolean {
  return row.status === "running" && (row.leaseUntil === undefined || row.leaseUntil < now);
}

async function listRuns(
  store: DurableStore,
  query: { status: ShownStatus | undefined; pipeline?: string; limit: number },
  now: number,
): Promise<readonly RunRow[]> {
  const { status, limit } = query;
  const live = status === "running" || status === "interrupted";
  const rows = await store.listRuns({
    ...(status !== undefined && { status: live ? "running" : status }),
    ...(query.pipeline !== undefined && { pipeline: query.pipeline }),
    // running and interrupted are told apart here, by the lease: read them all, then keep `limit`.
    limit: live ? Number.MAX_SAFE_INTEGER : limit,
  });
  if (!live) return rows;
  return rows.filter((row) => interrupted(row, now) === (status === "interrupted")).slice(0, limit);
}

function describeRun(row: RunRow, decode: Decode, now: number): ShownRun {
  const suspended =
    row.suspended === undefined
      ? undefined
      : (safeDecode(row.suspended, decode) as ShownRun["suspended"] | undefined);
  return {
    runId: row.runId,
    pipeline: row.pipeline,
    status: interrupted(row, now) ? "interrupted" : (row.status as ShownStatus),
    savedStatus: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    resumes: row.resumes,
    ...(row.cost && Object.keys(row.cost).length > 0 && { cost: row.cost }),
    ...(suspended && { suspended }),
    // The store keeps the last error of a run that later succeeded or suspended: it is not this status's.
    ...(row.error !== undefined &&
      (row.status === "failed" || row.status === "cancelled" || row.status === "running") && {
        error: row.error,
      }),
    ...(row.leaseHolder !== undefined &&
      row.leaseUntil !== undefined &&
      row.leaseUntil >= now && { lease: { holder: row.leaseHolder, until: row.leaseUntil } }),
  };
}

/** A saved value, or a note saying it cannot be read (a newer store format, a damaged row): never a crash. */
function safeDecode(text: string, decode: Decode): unknown {
  try {
    return decode(text);
  } catch (error) {
    return `[cannot be decoded: ${(error as Error).message}]`;
  }
}

function savedUnit(u: UnitRow) {
  return {
    path: u.path,
    attempts: u.attempts,
    durationMs: Math.round(u.durationMs * 1000) / 1000,
    ...(u.cost && { cost: u.cost }),
    ...(u.artifacts && { artifacts: u.artifacts.map((a) => a.path) }),
    savedAt: u.savedAt,
  };
}

/** Decoded values (Map, Set, Date, BigInt) as JSON can carry them. */
function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === "bigint"
        ? v.toString()
        : v instanceof Map
          ? Object.fromEntries(v)
          : v instanceof Set
            ? [...v]
            : ArrayBuffer.isView(v)
              ? `[${v.byteLength} bytes]`
              : v,
    ),
  );
}

async function openStore(dir: string) {
  const file = join(dir, "durable.sqlite");
  if (!(await stat(file).catch(() => undefined))?.isFile())
    throw cliError(
      "TAPLINE_ERR_CLI_NO_DATA",
      `no durable store at ${file}: runs are saved there by an app with @tapline/plugin-durable (plugins: { durable: {} } in the config); pass --dir <the app's dir>`,
    );
  const { sqliteStore, decodeValue } = await loadDurable();
  return { store: sqliteStore({ path: file }), decode: decodeValue as Decode };
}

function statusText(status: string, c: Palette): string {
  if (status === "success") return c.green(status);
  if (status === "suspended" || status === "running") return c.yellow(status);
  if (status === "interrupted") return c.red(c.bold(status));
  return c.red(status);
}

function formatList(runs: readonly ShownRun[], dir: string, now: number, io: CliIo): string {
  const c = palette(io.stdout, io.env);
  if (runs.length === 0) return `No saved runs in ${join(dir, "durable.sqlite")} for this filter.\n`;
  const rows = runs.map((r) => [
    r.runId,
    r.pipeline,
    statusText(r.status, c),
    when(r.updatedAt, now),
    String(r.resumes),
    costText(r.cost),
    r.suspended ? clip(r.suspended.reason, 50) : r.error ? clip(r.error, 50) : "",
  ]);
  return `${c.bold(`${runs.length} saved run(s)`)} in ${join(dir, "durable.sqlite")}\n\n${table(
    ["run", "pipeline", "status", "updated", "resumes", "cost", "reason / error"],
    rows,
    new Set([4]),
  )}\n`;
}

function formatRun(
  run: ShownRun,
  tree: readonly UnitTree[] | undefined,
  units: readonly UnitRow[],
  now: number,
  io: CliIo,
): string {
  const c = palette(io.stdout, io.env);
  const out = [
    `${c.bold(`Run ${run.runId}`)} (${run.pipeline}): ${statusText(run.status, c)}`,
    `created ${when(run.createdAt, now)}, updated ${when(run.updatedAt, now)}, resumed ${run.resumes} time(s)`,
  ];
  if (run.cost) out.push(`cost of the last execution: ${costText(run.cost)}`);
  if (run.lease) out.push(`held by ${run.lease.holder} until ${when(run.lease.until)}`);
  const files: string[] = [];
  if (tree) {
    const rows: string[][] = [];
    const walk = (u: UnitTree, depth: number) => {
      rows.push([
        `${"  ".repeat(depth)}${u.path}`,
        statusText(u.status, c),
        u.children ? "" : u.replayed ? c.cyan("replayed") : "ran",
        u.children ? "" : String(u.attempts),
        u.replayed && !u.children ? "" : duration(u.durationMs),
        String(u.artifacts?.length ?? 0),
        costText(u.cost),
        costText(u.savedCost),
      ]);
      for (const path of u.artifacts ?? []) files.push(`  ${u.path}: ${path}`);
      for (const child of u.children ?? []) walk(child, depth + 1);
    };
    for (const u of tree) walk(u, 0);
    out.push(
      "",
      c.bold("Units of the last execution"),
      table(
        ["unit", "status", "replayed / ran", "attempts", "duration", "files", "cost", "saved cost"],
        rows,
        new Set([3, 4, 5]),
      ),
    );
  } else {
    // runEnd never came (the process died): what the store kept is the units that succeeded.
    out.push(
      "",
      c.bold(`No unit tree saved (the execution did not end); ${units.length} unit(s) saved:`),
      table(
        ["unit", "attempts", "duration", "files", "cost"],
        units.map((u) => [
          u.path,
          String(u.attempts),
          duration(u.durationMs),
          String(u.artifacts?.length ?? 0),
          costText(u.cost),
        ]),
        new Set([1, 2, 3]),
      ),
    );
    for (const u of units) for (const a of u.artifacts ?? []) files.push(`  ${u.path}: ${a.path}`);
  }
  if (files.length > 0) out.push("", c.bold("Files"), ...files);
  if (run.suspended) {
    out.push(
      "",
      c.yellow(`Suspended at ${run.suspended.unit}: ${run.suspended.reason}`),
      ...(run.suspended.data === undefined
        ? []
        : [`data: ${redactSecrets(inspect(run.suspended.data, { depth: 6, breakLength: 100 }))}`]),
      `approve: tapline approve ${run.runId} <module> [--config <file>] [--data <json>]`,
    );
  }
  if (run.error) out.push("", c.red(`Error: ${run.error}`));
  if (run.status === "failed" || run.status === "cancelled" || run.status === "interrupted")
    out.push("", `resume: tapline resume ${run.runId} <module> [--config <file>]`);
  return `${out.join("\n")}\n`;
}
