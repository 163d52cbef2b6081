import { isTaplineError } from "@tapline/core";
import { usage } from "../errors.ts";
import { palette, table } from "../io.ts";
import { loadQueue } from "../readers.ts";
import { type Command, defineCommand } from "./command.ts";
import { loadPipeline } from "./module.ts";

const REDIS = `  --redis <url>        Redis (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --name <queue>       the queue's name (default tapline-runs)`;

const redisOf = (value: string | undefined, env: Record<string, string | undefined>) =>
  value ?? env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A bad URL or a Redis that does not answer is a usage error (exit 2) with the queue's message. */
async function connect<T>(what: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (isTaplineError(error, "TAPLINE_ERR_QUEUE_CONNECTION"))
      throw usage(`tapline ${what}: ${error.message} (pass --redis <url>)`);
    throw error;
  }
}

const int = (what: string, raw: string | undefined, min: number): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw usage(`${what} must be a whole number ≥ ${min}, got "${raw}"`);
  return n;
};

const WORKER_HELP = `Usage: tapline worker <module> [--config <file>] [--redis <url>] [--concurrency N] [--name <queue>]

Runs jobs of the queue (BullMQ on Redis) with the module's pipeline, loaded with its config exactly as
tapline run loads it (the config's plugins apply to every run). A job BullMQ retries (a failed run, a
worker that died) resumes through the durable store when the app has @tapline/plugin-durable with a store
every worker reaches (durable({ store: redisStore(...) }) in the module's app). SIGTERM or Ctrl-C: stop
taking jobs, let running runs finish within --grace, hand the rest back, exit 0.

Options:
  --config <file>      the YAML/JSON config, as tapline run takes it
  --dir <dir>          the data folder (overrides the config's dir)
${REDIS}
  --concurrency <n>    runs at once (default 1)
  --grace <ms>         on shutdown, how long running runs may finish (default 30000)
  --worker-name <s>    this worker's name in reports (default host:pid)
  -h, --help           show this help

Exit status: 0 after a clean shutdown; 2 on a usage, config or module error or a Redis that does not
answer; 4 when the module's pipeline function threw.`;

/** `tapline worker <module>`. */
export const workerCommand: Command = defineCommand({
  name: "worker",
  summary: "run queued runs (BullMQ on Redis) with a pipeline module",
  help: WORKER_HELP,
  options: {
    config: { type: "string", short: "c" },
    dir: { type: "string" },
    redis: { type: "string" },
    name: { type: "string" },
    concurrency: { type: "string" },
    grace: { type: "string" },
    "worker-name": { type: "string" },
  },
  positionals: true,
  async run({ values, positionals, io }) {
    if (positionals.length !== 1)
      throw usage(`tapline worker: expected one module, got ${positionals.length} (tapline worker <module>)`);
    const concurrency = int("--concurrency", values.concurrency, 1) ?? 1;
    const graceMs = int("--grace", values.grace, 0) ?? 30_000;
    const { createWorker } = await loadQueue();
    const { app, pipeline } = await loadPipeline(io, {
      module: positionals[0]!,
      config: values.config,
      dir: values.dir,
    });
    const redis = redisOf(values.redis, io.env);
    let worker: Awaited<ReturnType<typeof createWorker>>;
    try {
      worker = await connect("worker", () =>
        createWorker(app, {
          connection: redis,
          pipelines: [pipeline],
          concurrency,
          graceMs,
          ...(values.name !== undefined && { name: values.name }),
          ...(values["worker-name"] !== undefined && { workerName: values["worker-name"] }),
        }),
      );
    } catch (error) {
      await app.close();
      throw error;
    }
    io.stderr.write(
      `tapline worker ${worker.name}: pipeline "${pipeline.name}", queue ${values.name ?? "tapline-runs"}, concurrency ${concurrency}; ${worker.status().message}\n`,
    );
    await new Promise<void>((resolve) => {
      if (!io.signal || io.signal.aborted) return resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    io.stderr.write(`tapline worker ${worker.name}: shutting down (grace ${graceMs} ms)\n`);
    await worker.close();
    await app.close();
    return 0;
  },
});

const ENQUEUE_HELP = `Usage: tapline enqueue <pipeline> [--input <json>] [--run-id <id>] [--redis <url>] [--wait] [--json]

Adds a run of <pipeline> (by name) to the queue; a worker that has that pipeline runs it. Prints the run id.
With --wait, waits for the run to end and prints its report (as the queue keeps it).

Options:
  --input <json>       the run's input (JSON; default null)
  --run-id <id>        the run's id (default a random UUID)
  --priority <n>       BullMQ priority (1 is the highest)
  --delay <ms>         start no sooner than this
  --wait               wait for the run to end, print its report; the exit status is the run's
  --timeout <ms>       with --wait, give up after this (default 600000)
${REDIS}
  --json               print JSON
  -h, --help           show this help

Exit status: 0 (with --wait: the run succeeded or is suspended), 1 (with --wait: it failed or was
cancelled, or --timeout passed), 2 on a usage error or a Redis that does not answer.`;

/** `tapline enqueue <pipeline>`. */
export const enqueueCommand: Command = defineCommand({
  name: "enqueue",
  summary: "add a run to the queue (BullMQ on Redis)",
  help: ENQUEUE_HELP,
  options: {
    input: { type: "string" },
    "run-id": { type: "string" },
    priority: { type: "string" },
    delay: { type: "string" },
    wait: { type: "boolean" },
    timeout: { type: "string" },
    redis: { type: "string" },
    name: { type: "string" },
  },
  positionals: true,
  async run({ values, positionals, io, print }) {
    if (positionals.length !== 1)
      throw usage(`tapline enqueue: expected one pipeline name, got ${positionals.length}`);
    let input: unknown = null;
    if (values.input !== undefined) {
      try {
        input = JSON.parse(values.input);
      } catch (error) {
        throw usage(`tapline enqueue: --input is not valid JSON: ${(error as Error).message}`);
      }
    }
    const priority = int("--priority", values.priority, 1);
    const delay = int("--delay", values.delay, 0);
    const timeout = int("--timeout", values.timeout, 1) ?? 600_000;
    const { createRunQueue } = await loadQueue();
    const queue = await connect("enqueue", () =>
      createRunQueue({
        connection: redisOf(values.redis, io.env),
        ...(values.name !== undefined && { name: values.name }),
      }),
    );
    try {
      const { runId } = await queue
        .enqueue(positionals[0]!, input, {
          ...(values["run-id"] !== undefined && { runId: values["run-id"] }),
          ...(priority !== undefined && { priority }),
          ...(delay !== undefined && { delay }),
        })
        .catch((error: unknown) => {
          if (isTaplineError(error, "TAPLINE_ERR_OPTIONS")) throw usage(`tapline enqueue: ${error.message}`);
          throw error;
        });
      if (!values.wait)
        return print(
          0,
          () => ({ runId }),
          () => `${runId}\n`,
        );
      const deadline = Date.now() + timeout;
      for (;;) {
        const run = await queue.get(runId);
        if (run.state === "completed" || run.state === "failed") {
          const ok = run.report?.status === "success" || run.report?.status === "suspended";
          return print(
            ok ? 0 : 1,
            () => run,
            () =>
              `${runId}: ${run.report?.status ?? run.state}${run.report?.failedStep ? ` at ${run.report.failedStep}` : ""}${run.report?.error ? `: ${run.report.error}` : run.failedReason ? `: ${run.failedReason}` : ""} (${run.attempts} attempt(s), worker ${run.report?.worker ?? "?"})\n`,
          );
        }
        if (Date.now() > deadline || io.signal?.aborted)
          return print(
            1,
            () => run,
            () => `${runId}: still ${run.state} after ${timeout} ms\n`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await queue.close();
    }
  },
});

const QUEUE_HELP = `Usage: tapline queue [--redis <url>] [--name <queue>] [--json]

The queue's job counts (waiting, active, delayed, completed, failed) and the workers connected.

Options:
${REDIS}
  --json               print JSON
  -h, --help           show this help

Exit status: 0; 2 on a usage error or a Redis that does not answer.`;

/** `tapline queue`. */
export const queueCommand: Command = defineCommand({
  name: "queue",
  summary: "the queue's counts and workers (BullMQ on Redis)",
  help: QUEUE_HELP,
  options: { redis: { type: "string" }, name: { type: "string" } },
  async run({ values, io, print }) {
    const { createRunQueue } = await loadQueue();
    const queue = await connect("queue", () =>
      createRunQueue({
        connection: redisOf(values.redis, io.env),
        ...(values.name !== undefined && { name: values.name }),
      }),
    );
    try {
      const counts = await queue.counts();
      // BullMQ names a worker's connection `<queue client>:w:<worker name>` (rawname); the name is what follows.
      const workers = (await queue.bull.getWorkers().catch(() => [])).map((w) => {
        const raw = String(w.rawname ?? w.name ?? "?");
        const at = raw.indexOf(":w:");
        return at === -1 ? raw : raw.slice(at + 3);
      });
      return print(
        0,
        () => ({ ...counts, workerNames: workers }),
        () => {
          const c = palette(io.stdout, io.env);
          return `${c.bold(`Queue ${values.name ?? "tapline-runs"}`)}\n${table(
            ["waiting", "active", "delayed", "completed", "failed", "workers"],
            [
              [
                counts.waiting,
                counts.active,
                counts.delayed,
                counts.completed,
                counts.failed,
                counts.workers,
              ].map(String),
            ],
            new Set([0, 1, 2, 3, 4, 5]),
          )}${workers.length ? `\nworkers: ${workers.join(", ")}` : ""}\n`;
        },
      );
    } finally {
      await queue.close();
    }
  },
});
