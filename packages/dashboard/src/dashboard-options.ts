// The options as users read them, apart from the valibot schema (options.ts): the published declarations
// never import valibot.

/** Options of {@link serveDashboard}. */
export interface DashboardOptions {
  /** The app's data folder (the `dir` given to `createTapline`, default `.tapline`), followed as it grows. */
  dir: string;
  /**
   * Interface to listen on. Default `127.0.0.1`. Any host other than a loopback one (`127.0.0.1`, `::1`,
   * `localhost`) requires {@link DashboardOptions.token}.
   */
  host?: string;
  /** TCP port; `0` (the default) picks a free one (read it from the returned `port`). */
  port?: number;
  /**
   * A shared secret (at least 16 characters) checked on every request, the event stream included:
   * `Authorization: Bearer <token>` or `?token=<token>`. Required for a non-loopback host.
   */
  token?: string;
  /**
   * Extra folders whose files may be served (artifacts: audio, video, subtitles a step declared). The data
   * folder is always one; nothing outside these folders is ever served (`..`, encoded variants and symlinks
   * out of them get 404).
   */
  files?: readonly string[];
  /** Finished runs kept in memory with their steps; older ones are read back from the files on demand. Default 1000. */
  keepRuns?: number;
  /** Polling interval (ms) behind `fs.watch`, for file systems where watching misses events. Default 500. */
  pollIntervalMs?: number;
}
