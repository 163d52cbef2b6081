import { execa } from "execa";

/** True when ffmpeg and ffprobe can run here. */
export async function haveFfmpeg(): Promise<boolean> {
  const [a, b] = await Promise.all([
    execa(process.env.FFMPEG_PATH || "ffmpeg", ["-version"], { reject: false }),
    execa(process.env.FFPROBE_PATH || "ffprobe", ["-version"], { reject: false }),
  ]);
  return !a.failed && !b.failed;
}

/** Skip reason, or throws when CI requires the integration tests (TAPLINE_REQUIRE_INTEGRATION=1). */
export function skipOrFail(present: boolean, what: string): boolean {
  if (present) return false;
  if (process.env.TAPLINE_REQUIRE_INTEGRATION === "1")
    throw new Error(`${what} is required (TAPLINE_REQUIRE_INTEGRATION=1) but missing`);
  console.warn(`skipping: ${what} not installed`);
  return true;
}

/** Collects what the demo prints, as a non-terminal stream. */
export function captureOutput() {
  let text = "";
  return {
    isTTY: false,
    write: (s: string) => {
      text += s;
    },
    get text() {
      return text;
    },
  };
}

/** ffprobe's streams and duration of a file. */
export async function probe(file: string) {
  const { stdout } = await execa(process.env.FFPROBE_PATH || "ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "format=duration,format_name:stream",
    "-of",
    "json",
    file,
  ]);
  return JSON.parse(String(stdout)) as {
    format: { duration: string; format_name: string };
    streams: { codec_type: string; codec_name: string; width?: number; height?: number; pix_fmt?: string }[];
  };
}
