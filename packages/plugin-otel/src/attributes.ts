/**
 * The span attributes and event names the plugin writes. OpenTelemetry's semantic conventions where one
 * exists (`error.type`, and `exception.*` through `recordException`), `tapline.*` otherwise.
 */
export const OTEL_ATTRIBUTES = {
  /** Pipeline name (every span). */
  pipeline: "tapline.pipeline",
  /** Run id (every span). */
  runId: "tapline.run.id",
  /** `success`, `failed` or `cancelled` (run span). */
  runStatus: "tapline.run.status",
  /** Path of the unit that failed or was cancelled (run span). */
  failedUnit: "tapline.run.failed_unit",
  /** Top-level step name (unit and attempt spans). */
  step: "tapline.step",
  /** The unit's path with indexes: `scenes[3]` (unit and attempt spans). */
  unitPath: "tapline.unit.path",
  /** The unit's path without indexes: `scenes[]` (unit and attempt spans; also in the span name). */
  definitionPath: "tapline.unit.definition_path",
  /** `success`, `failed` or `cancelled` (unit span). */
  unitStatus: "tapline.unit.status",
  /** Number of attempts the unit made (unit span). */
  attempts: "tapline.unit.attempts",
  /** True when the run stopped waiting for the unit (it ignored its aborted signal). */
  abandoned: "tapline.unit.abandoned",
  /** The attempt's number, from 1 (attempt span; also on retry events). */
  attempt: "tapline.attempt",
  /** What the unit cost, in USD, when a plugin annotates `extensions.cost` (`{ usd }`). */
  costUsd: "tapline.cost.usd",
  /** GPU energy the unit used, in joules, when `@tapline/plugin-gpu` annotates `extensions.gpu`. */
  gpuEnergy: "tapline.gpu.energy_joules",
  /** Semantic convention: the error's code (`TAPLINE_ERR_STEP_TIMEOUT`) or class name. */
  errorType: "error.type",
  /** Prefix of the run's labels (`tapline.label.provider`); secret-named labels are redacted. */
  labelPrefix: "tapline.label.",
} as const;

/** Span event names. */
export const OTEL_EVENTS = {
  /** A retry was scheduled after a failed attempt (`tapline_retries_total`). */
  retry: "tapline.retry",
  /** The retry policy gave up (`tapline_retry_giveups_total`). */
  giveUp: "tapline.retry.give_up",
  /** A circuit breaker changed state (`tapline_breaker_state`): `tapline.breaker.state`. */
  breaker: "tapline.breaker.transition",
  /** A circuit breaker rejected a call without running it (`tapline_breaker_rejections_total`). */
  breakerRejected: "tapline.breaker.rejected",
  /** An alert transition raised while the unit ran (`alert` hook), e.g. `breaker_open`. */
  alert: "tapline.alert",
  /** A validation finding (`report.findings`, or the findings of a rejected attempt). */
  finding: "tapline.finding",
  /** The unit or attempt ran out of time (`TAPLINE_ERR_STEP_TIMEOUT`, `TAPLINE_ERR_RETRY_ATTEMPT_TIMEOUT`). */
  timeout: "tapline.timeout",
  /** The run was cancelled; `tapline.cancel.reason`. */
  cancel: "tapline.cancel",
  /** The run ended while this span's unit or attempt was still running (it ignored its signal). */
  abandoned: "tapline.abandoned",
} as const;
