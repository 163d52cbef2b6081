export type { Connection } from "./connection.ts";
export { QueueCancelError, QueueConnectionError, QueuePipelineError, WorkerClosingError } from "./errors.ts";
export {
  createRunQueue,
  type EnqueueOptions,
  type QueuedRun,
  type RunQueue,
  type RunQueueOptions,
} from "./queue.ts";
export type { QueuedRunReport } from "./summary.ts";
export { createWorker, type RunWorker, type WorkerOptions } from "./worker.ts";
