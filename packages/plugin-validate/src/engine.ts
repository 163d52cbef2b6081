import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import {
  type AudioAnalysis,
  analysisGraph,
  keepAnalysisLine,
  missingFilterIn,
  parseAnalysis,
  type SilenceParams,
} from "./audio-analysis.ts";
import { findBinary, type ResolvedBinary } from "./binaries.ts";
import { BUILT_IN_CHECKS } from "./built-in-checks.ts";
import type { Check } from "./define-check.ts";
import { lastLines, runTool, type ToolRun } from "./internal/exec.ts";
import { Limiter } from "./internal/limit.ts";
import { Lru } from "./internal/lru.ts";
import { DEFAULT_MAX_TEXT_BYTES, openRegular } from "./internal/read.ts";
import { type ProbeInfo, parseProbe, probeArgs } from "./probe.ts";

/** Options of a validator instance ({@link createValidator}); validated once, when it is created. */
export interface ValidatorOptions {
  /** Path of ffprobe; default `FFPROBE_PATH`, then `PATH`. */
  readonly ffprobePath?: string;
  /** Path of ffmpeg; default `FFMPEG_PATH`, then `PATH`. */
  readonly ffmpegPath?: string;
  /** Subprocesses at once (probes, audio passes, single-threaded edge scans); default `os.availableParallelism()`. Whole-file video decodes get half. */
  readonly concurrency?: number;
  /** Timeout of each subprocess in ms (default 120 000). A timeout is an error finding, not a throw. */
  readonly timeoutMs?: number;
  /** Entries kept in the result cache (default 2000); `0` disables caching. */
  readonly cacheSize?: number;
  /**
   * Largest text or subtitle file read, in bytes (default 4 MiB). A larger file is read up to the cap, never
   * whole, and gets a `file.too_large` error finding; the validator never takes the process down.
   */
  readonly maxTextBytes?: number;
  /**
   * Checks made with `defineCheck()` that this validator runs on every file of their kind, after the
   * built-in ones (which are always registered), on the facts of the same probe/analysis pass.
   */
  readonly checks?: readonly Check[];
}

/** A subprocess outcome worth a finding. */
export interface ToolFailure {
  readonly failed: true;
  readonly message: string;
}

/** Outcome of a probe: facts or the reason ffprobe could not read the file. */
export type ProbeOutcome = { readonly failed: false; readonly info: ProbeInfo } | ToolFailure;
/** Outcome of an audio analysis pass. */
export type AnalysisOutcome = { readonly failed: false; readonly analysis: AudioAnalysis } | ToolFailure;
/** Result of a video detection pass: stderr lines of blackdetect/freezedetect. */
export type ScanOutcome =
  | { readonly failed: false; readonly lines: readonly string[]; readonly missingFilters: readonly string[] }
  | ToolFailure;

/** Counters of what an engine did; the bench and tests read them. */
export interface EngineStats {
  ffprobeCalls: number;
  ffmpegCalls: number;
  cacheHits: number;
  hashes: number;
}

/** A local path as ffmpeg must see it: absolute and `file:` prefixed, so `-y` or `http://x` stay file names. */
export const fileUrlArg = (path: string): string => `file:${resolve(path)}`;

/**
 * Owns the binaries, the checks, the limiters and the cache of one validator. Every subprocess result is cached under
 * sha256(content) + binary identity + operation + options; a `(path, size, mtime, inode)` pre-key skips
 * hashing files that did not change, so re-validating them spawns nothing and reads nothing.
 */
export class Engine {
  readonly stats: EngineStats = { ffprobeCalls: 0, ffmpegCalls: 0, cacheHits: 0, hashes: 0 };
  readonly #options: ValidatorOptions;
  readonly #light: Limiter;
  readonly #heavy: Limiter;
  readonly #timeoutMs: number;
  readonly #cache: Lru<string, Promise<unknown>> | undefined;
  readonly #hashes: Lru<string, Promise<string>> | undefined;
  #ffprobe: Promise<ResolvedBinary> | undefined;
  #ffmpeg: Promise<ResolvedBinary> | undefined;

  /** Largest text or subtitle file read, bytes. */
  readonly maxTextBytes: number;
  /** The registry: built-in checks, then the validator's own. */
  readonly checks: readonly Check[];

  /** `options` were checked by `createValidator()`. */
  constructor(options: ValidatorOptions = {}) {
    const { concurrency, timeoutMs, cacheSize } = options;
    this.#options = options;
    const n = concurrency ?? availableParallelism();
    this.#light = new Limiter(n);
    this.#heavy = new Limiter(Math.max(1, Math.floor(n / 2)));
    this.#timeoutMs = timeoutMs ?? 120_000;
    const size = cacheSize ?? 2000;
    this.#cache = size > 0 ? new Lru(size) : undefined;
    this.#hashes = size > 0 ? new Lru(size) : undefined;
    this.maxTextBytes = options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.checks = options.checks?.length ? [...BUILT_IN_CHECKS, ...options.checks] : BUILT_IN_CHECKS;
  }

  /** The registry plus a call's own checks. */
  checksFor(extra: readonly Check[] | undefined): readonly Check[] {
    return extra?.length ? [...this.checks, ...extra] : this.checks;
  }

  /** Whether results are cached (`cacheSize` > 0): work started ahead of time is then picked up, not redone. */
  get caching(): boolean {
    return this.#cache !== undefined;
  }

  /** Resolves ffprobe once (throws `BinaryNotFoundError`). */
  ffprobe(): Promise<ResolvedBinary> {
    this.#ffprobe ??= findBinary("ffprobe", this.#options.ffprobePath);
    this.#ffprobe.catch(() => (this.#ffprobe = undefined));
    return this.#ffprobe;
  }

  /** Resolves ffmpeg once (throws `BinaryNotFoundError`). */
  ffmpeg(): Promise<ResolvedBinary> {
    this.#ffmpeg ??= findBinary("ffmpeg", this.#options.ffmpegPath);
    this.#ffmpeg.catch(() => (this.#ffmpeg = undefined));
    return this.#ffmpeg;
  }

  /** sha256 of a file's content, memoised under its (path, size, mtime, inode, device) pre-key. */
  contentHash(
    path: string,
    stat: { size: number; mtimeMs: number; ino: number; dev: number },
  ): Promise<string> {
    const preKey = `${resolve(path)}\0${stat.size}\0${stat.mtimeMs}\0${stat.ino}\0${stat.dev}`;
    const known = this.#hashes?.get(preKey);
    if (known) return known;
    this.stats.hashes++;
    const p = (async () => {
      const hash = createHash("sha256");
      // openRegular: a path swapped for a FIFO after the basic checks cannot block the hash.
      const fh = await openRegular(path);
      for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
      return hash.digest("hex");
    })();
    this.#hashes?.set(preKey, p);
    p.catch(() => this.#hashes?.delete(preKey));
    return p;
  }

  /** Runs `compute` once per key; concurrent callers share the promise; failures are not cached. */
  async cached<T>(key: string | undefined, compute: () => Promise<T>): Promise<T> {
    if (!this.#cache || key === undefined) return compute();
    const hit = this.#cache.get(key) as Promise<T> | undefined;
    if (hit) {
      this.stats.cacheHits++;
      return hit;
    }
    const p = compute();
    this.#cache.set(key, p);
    p.catch(() => this.#cache?.delete(key));
    return p;
  }

  /** One ffprobe call: format, streams and a packet count (all packets demuxed, none decoded). */
  async probe(path: string, hash: string | undefined, signal?: AbortSignal): Promise<ProbeOutcome> {
    const bin = await this.ffprobe();
    const key = hash && `${hash}|probe|${bin.identity}`;
    const outcome = await this.cached(key, async (): Promise<ProbeOutcome> => {
      const run = await this.#light.run(() => {
        this.stats.ffprobeCalls++;
        return runTool(bin.path, probeArgs(fileUrlArg(path)), {
          timeoutMs: this.#timeoutMs,
          signal,
          stdout: true,
          keep: (l) => l.trim() !== "",
          maxLines: 500,
        });
      });
      const failure = toolFailure("ffprobe", run, this.#timeoutMs);
      const info = run.exitCode === 0 ? parseProbe(run.stdout, run.lines) : undefined;
      if (info) return { failed: false, info };
      return (
        failure ?? {
          failed: true,
          message: `ffprobe could not read it: ${lastLines(run.stderrTail) || "no streams found"}`,
        }
      );
    });
    return outcome;
  }

  /** One ffmpeg pass chaining ebur128, silencedetect, volumedetect and astats; missing filters are dropped. */
  async analyzeAudio(
    path: string,
    hash: string | undefined,
    params: SilenceParams,
    signal?: AbortSignal,
  ): Promise<AnalysisOutcome> {
    const bin = await this.ffmpeg();
    const key = hash && `${hash}|audio|${bin.identity}|${params.noiseDb}|${params.minSeconds}`;
    return this.cached(key, async (): Promise<AnalysisOutcome> => {
      const missing: string[] = [];
      for (let i = 0; i < 5; i++) {
        const graph = analysisGraph(params, missing);
        if (graph === "") return { failed: false, analysis: parseAnalysis([], missing) };
        const run = await this.#light.run(() => {
          this.stats.ffmpegCalls++;
          return runTool(
            bin.path,
            [
              "-hide_banner",
              "-nostats",
              "-nostdin",
              "-i",
              fileUrlArg(path),
              "-vn",
              "-sn",
              "-dn",
              "-af",
              graph,
              "-f",
              "null",
              "-",
            ],
            { timeoutMs: this.#timeoutMs, signal, keep: keepAnalysisLine },
          );
        });
        const filter =
          run.exitCode !== 0 ? missingFilterIn(run.lines.join("\n") + run.stderrTail) : undefined;
        if (filter && !missing.includes(filter)) {
          missing.push(filter);
          continue;
        }
        const failure = toolFailure("ffmpeg", run, this.#timeoutMs);
        if (failure) return failure;
        return { failed: false, analysis: parseAnalysis(run.lines, missing) };
      }
      return { failed: true, message: "ffmpeg analysis failed repeatedly" };
    });
  }

  /**
   * A video detection pass (blackdetect + freezedetect) over a window: `{ from: "start", seconds }`,
   * `{ from: "end", seconds }`, or the whole file when `seconds` is undefined (thorough mode).
   */
  async scanVideo(
    path: string,
    hash: string | undefined,
    window: { from: "start" | "end"; seconds: number | undefined },
    graph: { black: string; freeze: string },
    signal?: AbortSignal,
  ): Promise<ScanOutcome> {
    const bin = await this.ffmpeg();
    const key =
      hash && `${hash}|scan|${bin.identity}|${window.from}|${window.seconds}|${graph.black}|${graph.freeze}`;
    return this.cached(key, async (): Promise<ScanOutcome> => {
      const missing: string[] = [];
      for (let i = 0; i < 3; i++) {
        const filters = [
          ...(missing.includes("blackdetect") ? [] : [graph.black]),
          ...(missing.includes("freezedetect") ? [] : [graph.freeze]),
        ];
        if (filters.length === 0) return { failed: false, lines: [], missingFilters: missing };
        const seek =
          window.seconds === undefined
            ? []
            : window.from === "start"
              ? ["-t", String(window.seconds)]
              : ["-sseof", String(-window.seconds)];
        // An edge window is a short decode: one single-threaded process per slot of the shared limiter,
        // so both edges run side by side (frame threads cost ~20 % more CPU for 90 frames than they save
        // in wall time on 2 busy cores). A whole-file decode keeps the decoder's frame threads and half the slots.
        const edge = window.seconds !== undefined;
        const run = await (edge ? this.#light : this.#heavy).run(() => {
          this.stats.ffmpegCalls++;
          return runTool(
            bin.path,
            [
              "-hide_banner",
              "-nostats",
              "-nostdin",
              ...(edge ? ["-threads", "1"] : []),
              "-skip_loop_filter",
              "all",
              ...seek,
              "-i",
              fileUrlArg(path),
              "-map",
              "0:v:0",
              "-an",
              "-sn",
              "-dn",
              "-vf",
              filters.join(","),
              "-f",
              "null",
              "-",
            ],
            {
              timeoutMs: this.#timeoutMs,
              signal,
              keep: (l) => /black_start|freeze_(start|end)|No such filter/.test(l),
            },
          );
        });
        const filter =
          run.exitCode !== 0 ? missingFilterIn(run.lines.join("\n") + run.stderrTail) : undefined;
        if (filter && !missing.includes(filter)) {
          missing.push(filter);
          continue;
        }
        const failure = toolFailure("ffmpeg", run, this.#timeoutMs);
        if (failure) return failure;
        return { failed: false, lines: run.lines, missingFilters: missing };
      }
      return { failed: true, message: "ffmpeg video scan failed repeatedly" };
    });
  }
}

function toolFailure(tool: string, run: ToolRun, timeoutMs: number): ToolFailure | undefined {
  if (run.timedOut) return { failed: true, message: `${tool} timed out after ${timeoutMs} ms` };
  if (run.spawnError) return { failed: true, message: `${tool} could not start: ${run.spawnError}` };
  if (run.exitCode !== 0) {
    return {
      failed: true,
      message: `${tool} exited with ${run.exitCode ?? "a signal"}: ${lastLines(run.stderrTail) || "no message"}`,
    };
  }
  return undefined;
}
