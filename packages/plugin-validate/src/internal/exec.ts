import { execa } from "execa";

/** What one subprocess run left behind. */
export interface ToolRun {
  /** Exit code; undefined when killed (timeout, signal). */
  readonly exitCode: number | undefined;
  readonly stdout: string;
  /** stderr lines accepted by `keep` (bounded by `maxLines`). */
  readonly lines: readonly string[];
  /** The last `tailBytes` of stderr, for messages. */
  readonly stderrTail: string;
  readonly timedOut: boolean;
  /** Why it did not run or failed to start (ENOENT...). */
  readonly spawnError?: string;
}

/** Internal. */
export interface RunToolOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Keep the stdout (ffprobe's JSON); ffmpeg analysis passes only need stderr. */
  readonly stdout?: boolean;
  /** stderr lines to keep for parsing; others only reach the tail. */
  readonly keep?: (line: string) => boolean;
  readonly maxLines?: number;
  readonly tailBytes?: number;
}

/**
 * Runs a binary with an argument array (never a shell), a timeout, cancellation by signal, stdin closed, and
 * stderr read as a stream: only matching lines and a bounded tail are kept, so a chatty ffmpeg can neither
 * blow a buffer nor hold memory. Rejects only when `signal` aborts (with its reason).
 */
export async function runTool(
  bin: string,
  args: readonly string[],
  options: RunToolOptions,
): Promise<ToolRun> {
  options.signal?.throwIfAborted();
  const maxLines = options.maxLines ?? 20_000;
  const tailBytes = options.tailBytes ?? 4096;
  const lines: string[] = [];
  let tail = "";
  let partial = "";
  const onLine = (line: string) => {
    if (options.keep?.(line) && lines.length < maxLines) lines.push(line);
  };
  const subprocess = execa(bin, args, {
    reject: false,
    timeout: options.timeoutMs,
    ...(options.signal && { cancelSignal: options.signal }),
    forceKillAfterDelay: 2000,
    stdin: "ignore",
    buffer: { stdout: options.stdout ?? false, stderr: false },
    maxBuffer: { stdout: 16 * 1024 * 1024 },
    stripFinalNewline: false,
    env: { AV_LOG_FORCE_NOCOLOR: "1" },
  });
  subprocess.stderr?.setEncoding("utf8");
  subprocess.stderr?.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-tailBytes);
    const parts = (partial + chunk).split(/\r?\n|\r/);
    partial = parts.pop() ?? "";
    if (partial.length > 65_536) partial = partial.slice(-65_536);
    for (const line of parts) onLine(line);
  });
  const r = await subprocess;
  if (partial) onLine(partial);
  if (options.signal?.aborted) throw options.signal.reason;
  const spawnError =
    r.exitCode === undefined && !r.timedOut && !r.isTerminated
      ? (r.originalMessage ?? r.shortMessage)
      : undefined;
  return {
    exitCode: r.exitCode,
    stdout: typeof r.stdout === "string" ? r.stdout : "",
    lines,
    stderrTail: tail.trim(),
    timedOut: r.timedOut,
    ...(spawnError && { spawnError }),
  };
}

/** Last `n` non-empty lines of a stderr tail, joined for a message. */
export function lastLines(text: string, n = 2): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(" | ");
}
