import { cliError, usage } from "../errors.ts";
import { type Command, dataDir, defineCommand } from "./command.ts";

const HELP = `Usage: tapline dashboard [--dir <dir>] [--host <host>] [--port <port>] [--token <token>] [--files <dir>]...

Serves the live dashboard of a Tapline data folder (@tapline/dashboard): overview, runs, run detail, steps,
system and GPU, alerts. It reads the folder and follows it as it grows, so it works beside a running app
and on the files of a stopped one. Runs until interrupted (Ctrl-C).

Options:
  --dir <dir>      the app's data folder (default ./.tapline)
  --host <host>    interface to listen on (default 127.0.0.1); any other host needs a token
  --port <port>    TCP port (default 7474; 0 picks a free one)
  --token <token>  a secret of at least 16 characters every request must carry (also TAPLINE_DASHBOARD_TOKEN)
  --files <dir>    another folder whose files (the artifacts steps declared) may be played; repeatable
  -h, --help       show this help

Exit status: 0 after an interrupt, 2 on a usage error, 3 when the data folder is missing.`;

/** `tapline dashboard`: serves the web dashboard until SIGINT/SIGTERM. */
export const dashboardCommand: Command = defineCommand({
  name: "dashboard",
  summary: "the live web dashboard of a data folder",
  help: HELP,
  options: {
    dir: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    token: { type: "string" },
    files: { type: "string", multiple: true },
  },
  async run({ values, io }) {
    const port = values.port === undefined ? 7474 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw usage(`tapline dashboard: --port must be an integer from 0 to 65535, got "${values.port}"`);
    // Usage first (2), then the folder (3).
    const dir = await dataDir(values.dir, io);
    let mod: typeof import("@tapline/dashboard");
    try {
      mod = await import("@tapline/dashboard");
    } catch (error) {
      throw cliError(
        "TAPLINE_ERR_CLI_MODULE",
        `this command needs @tapline/dashboard, which could not be loaded: ${(error as Error).message} (npm install @tapline/dashboard)`,
        { cause: error },
      );
    }
    const token = values.token ?? io.env.TAPLINE_DASHBOARD_TOKEN;
    const files = values.files as string[] | undefined;
    const dashboard = await mod.serveDashboard({
      dir,
      port,
      ...(values.host && { host: values.host }),
      ...(token && { token }),
      ...(files && { files: files.map((f) => (f.startsWith("/") ? f : `${io.cwd}/${f}`)) }),
    });
    io.stdout.write(`dashboard of ${dir} at ${dashboard.url}\n`);
    await new Promise<void>((done) => {
      if (io.signal?.aborted) return done();
      io.signal?.addEventListener("abort", () => done(), { once: true });
      if (!io.signal) {
        process.once("SIGINT", () => done());
        process.once("SIGTERM", () => done());
      }
    });
    await dashboard.close();
    return 0;
  },
});
