import { createError } from "@tapline/core";

/** The Redis connection cannot be made: a bad URL, or nothing answering. Names the URL without its password. */
export const QueueConnectionError = createError(
  "TAPLINE_ERR_QUEUE_CONNECTION",
  "QueueConnectionError",
  (p: { url: string; why: string }) => `queue: cannot use Redis at ${p.url}: ${p.why}`,
  "check the connection option (redis://host:port) and that Redis runs and is reachable",
);
export type QueueConnectionError = InstanceType<typeof QueueConnectionError>;

/** A job names a pipeline the worker's app does not have. The job fails at once (no retry on this worker). */
export const QueuePipelineError = createError(
  "TAPLINE_ERR_QUEUE_PIPELINE",
  "QueuePipelineError",
  (p: { pipeline: string; known: readonly string[] }) =>
    `queue: this worker has no pipeline "${p.pipeline}" (it runs: ${p.known.join(", ") || "none"}); pass it in createWorker({ pipelines })`,
  "give the worker the pipeline (createWorker(app, { pipelines: [...] })) or enqueue a pipeline it has",
);
export type QueuePipelineError = InstanceType<typeof QueuePipelineError>;

/** The abort reason of a run cancelled through `queue.cancel(runId, reason)`, wherever it ran. */
export const QueueCancelError = createError(
  "TAPLINE_ERR_QUEUE_CANCELLED",
  "QueueCancelError",
  (p: { runId: string; reason: string }) => `queue: run "${p.runId}" was cancelled: ${p.reason}`,
  "nothing: the run was cancelled on purpose (queue.cancel)",
);
export type QueueCancelError = InstanceType<typeof QueueCancelError>;

/** The abort reason of runs a closing worker stopped waiting for: their jobs go back to the queue. */
export const WorkerClosingError = createError(
  "TAPLINE_ERR_QUEUE_WORKER_CLOSING",
  "WorkerClosingError",
  (p: { graceMs: number }) =>
    `queue: the worker is shutting down and its grace period (${p.graceMs} ms) ran out; the job goes back to the queue and resumes on another worker`,
  "nothing: another worker resumes the run; raise graceMs to let long runs finish first",
);
export type WorkerClosingError = InstanceType<typeof WorkerClosingError>;

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_QUEUE_CONNECTION: QueueConnectionError;
    TAPLINE_ERR_QUEUE_PIPELINE: QueuePipelineError;
    TAPLINE_ERR_QUEUE_CANCELLED: QueueCancelError;
    TAPLINE_ERR_QUEUE_WORKER_CLOSING: WorkerClosingError;
  }
}
