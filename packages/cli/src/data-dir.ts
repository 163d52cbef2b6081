import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

/** Resolves `--dir` (default `./.tapline`) from the cwd and checks it exists: a typo must not look like "no data". */
export async function dataDir(raw: string | undefined, io: CliIo): Promise<string> {
  const dir = resolve(io.cwd, raw ?? ".tapline");
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new CliError(
      "TAPLINE_ERR_CLI_NO_DATA",
      `no Tapline data folder at ${dir}${raw === undefined ? " (pass --dir <folder>: the dir given to createTapline)" : ""}`,
    );
  }
  return dir;
}
