import { redactSecrets } from "@tapline/core";
import { type AlertHandlerError, AlertHandlerTimeoutError, handlerGaveUp } from "./errors.ts";
import type { AlertNotification } from "./notification.ts";
import { HandlerSchema, parseConfig } from "./schemas.ts";

/** What `send()` receives besides the notification. */
export interface SendContext {
  /** Aborted when the attempt times out or the manager closes; stop work and return when it fires. */
  readonly signal: AbortSignal;
  /** The attempt number, from 1. */
  readonly attempt: number;
}

/**
 * What a handler's `start()` receives: the way to report work it does outside `send()`, such as the Alertmanager
 * forwarder's background re-sends, through the same path as a notification that failed.
 */
export interface HandlerContext {
  /** The handler's name, as used in metrics and errors. */
  readonly name: string;
  /** Aborted when the manager closes: cancel background work (timers, requests) with it. */
  readonly signal: AbortSignal;
  /**
   * Reports a background delivery that failed. It is counted like a notification that gave up
   * (`tapline_alert_notifications_total{outcome="failed"}`, `summary().handlers[].failed`) and reported as an
   * `AlertHandlerError` through the manager's `onError` (the plugin: core's `pluginError`, hook
   * `handler:<name>`); a timeout (an `AlertHandlerTimeoutError` as the error or its `cause`) keeps the code
   * `TAPLINE_ERR_ALERTS_HANDLER_TIMEOUT`. Ignored once the manager is closed.
   */
  fail(error: unknown): void;
}

/**
 * A notification handler (receiver). Write one with {@link defineAlertHandler}; it is the extension point for
 * third-party packages (keyword `tapline-alert-handler`).
 */
export interface AlertHandler {
  /** Unique among the manager's handlers; used in metrics and errors. */
  readonly name: string;
  /** Delivers one notification. Throw (or reject) to fail the attempt; it is retried with backoff. */
  send(notification: AlertNotification, context: SendContext): Promise<void> | void;
  /** Per-attempt timeout in ms; the attempt's signal aborts and the attempt counts as failed. Default 10 000. */
  readonly timeoutMs?: number;
  /** Retries after a failed attempt. Default 3. */
  readonly retries?: number;
  /** First backoff delay in ms, doubled per retry with jitter, capped at 30 s. Default 500. */
  readonly backoffMs?: number;
  /** Receive resolved notifications too. Default true. */
  readonly sendResolved?: boolean;
  /**
   * Skip grouping: receive one notification per alert transition as soon as it happens (still after silences and
   * inhibition). For forwarders to a system that groups itself, such as Alertmanager. Default false.
   */
  readonly immediate?: boolean;
  /** Notifications waiting beyond this are dropped (oldest first) and counted. Default 1000. */
  readonly maxQueue?: number;
  /**
   * Called once when a manager takes the handler, before any `send()`: keep the context to report failures of
   * background work (see {@link HandlerContext}). A handler serves one manager at a time.
   */
  start?(context: HandlerContext): void;
  /** Releases the handler's resources (timers, sockets); awaited by the manager's `close()`. */
  close?(): Promise<void> | void;
}

/**
 * Defines an alert handler. Checks the definition at once (name, `send`, numeric options; an
 * `AlertConfigError` lists every bad field) and returns it frozen. Extra fields of the handler's own are kept.
 *
 * @example
 * export const slack = (url: string) => defineAlertHandler({
 *   name: "slack",
 *   async send(n, { signal }) {
 *     const res = await fetch(url, { method: "POST", body: JSON.stringify({ text: n.alerts.map((a) => a.message).join("\n") }), signal });
 *     if (!res.ok) throw new Error(`slack answered ${res.status}`);
 *   },
 * });
 */
export function defineAlertHandler<T extends AlertHandler>(handler: T): Readonly<T> {
  const name = (handler as { name?: unknown } | null)?.name;
  parseConfig(HandlerSchema, handler, {
    subject: `defineAlertHandler(${typeof name === "string" && name !== "" ? JSON.stringify(name) : ""})`,
  });
  return Object.freeze({ ...handler });
}

/** Counters of one handler, as `manager.status()` and `summary()` report them. */
export interface HandlerStats {
  readonly name: string;
  /** Notifications delivered. */
  sent: number;
  /** Notifications given up after every retry. */
  failed: number;
  /** Failed attempts that were retried. */
  retries: number;
  /** Notifications dropped because the queue was full or the manager closed. */
  dropped: number;
  /** Notifications waiting. */
  queued: number;
  /** The last failure's message, secrets redacted. */
  lastError?: string;
  /** Epoch ms of the last delivery. */
  lastSentAt?: number;
}

/** @internal What a runner reports to its manager. */
export interface RunnerEvents {
  result(
    handler: string,
    outcome: "sent" | "failed" | "retried" | "dropped",
    error?: AlertHandlerError,
  ): void;
}

/**
 * @internal
 * Runs one handler in isolation: its own queue, one notification at a time, a timeout per attempt (the attempt
 * is abandoned even if `send` ignores its signal), retries with exponential backoff and jitter. Nothing here
 * is awaited by the caller of `enqueue`, so a hanging receiver never delays a step.
 */
export class HandlerRunner {
  readonly handler: AlertHandler;
  readonly stats: HandlerStats;
  readonly #queue: AlertNotification[] = [];
  readonly #events: RunnerEvents;
  readonly #closing = new AbortController();
  #running: Promise<void> | undefined;
  #timeoutMs: number;
  #retries: number;
  #backoffMs: number;
  #maxQueue: number;

  constructor(handler: AlertHandler, events: RunnerEvents) {
    this.handler = handler;
    this.#events = events;
    this.#timeoutMs = handler.timeoutMs ?? 10_000;
    this.#retries = handler.retries ?? 3;
    this.#backoffMs = handler.backoffMs ?? 500;
    this.#maxQueue = Math.max(1, handler.maxQueue ?? 1000);
    this.stats = { name: handler.name, sent: 0, failed: 0, retries: 0, dropped: 0, queued: 0 };
    if (handler.start) {
      const context: HandlerContext = {
        name: handler.name,
        signal: this.#closing.signal,
        fail: (error) => {
          if (!this.#closing.signal.aborted) this.#failed(1, error);
        },
      };
      try {
        handler.start(context);
      } catch (error) {
        this.#failed(1, error);
      }
    }
  }

  enqueue(notification: AlertNotification): void {
    if (this.#closing.signal.aborted) {
      this.stats.dropped++;
      this.#events.result(this.handler.name, "dropped");
      return;
    }
    if (this.handler.sendResolved === false) {
      // Alertmanager's send_resolved: false strips resolved alerts; nothing left, nothing to send.
      if (notification.status === "resolved") return;
      if (notification.alerts.some((a) => a.status === "resolved")) {
        notification = { ...notification, alerts: notification.alerts.filter((a) => a.status === "firing") };
      }
    }
    if (this.#queue.length >= this.#maxQueue) {
      this.#queue.shift();
      this.stats.dropped++;
      this.#events.result(this.handler.name, "dropped");
    }
    this.#queue.push(notification);
    this.stats.queued = this.#queue.length;
    this.#running ??= this.#drain();
  }

  /** Resolves when the queue is empty (or `timeoutMs` passed: then the rest is abandoned and counted as dropped). */
  async close(timeoutMs: number): Promise<void> {
    if (this.#running) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      });
      await Promise.race([this.#running, late]);
      clearTimeout(timer);
    }
    this.#closing.abort(new Error("alert manager closed"));
    const left = this.#queue.splice(0);
    this.stats.dropped += left.length;
    this.stats.queued = 0;
    await this.#running;
    await this.handler.close?.();
  }

  async #drain(): Promise<void> {
    // Start on a fresh tick so enqueue() (called from a metric tap, inside a step) returns at once.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.stats.queued = this.#queue.length;
      await this.#deliver(next);
    }
    this.#running = undefined;
  }

  async #deliver(notification: AlertNotification): Promise<void> {
    const name = this.handler.name;
    let lastError: unknown;
    const attempts = this.#retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.#closing.signal.aborted && attempt > 1) break;
      try {
        await this.#attempt(notification, attempt);
        this.stats.sent++;
        this.stats.lastSentAt = Date.now();
        this.#events.result(name, "sent");
        return;
      } catch (error) {
        lastError = error;
        this.stats.lastError = redactSecrets(error instanceof Error ? error.message : String(error));
        // A receiver that rejects the request itself (HTTP 400, bad config) will not accept it on a retry.
        if ((error as { retryable?: unknown } | null)?.retryable === false) break;
        if (attempt < attempts && !this.#closing.signal.aborted) {
          this.stats.retries++;
          this.#events.result(name, "retried");
          const base = Math.min(30_000, this.#backoffMs * 2 ** (attempt - 1));
          await sleep(base / 2 + Math.random() * (base / 2), this.#closing.signal);
        }
      }
    }
    this.#failed(attempts, lastError);
  }

  /** Counts and reports a delivery given up (after `attempts`), whether from the queue or background work. */
  #failed(attempts: number, cause: unknown): void {
    this.stats.failed++;
    this.stats.lastError = redactSecrets(cause instanceof Error ? cause.message : String(cause));
    const error = handlerGaveUp(this.handler.name, attempts, cause);
    this.#events.result(this.handler.name, "failed", error);
  }

  #attempt(notification: AlertNotification, attempt: number): Promise<void> {
    const controller = new AbortController();
    const onClose = () => controller.abort(this.#closing.signal.reason);
    this.#closing.signal.addEventListener("abort", onClose, { once: true });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const reason = new AlertHandlerTimeoutError({
          handler: this.handler.name,
          timeoutMs: this.#timeoutMs,
        });
        controller.abort(reason);
        reject(reason); // abandon a send that ignores its signal: the queue moves on
      }, this.#timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#closing.signal.removeEventListener("abort", onClose);
      };
      controller.signal.addEventListener(
        "abort",
        () => {
          done();
          reject(controller.signal.reason);
        },
        { once: true },
      );
      let result: unknown;
      try {
        result = this.handler.send(notification, { signal: controller.signal, attempt });
      } catch (error) {
        done();
        reject(error);
        return;
      }
      Promise.resolve(result).then(
        () => {
          done();
          resolve();
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
