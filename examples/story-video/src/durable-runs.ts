import { writeSync } from "node:fs";
import { join } from "node:path";
import { definePlugin, type RunReport, type StepReport, type TaplinePlugin } from "@tapline/core";
import { decodeValue, durable, type RunRow, sqliteStore } from "@tapline/plugin-durable";
import { leafUnits } from "./summary.ts";

/**
 * The demo's lease: how long a story's run stays held after its process died (`--crash-at`) before
 * `--resume` may take it. Short, so a crash and a resume follow each other quickly.
 */
export const LEASE_TTL_MS = 2000;

/** The durable plugin as the demo uses it: the SQLite store in the data folder, a short lease. */
export function durableRuns(): TaplinePlugin {
  return durable({ leaseTtl: `${LEASE_TTL_MS}ms` });
}

/**
 * `--crash-at <unit>`: kills this process with SIGKILL (no cleanup, no `runEnd`: what a power cut or the
 * OOM killer does) when the unit starts an attempt, inside the retry and timeout wrappers. The unit is a path
 * (`render`, `media.voice.voiceover`) or a map's items (`media.images.scenes[]`).
 */
export function crashAt(unit: string): TaplinePlugin {
  return definePlugin({
    name: "story-video-crash",
    version: "1.0.0",
    core: "^1.0.0",
    setup({ hooks }) {
      hooks.wrapStep.tap({ name: "story-video-crash", stage: 0 }, (next, { ctx }) =>
        ctx.path === unit || ctx.definitionPath === unit
          ? (input, signal) => {
              writeSync(
                2,
                `\nstory-video: --crash-at ${unit}: killing this process (SIGKILL) inside ${ctx.path}\n`,
              );
              process.kill(process.pid, "SIGKILL");
              return next(input, signal);
            }
          : next,
      );
    },
  })();
}

/** A saved story run that did not finish: failed, cancelled, or running in a process that died. */
export interface UnfinishedRun {
  readonly runId: string;
  readonly story: string;
  readonly status: string;
  readonly input: unknown;
}

/**
 * The unfinished story runs of the data folder, and the story ids that have any saved run. A run still
 * `running` is waited for until its lease runs out (its process died: `--crash-at`), at most twice the lease;
 * one still held then belongs to a live process and is left to it.
 */
export async function unfinishedRuns(
  dir: string,
  log: (line: string) => void,
): Promise<{ runs: UnfinishedRun[]; known: Set<string> }> {
  const store = sqliteStore({ path: join(dir, "durable.sqlite") });
  try {
    const all = (await store.listRuns({ pipeline: "story-video", limit: 10_000 })).filter(
      (r) => r.status !== "success",
    );
    const known = new Set(
      (await store.listRuns({ pipeline: "story-video", limit: 10_000 })).map(
        (r) => r.labels?.story ?? r.runId,
      ),
    );
    const deadline = Date.now() + 2 * LEASE_TTL_MS;
    const held = (r: RunRow) => r.status === "running" && (r.leaseUntil ?? 0) >= Date.now();
    let rows = all.filter((r) => r.status !== "suspended");
    if (rows.some(held))
      log(`waiting up to ${(2 * LEASE_TTL_MS) / 1000} s for the leases of runs whose process died…`);
    while (rows.some(held) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await Promise.all(rows.map(async (r) => (await store.getRun(r.runId)) ?? r));
    }
    for (const r of rows.filter(held))
      log(
        `${r.labels?.story ?? r.runId}: run ${r.runId} is held by a live process (${r.leaseHolder}); left to it`,
      );
    const runs = rows
      .filter((r) => !held(r) && r.status !== "success" && r.status !== "suspended")
      .map((r) => ({
        runId: r.runId,
        story: r.labels?.story ?? r.runId,
        status: r.status === "running" ? "interrupted" : r.status,
        input: decodeValue(r.input),
      }));
    return { runs, known };
  } finally {
    await store.close();
  }
}

/** Which paid API a unit calls: the LLM (`script`, `revise`), the TTS (`voiceover`), the image API (a scene). */
export function paidApi(path: string): "llm" | "tts" | "images" | undefined {
  if (path === "script" || path === "revise") return "llm";
  if (path.endsWith(".voiceover")) return "tts";
  if (/scenes\[\d+\]$/.test(path)) return "images";
  return undefined;
}

/** Paid calls per API. */
export type PaidCalls = Record<"llm" | "tts" | "images", number>;

/** The paid calls replaying saved: one per replayed unit that calls an API (its successful call). */
export function savedCalls(reports: readonly RunReport[]): PaidCalls {
  const saved: PaidCalls = { llm: 0, tts: 0, images: 0 };
  for (const report of reports)
    for (const unit of report.steps.flatMap(leafUnits)) {
      const api = paidApi(unit.path);
      if (api && unit.replayed) saved[api]++;
    }
  return saved;
}

/** `[lighthouse] replayed 9 unit(s): script, revise, media.voice.voiceover, 6 scene(s); ran 2: render, validate`. */
export function formatResumed(id: string, report: RunReport): string {
  const units = report.steps.flatMap(leafUnits);
  const names = (list: StepReport[]) => {
    const scenes = list.filter((u) => /scenes\[\d+\]$/.test(u.path)).length;
    const rest = list.filter((u) => !/scenes\[\d+\]$/.test(u.path)).map((u) => u.path);
    return [...rest, ...(scenes > 0 ? [`${scenes} scene(s)`] : [])].join(", ");
  };
  const replayed = units.filter((u) => u.replayed);
  const ran = units.filter((u) => !u.replayed && u.status !== "skipped");
  return `[${id}] ${report.status}: replayed ${replayed.length} unit(s)${replayed.length ? `: ${names(replayed)}` : ""}; ran ${ran.length}${ran.length ? `: ${names(ran)}` : ""}`;
}

/** `llm 2, tts 1, images 6`. */
export function formatCalls(calls: PaidCalls): string {
  return `llm ${calls.llm}, tts ${calls.tts}, images ${calls.images}`;
}
