#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runDemo } from "./demo.ts";
import { isMissingToolError } from "./media.ts";

const HELP = `Usage: node src/main.ts [options]   (or: pnpm run demo, from the repository root)

Runs the Tapline story-to-video demo: stories go through script and revision, then the voiceover and
subtitles side by side with the scene cards (one per scene, 3 at once), then render and validation, with
seeded failures injected into the LLM, TTS and image-API stand-ins.

Options:
  --seed <n>            seed of the failure injection and the scripts (default 42)
  --failure-rate <r>    share of API calls that fail, 0..1 (default 0.25)
  --stories <n>         number of stories (default 4; 1 with --quick)
  --concurrency <n>     stories in flight at once (default 2)
  --quick               one short story (4 scenes), fast encoding
  --slow-voice <x>      make the voiceover x times slower (1..10), its audio unchanged: trips the
                        VoiceoverSlower regression alert after a few runs (default 1)
  --out <dir>           folder for the videos (default ./out)
  --dir <dir>           Tapline data folder: logs, metrics, alerts (default ./.tapline)
  --budget <usd>        most each story may spend (e.g. 0.02): a story stops before the unit that would pass it
  -h, --help            show this help

Durable runs (@tapline/plugin-durable, saved in <dir>/durable.sqlite):
  --crash-at <unit>     kill this process (SIGKILL) inside that unit, e.g. render: a crash to resume from
  --resume              finish every unfinished story in <dir> (failed, cancelled, or whose process died):
                        what succeeded is replayed, not paid for again; prints the paid calls saved
  --approve-scripts     suspend each story after its first draft until "tapline approve" (command printed)
Exit status: 0 when every story rendered and passed validation, 1 when one did not, 2 on a usage error.`;

function fail(message: string): never {
  process.stderr.write(`story-video: ${message}\nRun with --help for the options.\n`);
  process.exit(2);
}

function number(name: string, raw: string | undefined, check: (n: number) => boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !check(n))
    fail(`--${name} got "${raw}", which is out of range`);
  return n;
}

let values: Record<string, string | boolean | undefined>;
try {
  // `pnpm run demo -- --quick` passes the "--" along: drop it.
  const args = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === "--"));
  ({ values } = parseArgs({
    args,
    options: {
      seed: { type: "string" },
      "failure-rate": { type: "string" },
      stories: { type: "string" },
      concurrency: { type: "string" },
      quick: { type: "boolean" },
      "slow-voice": { type: "string" },
      out: { type: "string" },
      dir: { type: "string" },
      budget: { type: "string" },
      help: { type: "boolean", short: "h" },
      // --- durable runs (issue 15): crash, resume, approve ---
      "crash-at": { type: "string" },
      resume: { type: "boolean" },
      "approve-scripts": { type: "boolean" },
      // --- end durable runs ---
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const controller = new AbortController();
process.once("SIGINT", () => controller.abort(new Error("interrupted (Ctrl-C)")));
let result: Awaited<ReturnType<typeof runDemo>>;
try {
  result = await runDemo({
    seed: number("seed", values.seed as string | undefined, Number.isInteger),
    failureRate: number(
      "failure-rate",
      values["failure-rate"] as string | undefined,
      (n) => n >= 0 && n <= 1,
    ),
    stories: number(
      "stories",
      values.stories as string | undefined,
      (n) => Number.isInteger(n) && n >= 1 && n <= 50,
    ),
    concurrency: number(
      "concurrency",
      values.concurrency as string | undefined,
      (n) => Number.isInteger(n) && n >= 1 && n <= 16,
    ),
    quick: values.quick === true,
    slowVoice: number("slow-voice", values["slow-voice"] as string | undefined, (n) => n >= 1 && n <= 10),
    out: values.out as string | undefined,
    dir: values.dir as string | undefined,
    budget: number("budget", values.budget as string | undefined, (n) => n >= 0),
    signal: controller.signal,
    // --- durable runs (issue 15) ---
    ...(values["crash-at"] !== undefined && { crashAt: values["crash-at"] as string }),
    resume: values.resume === true,
    approveScripts: values["approve-scripts"] === true,
    // --- end durable runs ---
  });
} catch (error) {
  // A missing ffmpeg is the likely failure here: its message says how to install it.
  process.stderr.write(
    `story-video: ${isMissingToolError(error) ? error.message : ((error as Error)?.stack ?? String(error))}\n`,
  );
  process.exit(1);
}
process.exitCode = result.reports.every(
  (r) =>
    r.report.status === "success" || (values["approve-scripts"] === true && r.report.status === "suspended"),
)
  ? 0
  : 1;
