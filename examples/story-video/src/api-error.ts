/**
 * The error the stand-in APIs throw, shaped like the error a fetch client throws for a non-2xx Response:
 * `status` and `headers` (a real `Headers`), so a retry policy can read `Retry-After` exactly as it would
 * from a real LLM or TTS API.
 */
export class ApiError extends Error {
  readonly isApiError = true;
  /** HTTP status: 429, 503... */
  readonly status: number;
  readonly headers: Headers;
  /** The service that failed: `llm` or `tts`. */
  readonly service: string;
  constructor(service: string, status: number, message: string, headers: Record<string, string> = {}) {
    super(`${service}: HTTP ${status} ${message}`);
    this.name = "ApiError";
    this.service = service;
    this.status = status;
    this.headers = new Headers(headers);
  }
}

/** True for an {@link ApiError} from any copy of this module. */
export const isApiError = (e: unknown): e is ApiError => !!e && e instanceof Error && "isApiError" in e;

/**
 * A request that ran past the client's own deadline, like `fetch(url, { signal: AbortSignal.timeout(ms) })`:
 * name `TimeoutError`, code `ETIMEDOUT`.
 */
export class ApiTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  readonly service: string;
  constructor(service: string, ms: number) {
    super(`${service}: request timed out after ${ms} ms`);
    this.name = "TimeoutError";
    this.service = service;
  }
}
