import { cliError } from "./errors.ts";

/**
 * The plugins' readers, loaded lazily: a command pays only for the package it needs (`tapline status` never
 * loads the ffprobe wrappers of plugin-validate), and a broken install is a clear error, not a crash at start.
 */
async function load<T>(pkg: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw cliError(
      "TAPLINE_ERR_CLI_MODULE",
      `this command needs ${pkg}, which could not be loaded: ${(error as Error).message} (npm install ${pkg})`,
      {
        cause: error,
      },
    );
  }
}

/** `@tapline/plugin-metrics/files`: `summarize`, `readStatus`. */
export const loadMetrics = () =>
  load("@tapline/plugin-metrics", () => import("@tapline/plugin-metrics/files"));
/** `@tapline/plugin-alerts`: `readAlertHistory`. */
export const loadAlerts = () => load("@tapline/plugin-alerts", () => import("@tapline/plugin-alerts"));
/** `@tapline/plugin-validate`: `validateFile`. */
export const loadValidate = () => load("@tapline/plugin-validate", () => import("@tapline/plugin-validate"));
/** `@tapline/plugin-durable`: `sqliteStore`, `decodeValue` (`tapline runs`). */
export const loadDurable = () => load("@tapline/plugin-durable", () => import("@tapline/plugin-durable"));
/** `@tapline/queue`: `createRunQueue`, `createWorker`. */
export const loadQueue = () => load("@tapline/queue", () => import("@tapline/queue"));
