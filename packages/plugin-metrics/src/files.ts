/**
 * `@tapline/plugin-metrics/files`: readers and writers of the data directory the plugin fills (`<dir>/runs`,
 * `<dir>/metrics`, `<dir>/snapshots`, `<dir>/status.json`), for tools that work on it with the app stopped:
 * the `tapline` CLI, the dashboard, your own scripts.
 *
 * @example
 * import { readStatus, summarize } from "@tapline/plugin-metrics/files";
 * const s = await summarize(".tapline", { since: Date.now() - 86_400_000 });
 */
export { type JsonlWarning, type ReadJsonlOptions, readJsonl } from "./jsonl-reader.ts";
export { JsonlWriter, type JsonlWriterOptions, type JsonlWriterStats } from "./jsonl-writer.ts";
export type {
  ActivityRecord,
  ArtifactRecord,
  FindingRecord,
  OperationRecord,
  RunRecord,
  StepRecord,
} from "./records.ts";
export { readStatus, STATUS_FILE, writeStatus } from "./status-file.ts";
export {
  type OperationSummary,
  type SummarizeOptions,
  type Summary,
  summarize,
  type TimeInput,
} from "./summarize.ts";
