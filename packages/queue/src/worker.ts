import { hostname } from "node:os";
import {
  describeError,
  isTaplineError,
  type Pipeline,
  parseOptions,
  type RunReport,
  type StatusPart,
  type TaplineApp,
} from "@tapline/core";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import * as v from "valibot";
import { type Connection, openConnection } from "./connection.ts";
import { QueueCancelError, QueuePipelineError, WorkerClosingError } from "./errors.ts";
import { cancelChannel, type RunJobData } from "./queue.ts";
import { type QueuedRunReport, summarize } from "./summary.ts";

type AnyPipeline = Pipeline<any, any, any>;

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** How to reach Redis (as for `createRunQueue`). */
  connection: Connection;
  /** The pipelines this worker runs, by their names. A job of another pipeline fails without retry here. */
  pipelines: readonly AnyPipeline[];
  /** The queue's name. Default `"tapline-runs"`. */
  name?: string;
  /** BullMQ's key prefix. Default `"bull"`. */
  prefix?: string;
  /** Runs at once on this worker. Default 1. */
  concurrency?: number;
  /**
   * On `close()` (SIGTERM): how long running runs may take to finish before the worker stops waiting; the
   * rest are cancelled and their jobs handed back to the queue (another worker resumes them). Default 30 s.
   */
  graceMs?: number;
  /**
   * BullMQ's job lock: a worker that dies (`kill -9`) holds its jobs until this runs out; then they are
   * stalled and another worker resumes them. Default 30 s (BullMQ's).
   */
  lockDuration?: number;
  /** How often BullMQ looks for stalled jobs, ms. Default half of `lockDuration`. */
  stalledInterval?: number;
  /** A name for this worker in reports and `tapline queue`. Default `host:pid`. */
  workerName?: string;
}

/** A worker taking runs from the queue. */
export interface RunWorker {
  readonly name: string;
  /** `ok`, or `degraded` with the reason while Redis cannot be reached. Also the app's `queue` status part. */
  status(): StatusPart;
  /** Runs in progress on this worker (their run ids). */
  readonly active: ReadonlySet<string>;
  /** The underlying BullMQ worker, for its events (`completed`, `failed`...) and what this API does not cover. */
  readonly bull: Worker<RunJobData, QueuedRunReport>;
  /**
   * Stops taking jobs, lets running runs finish within `graceMs`, hands the rest back to the queue, closes
   * the connections. Idempotent. Afterwards nothing of the worker keeps the process alive.
   */
  close(): Promise<void>;
}

const WorkerSchema = v.strictObject({
  connection: v.custom<Connection>(
    (c) => typeof c === "string" || (!!c && typeof c === "object"),
    "a redis:// URL, ioredis options or an ioredis client",
  ),
  pipelines: v.pipe(
    v.array(
      v.custom<AnyPipeline>(
        (p) => !!p && typeof (p as AnyPipeline).run === "function",
        "a built pipeline (.build())",
      ),
    ),
    v.minLength(1, "must list at least one pipeline"),
  ),
  name: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'")),
  ),
  prefix: v.optional(v.pipe(v.string(), v.minLength(1))),
  concurrency: v.optional(
    v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1, "must be ≥ 1")),
  ),
  graceMs: v.optional(v.pipe(v.number(), v.minValue(0, "must be ≥ 0"))),
  lockDuration: v.optional(v.pipe(v.number(), v.minValue(500, "must be ≥ 500 ms"))),
  stalledInterval: v.optional(v.pipe(v.number(), v.minValue(100, "must be ≥ 100 ms"))),
  workerName: v.optional(v.pipe(v.string(), v.minLength(1))),
}) satisfies v.GenericSchema<WorkerOptions>;

/**
 * Runs jobs of the queue on this app: one job is one run of one of `pipelines`, with the app's plugins as
 * they apply locally. A job BullMQ tries again (a failed run, or a worker that died) **resumes** through the
 * app's durable store (`@tapline/plugin-durable` with a store every worker reaches: `redisStore()`), so units
 * that succeeded before are replayed, not executed again. Without a durable store, a retry starts over.
 *
 * @example
 * const worker = await createWorker(app, { connection: "redis://127.0.0.1:6379", pipelines: [story], concurrency: 4 });
 * process.once("SIGTERM", () => void worker.close());
 */
export async function createWorker(app: TaplineApp, options: WorkerOptions): Promise<RunWorker> {
  parseOptions(WorkerSchema, options, "createWorker()");
  const name = options.name ?? "tapline-runs";
  const prefix = options.prefix ?? "bull";
  const graceMs = options.graceMs ?? 30_000;
  const workerName = options.workerName ?? `${hostname()}:${process.pid}`;
  const pipelines = new Map(options.pipelines.map((p) => [p.name, p]));
  const opened = await openConnection(options.connection);
  const durable = app.hooks.loadRun.taps.length > 0;

  const active = new Map<string, { controller: AbortController }>();
  let problem: { message: string; time: number } | undefined;
  const noteError = (error: unknown) => {
    problem = { message: `Redis unreachable: ${describeError(error)}`, time: Date.now() };
  };

  // Two parameters, not BullMQ's third (its per-job AbortSignal, which costs ~30% of a bare job's time):
  // cancellations come through our own pub/sub channel to the run's controller below.
  const processor = async (
    job: Job<RunJobData, QueuedRunReport>,
    token?: string,
  ): Promise<QueuedRunReport> => {
    const { pipeline: pipelineName, input, runId } = job.data;
    const pipeline = pipelines.get(pipelineName);
    if (!pipeline) {
      throw new UnrecoverableError(
        new QueuePipelineError({ pipeline: pipelineName, known: [...pipelines.keys()] }).message,
      );
    }
    const controller = new AbortController();
    active.set(runId, { controller });
    let report: RunReport;
    try {
      report = await runOrResume(pipeline, runId, input, job.data, controller.signal);
    } finally {
      active.delete(runId);
    }
    const summary = summarize(report, workerName);
    if (report.status === "success" || report.status === "suspended") return summary;
    await job.updateData({ ...job.data, report: summary }).catch(() => {});
    const reason = controller.signal.reason;
    if (isTaplineError(reason, "TAPLINE_ERR_QUEUE_WORKER_CLOSING") && token) {
      // Handed back: another worker takes it (and resumes it) without using up one of its tries.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (isTaplineError(reason, "TAPLINE_ERR_QUEUE_CANCELLED")) throw new UnrecoverableError(reason.message);
    throw new Error(
      `run ${runId} ${report.status}${summary.failedStep ? ` at ${summary.failedStep}` : ""}: ${summary.error ?? ""}`,
    );
  };

  async function runOrResume(
    pipeline: AnyPipeline,
    runId: string,
    input: unknown,
    data: RunJobData,
    signal: AbortSignal,
  ): Promise<RunReport> {
    if (durable) {
      try {
        return await app.resume(runId, { signal });
      } catch (error) {
        if (!isTaplineError(error, "TAPLINE_ERR_RUN_NOT_FOUND")) throw error;
      }
    }
    return pipeline.run(input, {
      runId,
      signal,
      ...(data.labels && { labels: data.labels }),
      ...(data.traceparent && { traceparent: data.traceparent }),
    });
  }

  const worker = new Worker<RunJobData, QueuedRunReport>(name, processor, {
    connection: opened.redis,
    prefix,
    concurrency: options.concurrency ?? 1,
    ...(options.lockDuration !== undefined && { lockDuration: options.lockDuration }),
    ...(options.stalledInterval !== undefined && { stalledInterval: options.stalledInterval }),
    name: workerName,
  });
  worker.on("error", noteError);
  opened.redis.on("error", noteError);

  // Cancellations reach every worker; the one running the run aborts it.
  const subscriber = opened.duplicate();
  subscriber.on("error", noteError);
  await subscriber.subscribe(cancelChannel(prefix, name));
  subscriber.on("message", (_channel, message) => {
    try {
      const { runId, reason } = JSON.parse(message) as { runId: string; reason: string };
      active.get(runId)?.controller.abort(new QueueCancelError({ runId, reason }));
    } catch {
      // not one of ours
    }
  });

  // Read live, not latched: degraded while either of our connections is not ready, or for a moment after any
  // error (BullMQ's own blocking connection reports through the worker's "error" event); ok again by itself.
  const status = (): StatusPart => {
    const down = [opened.redis, subscriber].find((c) => c.status !== "ready");
    const recent = problem !== undefined && Date.now() - problem.time < 2000;
    if (down || recent) {
      const reason = recent ? problem!.message : `Redis unreachable: connection ${down!.status}`;
      return { component: "queue", level: "degraded", message: `worker ${workerName}: ${reason}` };
    }
    return {
      component: "queue",
      level: "ok",
      message: `worker ${workerName} on ${opened.url} queue ${name}: ${active.size} run(s) in progress`,
    };
  };
  app.hooks.status.tap("@tapline/queue", (parts) => {
    parts.push(status());
    return parts;
  });

  let closed: Promise<void> | undefined;
  return {
    name: workerName,
    status,
    bull: worker,
    get active() {
      return new Set(active.keys());
    },
    close() {
      closed ??= (async () => {
        const finished = worker.close();
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), graceMs);
        });
        if ((await Promise.race([finished.then(() => "done" as const), late])) === "late") {
          for (const { controller } of active.values()) controller.abort(new WorkerClosingError({ graceMs }));
          await finished;
        }
        clearTimeout(timer);
        await subscriber.quit().catch(() => subscriber.disconnect());
        if (opened.own) await opened.redis.quit().catch(() => opened.redis.disconnect());
      })();
      return closed;
    },
  };
}
