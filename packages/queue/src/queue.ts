import { randomUUID } from "node:crypto";
import { parseOptions } from "@tapline/core";
import { Queue } from "bullmq";
import * as v from "valibot";
import { type Connection, openConnection } from "./connection.ts";
import type { QueuedRunReport } from "./summary.ts";

/** Options of {@link createRunQueue}. */
export interface RunQueueOptions {
  /** How to reach Redis: a `redis://` URL, ioredis options, or an ioredis client (not closed by the queue). */
  connection: Connection;
  /** The queue's name (workers of the same name take its jobs). Default `"tapline-runs"`. */
  name?: string;
  /** BullMQ's key prefix. Default `"bull"`. */
  prefix?: string;
  /**
   * How many times BullMQ tries a job (a failed run, a stalled worker) before it stays failed; every retry
   * resumes the run through the durable store. Default 3.
   */
  attempts?: number;
  /** Backoff between tries, ms (exponential from this). Default 1000. */
  backoffMs?: number;
}

/** Options of {@link RunQueue.enqueue}. */
export interface EnqueueOptions {
  /** The run's id (and the job's). Default a random UUID. Letters, digits, `.`, `_`, `-`. */
  runId?: string;
  /** BullMQ priority: 1 (highest) to 2,097,152; unset runs before any prioritized job. */
  priority?: number;
  /** Start no sooner than this many ms from now. */
  delay?: number;
  /** Labels of the run (metrics, alerts). */
  labels?: Record<string, string>;
  /** A W3C traceparent the run continues (`RunOptions.traceparent`). */
  traceparent?: string;
}

/** What `get()` says about a run. */
export interface QueuedRun {
  readonly runId: string;
  readonly pipeline: string;
  /** BullMQ's state of the job, or `unknown` for a run id the queue does not have (or no longer keeps). */
  readonly state:
    | "waiting"
    | "delayed"
    | "prioritized"
    | "active"
    | "completed"
    | "failed"
    | "waiting-children"
    | "unknown";
  /** Tries so far (a retry resumes the run). */
  readonly attempts: number;
  /** The run's report when it ended (completed: its last; failed: the last try's). */
  readonly report?: QueuedRunReport;
  /** Why the job failed, when it did. */
  readonly failedReason?: string;
}

/** A queue of runs on BullMQ. */
export interface RunQueue {
  /** Adds a run of `pipeline` (by name) with this input (JSON data); resolves to its run id. */
  enqueue(pipeline: string, input: unknown, options?: EnqueueOptions): Promise<{ runId: string }>;
  get(runId: string): Promise<QueuedRun>;
  /**
   * Cancels a run: a waiting or delayed one is removed; an active one has its running unit's `ctx.signal`
   * aborted with a `TAPLINE_ERR_QUEUE_CANCELLED` reason on whichever worker runs it (pushed over Redis
   * pub/sub), and its job fails without retry. Resolves to what happened.
   */
  cancel(runId: string, reason?: string): Promise<"removed" | "signalled" | "finished" | "unknown">;
  /** Job counts by state, and the workers connected. */
  counts(): Promise<{
    waiting: number;
    active: number;
    delayed: number;
    completed: number;
    failed: number;
    workers: number;
  }>;
  /** The underlying BullMQ queue, for what this API does not cover. */
  readonly bull: Queue;
  close(): Promise<void>;
}

const QueueSchema = v.strictObject({
  connection: v.custom<Connection>(
    (c) => typeof c === "string" || (!!c && typeof c === "object"),
    "a redis:// URL, ioredis options or an ioredis client",
  ),
  name: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'")),
  ),
  prefix: v.optional(v.pipe(v.string(), v.minLength(1, "must be a non-empty string"))),
  attempts: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1, "must be ≥ 1"))),
  backoffMs: v.optional(v.pipe(v.number(), v.minValue(0, "must be ≥ 0"))),
}) satisfies v.GenericSchema<RunQueueOptions>;

const EnqueueSchema = v.strictObject({
  runId: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9._-]{1,200}$/, "must be 1-200 letters, digits, '.', '_' or '-'"),
      v.check((s) => !/^\d+$/.test(s), "must not be only digits (BullMQ keeps those for its own ids)"),
    ),
  ),
  priority: v.optional(
    v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1), v.maxValue(2_097_152)),
  ),
  delay: v.optional(v.pipe(v.number(), v.minValue(0, "must be ≥ 0"))),
  labels: v.optional(v.record(v.string(), v.string())),
  traceparent: v.optional(v.string()),
}) satisfies v.GenericSchema<EnqueueOptions>;

/** @internal The pub/sub channel workers listen on for cancellations. */
export const cancelChannel = (prefix: string, name: string) => `${prefix}:${name}:tapline:cancel`;

/** @internal What a job carries. */
export interface RunJobData {
  readonly pipeline: string;
  readonly input: unknown;
  readonly runId: string;
  readonly labels?: Record<string, string>;
  readonly traceparent?: string;
  /** The last try's report, written by the worker when the try did not succeed. */
  readonly report?: QueuedRunReport;
}

/**
 * Creates a queue of runs on BullMQ: `enqueue()` from anywhere (an API server, `tapline enqueue`), workers
 * (`createWorker`) run them. Checks the connection at once: a bad URL or a Redis that does not answer is a
 * `TAPLINE_ERR_QUEUE_CONNECTION` error.
 *
 * @example
 * const queue = await createRunQueue({ connection: "redis://127.0.0.1:6379" });
 * const { runId } = await queue.enqueue("story", { idea: "a fox" });
 * console.log((await queue.get(runId)).state);
 */
export async function createRunQueue(options: RunQueueOptions): Promise<RunQueue> {
  parseOptions(QueueSchema, options, "createRunQueue()");
  const name = options.name ?? "tapline-runs";
  const prefix = options.prefix ?? "bull";
  const opened = await openConnection(options.connection);
  const bull = new Queue<RunJobData, QueuedRunReport>(name, {
    connection: opened.redis,
    prefix,
    defaultJobOptions: {
      attempts: options.attempts ?? 3,
      backoff: { type: "exponential", delay: options.backoffMs ?? 1000 },
      removeOnComplete: { age: 7 * 86_400, count: 10_000 },
      removeOnFail: { age: 7 * 86_400, count: 10_000 },
    },
  });
  bull.on("error", () => {}); // surfaced by the calls that fail
  return {
    bull,
    async enqueue(pipeline, input, enqueueOptions = {}) {
      parseOptions(EnqueueSchema, enqueueOptions, `queue.enqueue("${pipeline}")`);
      const runId = enqueueOptions.runId ?? randomUUID();
      await bull.add(
        pipeline,
        {
          pipeline,
          input,
          runId,
          ...(enqueueOptions.labels && { labels: enqueueOptions.labels }),
          ...(enqueueOptions.traceparent && { traceparent: enqueueOptions.traceparent }),
        },
        {
          jobId: runId,
          ...(enqueueOptions.priority !== undefined && { priority: enqueueOptions.priority }),
          ...(enqueueOptions.delay !== undefined && { delay: enqueueOptions.delay }),
        },
      );
      return { runId };
    },
    async get(runId) {
      // The state first, then the job: a job read before its state could complete in between, and then say
      // "completed" with no report (it was read before the report was written).
      const state = (await bull.getJobState(runId)) as QueuedRun["state"];
      const job = (await bull.getJob(runId)) as
        | {
            data: RunJobData;
            returnvalue?: QueuedRunReport;
            attemptsStarted?: number;
            attemptsMade: number;
            failedReason?: string;
          }
        | undefined;
      if (!job || state === "unknown") return { runId, pipeline: "", state: "unknown", attempts: 0 };
      const report = state === "completed" ? (job.returnvalue ?? job.data.report) : job.data.report;
      return {
        runId,
        pipeline: job.data.pipeline,
        state,
        attempts: job.attemptsStarted ?? job.attemptsMade,
        ...(report && { report }),
        ...(state === "failed" && job.failedReason && { failedReason: job.failedReason }),
      };
    },
    async cancel(runId, reason = "cancelled through the queue") {
      const job = await bull.getJob(runId);
      if (!job) return "unknown";
      const state = await job.getState();
      if (state === "completed" || state === "failed") return "finished";
      if (state === "active") {
        await opened.redis.publish(cancelChannel(prefix, name), JSON.stringify({ runId, reason }));
        return "signalled";
      }
      await job.remove();
      return "removed";
    },
    async counts() {
      const c = await bull.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
      const workers = await bull.getWorkersCount().catch(() => 0);
      return {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        workers,
      };
    },
    async close() {
      await bull.close();
      if (opened.own) await opened.redis.quit().catch(() => opened.redis.disconnect());
    },
  };
}
