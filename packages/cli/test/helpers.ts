import { main } from "../src/index.ts";

/** Runs `tapline` in-process with captured output. */
export async function tapline(
  argv: readonly string[],
  options: { cwd?: string; tty?: boolean; env?: Record<string, string> } = {},
) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { isTTY: options.tty ?? false, write: (s: string) => (stdout += s) },
    stderr: { isTTY: options.tty ?? false, write: (s: string) => (stderr += s) },
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
}
