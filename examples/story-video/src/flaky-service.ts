import { ApiError, ApiTimeoutError } from "./api-error.ts";
import { rngFor } from "./rng.ts";

/** How a stand-in API misbehaves. */
export interface FlakyOptions {
  /** Run seed: the same seed gives the same failures. */
  seed: number;
  /** Share of calls that fail, 0..1. */
  failureRate: number;
  /** Typical latency of a successful call, ms (±50%, seeded). */
  latencyMs: number;
  /** The client-side request deadline, ms: a hung request fails with a `TimeoutError` after it. */
  requestTimeoutMs: number;
  /** `Retry-After` of a 429, seconds. */
  retryAfterSeconds: number;
  /** Told of every call (a paid call, failed or not): the demo counts them to show what a resume saved. */
  onCall?: (service: string, key: string) => void;
}

/** The kinds of failure a call can get. */
export type InjectedFailure = "429" | "503" | "timeout";

/**
 * A stand-in for a remote API: every call waits a seeded latency, then either succeeds or fails the way real
 * APIs fail (429 with `Retry-After`, 503, a request that hangs until the client's deadline). Which calls
 * fail is a pure function of (seed, key, call number).
 */
export class FlakyService {
  readonly #calls = new Map<string, number>();
  /** The service's name in errors and failure keys: `llm`, `tts`. */
  readonly service: string;
  readonly options: FlakyOptions;
  /** Failure kinds this service injects, in equal proportion. */
  readonly kinds: readonly InjectedFailure[];
  constructor(
    service: string,
    options: FlakyOptions,
    kinds: readonly InjectedFailure[] = ["429", "503", "timeout"],
  ) {
    this.service = service;
    this.options = options;
    this.kinds = kinds;
  }

  /**
   * Simulates the network part of one call, keyed (e.g. `story-2:script`); resolves when the "response"
   * arrives, rejects with an `ApiError`/`ApiTimeoutError`, or with the signal's reason when aborted.
   */
  async call(key: string, signal?: AbortSignal): Promise<{ attempt: number }> {
    const n = (this.#calls.get(key) ?? 0) + 1;
    this.#calls.set(key, n);
    this.options.onCall?.(this.service, key);
    const rng = rngFor(this.options.seed, `${this.service}:${key}:${n}`);
    const latency = this.options.latencyMs * (0.5 + rng());
    const fails = rng() < this.options.failureRate;
    const kind = this.kinds[Math.floor(rng() * this.kinds.length)]!;
    if (fails && kind === "timeout") {
      await sleep(this.options.requestTimeoutMs, signal);
      throw new ApiTimeoutError(this.service, this.options.requestTimeoutMs);
    }
    await sleep(latency, signal);
    if (fails && kind === "429") {
      throw new ApiError(this.service, 429, "Too Many Requests", {
        "retry-after": String(this.options.retryAfterSeconds),
        "x-ratelimit-remaining": "0",
      });
    }
    if (fails) throw new ApiError(this.service, 503, "Service Unavailable");
    return { attempt: n };
  }
}

/** Sleeps `ms`, rejecting with the signal's reason if it aborts first; leaves no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
