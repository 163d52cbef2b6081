import { createHash } from "node:crypto";
import { type OptionIssue, redactSecrets } from "@tapline/core";
import { checkOptions, OptionsError } from "@tapline/core/kit";
import { Redis, type RedisOptions } from "ioredis";
import * as v from "valibot";
import { type Duration, parseDuration } from "./duration.ts";
import { LimitStoreError } from "./errors.ts";
import { ACQUIRE, PAUSE, RELEASE, RENEW, TAKE } from "./internal/redis-scripts.ts";
import type {
  LimitStore,
  LimitStoreStatus,
  RateWindowSpec,
  StoreRateWindows,
  StoreSemaphore,
} from "./store.ts";

// `@tapline/plugin-limits/redis`: the limit store on Redis (ioredis), for limits shared by worker processes
// on any machine. A subpath of its own, so users without Redis never load ioredis.

export { LimitStoreError } from "./errors.ts";
export type { LimitStoreStatus } from "./store.ts";

/** Options of {@link redisLimitStore}. Give `url` or `connection`. */
export interface RedisLimitStoreOptions {
  /** A `redis://` or `rediss://` URL, e.g. `redis://:password@127.0.0.1:6379/0`. */
  url?: string;
  /**
   * An ioredis client (the store sends its commands on it, leaves it open on `close()`, and subscribes on a
   * `duplicate()` of it), or ioredis options for the store's own connections.
   */
  connection?: Redis | RedisOptions;
  /** Prefix of every key and channel the store uses; processes that share limits use the same. Default `"tapline:limits:"`. */
  prefix?: string;
  /**
   * How long a concurrency slot outlives its process: each process renews its slots every third of it, so a
   * process that dies (or cannot reach Redis) for this long has its slots freed for the others. Default 10 s.
   */
  leaseTtl?: Duration;
  /** Called when Redis goes away and when it is back. */
  onStatusChange?: (status: LimitStoreStatus) => void;
}

/** A limit store on Redis, from {@link redisLimitStore}. */
export interface RedisLimitStore extends LimitStore {
  /** Whether Redis answers now, and why not (the password of `url` redacted). */
  readonly status: LimitStoreStatus;
  /**
   * Gives back the slots this process still holds, stops renewing and closes the store's own connections
   * (not a `connection` client you passed). The limiter's `close()` (the plugin's, on `app.close()`) calls it.
   */
  close(): Promise<void>;
}

/** A command that has not answered in this long fails its unit (Redis counts as away). */
const COMMAND_TIMEOUT_MS = 2000;

const Schema: v.GenericSchema<RedisLimitStoreOptions> = v.strictObject({
  url: v.optional(v.string()),
  connection: v.optional(
    v.custom<Redis | RedisOptions>(
      (x) => typeof x === "object" && x !== null,
      "must be an ioredis client or ioredis options",
    ),
  ),
  prefix: v.optional(v.pipe(v.string(), v.minLength(1, "must be a non-empty string"))),
  leaseTtl: v.optional(
    v.custom<Duration>(
      (x) => (parseDuration(x) ?? 0) >= 100,
      'must be a duration of at least 100 ms: ms or text such as "10s", "1m"',
    ),
  ),
  onStatusChange: v.optional(
    v.custom<(s: LimitStoreStatus) => void>(
      (x) => typeof x === "function",
      "must be a function (status) => void",
    ),
  ),
});

/**
 * A limit store on Redis: every process using it with the same `prefix` shares each key's rate windows
 * (a sliding log per window, spent by one Lua script, so "never more than `limit` in any `per`" holds across
 * processes), its concurrency slots (leases that expire `leaseTtl` after their process stops renewing them)
 * and its 429 pauses. Windows, leases and pauses run on Redis's clock. While Redis is away, units of its keys
 * fail with `LimitStoreError` (`TAPLINE_ERR_LIMITS_STORE`, naming the key) instead of running unlimited, and
 * `status` says why. A malformed `url` throws an `OptionsError` naming the option (its password redacted).
 *
 * @example
 * import { limits } from "@tapline/plugin-limits";
 * import { redisLimitStore } from "@tapline/plugin-limits/redis";
 * limits({ keys: { gpu: { concurrency: 2 } }, store: redisLimitStore({ url: "redis://127.0.0.1:6379" }) });
 */
export function redisLimitStore(options: RedisLimitStoreOptions): RedisLimitStore {
  const result = checkOptions(Schema, options);
  const issues: OptionIssue[] = result.issues ? [...result.issues] : [];
  const o = result.value ?? {};
  let secret: string | undefined;
  if (!result.issues) {
    if ((o.url === undefined) === (o.connection === undefined))
      issues.push({
        path: o.url === undefined ? "url" : "connection",
        message:
          o.url === undefined
            ? 'give "url" (redis://host:port) or "connection" (an ioredis client or options)'
            : 'give "url" or "connection", not both',
      });
    else if (o.url !== undefined) {
      secret = passwordOf(o.url);
      const problem = checkUrl(o.url);
      if (problem)
        issues.push({
          path: "url",
          message: `${problem}, like redis://127.0.0.1:6379 (got "${hide(o.url, secret)}")`,
          value: hide(o.url, secret),
        });
    }
  }
  if (issues.length) throw new OptionsError("redisLimitStore()", issues);
  return new RedisStore(o, secret);
}

function checkUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "must be a redis:// or rediss:// URL";
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    return `must be a redis:// or rediss:// URL, not ${u.protocol}//`;
  if (!u.hostname) return "must name a host";
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname))
    return "must have a database number as its path (/0)";
  return undefined;
}

function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return /\/\/[^/@\s]*:([^/@\s]+)@/.exec(url)?.[1];
  }
}

function hide(text: string, secret: string | undefined): string {
  const out = redactSecrets(text);
  return secret ? out.split(secret).join("[REDACTED]") : out;
}

const sha = (script: string) => createHash("sha1").update(script).digest("hex");
const SHAS = new Map([TAKE, PAUSE, ACQUIRE, RENEW, RELEASE].map((s) => [s, sha(s)]));

let stores = 0;

class RedisStore implements RedisLimitStore {
  readonly #options: RedisLimitStoreOptions;
  readonly #secret: string | undefined;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #id =
    `${process.pid.toString(36)}.${Math.random().toString(36).slice(2, 8)}.${(++stores).toString(36)}`;
  #seq = 0;
  #cmd: Redis | undefined;
  #sub: Redis | undefined;
  #ownsCmd = false;
  #unlisten: () => void = () => {};
  #everReady = false;
  /** A connection attempt has failed: commands fail at once until one succeeds. */
  #tried = false;
  #available = false;
  #reason = "connecting to Redis";
  #told = false;
  #closed = false;
  #renewTimer: NodeJS.Timeout | undefined;
  readonly #semaphores = new Map<string, RedisSemaphore>();
  /** Semaphores by their release channel, for pub/sub. */
  readonly #channels = new Map<string, RedisSemaphore>();

  constructor(options: RedisLimitStoreOptions, secret: string | undefined) {
    this.#options = options;
    this.#secret = secret;
    this.#prefix = options.prefix ?? "tapline:limits:";
    this.#leaseMs = parseDuration(options.leaseTtl ?? 10_000)!;
    this.#connect();
  }

  get status(): LimitStoreStatus {
    return this.#available ? { available: true } : { available: false, reason: this.#reason };
  }

  semaphore(key: string): StoreSemaphore {
    const base = `${this.#prefix}{${key}}`;
    const sem = new RedisSemaphore(this, key, `${base}:slots`, `${base}:released`);
    this.#semaphores.set(key, sem);
    this.#channels.set(sem.channel, sem);
    return sem;
  }

  rateWindows(key: string, windows: readonly RateWindowSpec[]): StoreRateWindows {
    const base = `${this.#prefix}{${key}}`;
    const pauseKey = `${base}:pause`;
    // Windows are named by unit and length: processes declaring the same window share its log.
    const keys = [pauseKey];
    for (const w of windows)
      keys.push(`${base}:rate:${w.unit}:${w.perMs}`, `${base}:rate:${w.unit}:${w.perMs}:sum`);
    const specs = windows.map((w) => [String(w.perMs), String(w.limit)] as const);
    return {
      take: (amounts) => {
        const args = [this.nextId()];
        for (let i = 0; i < specs.length; i++) args.push(specs[i]![0], specs[i]![1], String(amounts[i]!));
        return this.eval(TAKE, keys, args).then(
          (r) => Number(r),
          (e: unknown) => Promise.reject(this.storeError(key, "rate", e)),
        );
      },
      pause: (until) => {
        const ms = Math.ceil(until - Date.now());
        if (ms <= 0) return;
        return this.eval(PAUSE, [pauseKey], [String(ms)]).then(() => {});
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
    // Slots still held (units cut off by close) go back now rather than after their lease.
    const gives: Promise<unknown>[] = [];
    for (const sem of this.#semaphores.values()) {
      sem.stop();
      const members = sem.takeAll();
      if (members.length && this.#available)
        gives.push(this.eval(RELEASE, [sem.slots], [sem.channel, ...members]).catch(() => {}));
    }
    await Promise.all(gives);
    const cmd = this.#cmd;
    const sub = this.#sub;
    this.#cmd = this.#sub = undefined;
    this.#unlisten();
    this.#setAvailable(false, "the store was closed");
    await Promise.all([sub && quit(sub), cmd && this.#ownsCmd && quit(cmd)]);
  }

  // ---- for the semaphores ---------------------------------------------------------------------------------

  get leaseMs(): number {
    return this.#leaseMs;
  }

  nextId(): string {
    return `${this.#id}.${(++this.#seq).toString(36)}`;
  }

  storeError(key: string, operation: "slot" | "rate", error: unknown): Error {
    const why = error instanceof Error ? error.message : String(error);
    return new LimitStoreError({ key, operation, reason: hide(why, this.#secret) });
  }

  /** A semaphore holds a lease: renew every third of the lease while any is held. */
  holding(): void {
    if (this.#renewTimer || this.#closed) return;
    this.#renewTimer = setInterval(() => this.#renew(), Math.max(30, Math.floor(this.#leaseMs / 3)));
    this.#renewTimer.unref();
  }

  /** A semaphore listens for releases: subscribe to its channel. */
  listen(sem: RedisSemaphore): void {
    const sub = this.#subscriber();
    if (sub?.status === "ready") sub.subscribe(sem.channel).catch(() => {});
  }

  #renew(): void {
    let any = false;
    for (const sem of this.#semaphores.values()) {
      const members = sem.members();
      if (members.length === 0) continue;
      any = true;
      this.eval(RENEW, [sem.slots], [String(this.#leaseMs), ...members]).then(
        (lost) => sem.lost(lost as string[]),
        () => {}, // Redis away: the status says so; the leases run out if it stays away.
      );
    }
    if (!any && this.#renewTimer) {
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
    }
  }

  // ---- connections ---------------------------------------------------------------------------------------

  #own(): RedisOptions {
    return {
      lazyConnect: true,
      // Commands go out only on a ready connection; while it is down they fail at once (the unit fails).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: true,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    };
  }

  #connect(): void {
    const given = this.#options.connection;
    if (isClient(given)) {
      this.#cmd = given;
      this.#ownsCmd = false;
    } else {
      const base = given ?? {};
      this.#cmd = this.#options.url
        ? new Redis(this.#options.url, { ...base, ...this.#own() })
        : new Redis({ ...base, ...this.#own() });
      this.#ownsCmd = true;
    }
    const cmd = this.#cmd;
    // Without an error listener ioredis would crash the process; the reason is kept for the status.
    const onError = (e: Error) => {
      if (this.#cmd !== cmd) return;
      this.#tried = true;
      this.#setAvailable(false, this.#describe(e));
    };
    const onClose = () => {
      if (this.#cmd !== cmd) return;
      this.#tried = true;
      this.#setAvailable(false, this.#describe(new Error("connection closed")));
    };
    const onReady = () => {
      if (this.#cmd !== cmd) return;
      this.#everReady = true;
      this.#setAvailable(true, undefined);
      // Releases other processes published while we were away were missed: let waiters try again.
      for (const sem of this.#semaphores.values()) sem.wake();
    };
    cmd.on("error", onError).on("close", onClose).on("ready", onReady);
    this.#unlisten = () => {
      cmd.off("error", onError).off("close", onClose).off("ready", onReady);
    };
    if (cmd.status === "wait") cmd.connect().catch((e: unknown) => onError(e as Error));
    else if (cmd.status === "ready") onReady();
  }

  #subscriber(): Redis | undefined {
    if (this.#sub || this.#closed || !this.#cmd) return this.#sub;
    const sub = this.#ownsCmd ? this.#cmd.duplicate() : this.#cmd.duplicate(this.#own());
    this.#sub = sub;
    sub.on("error", () => {}); // its state follows the command connection's, which the status reports
    sub.on("ready", () => {
      const channels = [...this.#channels.keys()];
      if (channels.length) sub.subscribe(...channels).catch(() => {});
      for (const sem of this.#semaphores.values()) sem.wake();
    });
    sub.on("message", (channel: string) => this.#channels.get(channel)?.wake());
    if (sub.status === "wait") sub.connect().catch(() => {});
    return sub;
  }

  #setAvailable(available: boolean, reason: string | undefined): void {
    const was = this.#available;
    this.#available = available;
    if (!available && reason) this.#reason = reason;
    if (was === available && this.#told) return;
    this.#told = true;
    // Redis went away: units waiting for a slot ask again now and fail with the reason, rather than wait for
    // a release or a lease expiry that no one will announce.
    if (was && !available) for (const sem of this.#semaphores.values()) sem.wake();
    try {
      this.#options.onStatusChange?.(this.status);
    } catch {
      // A status listener must not break the store.
    }
  }

  #describe(error: unknown): string {
    const what = this.#options.url
      ? `the Redis at option "url" (${hide(this.#options.url, this.#secret)})`
      : 'the Redis of option "connection"';
    const why = error instanceof Error ? error.message || error.name : String(error);
    return hide(`cannot reach ${what}: ${why}`, this.#secret);
  }

  // ---- commands ------------------------------------------------------------------------------------------

  /** Runs a script (by its SHA, loading it on NOSCRIPT), within COMMAND_TIMEOUT_MS. */
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const cmd = this.#cmd;
    if (this.#closed || !cmd) return Promise.reject(new Error("the store was closed"));
    if (cmd.status !== "ready") {
      if (this.#everReady || this.#tried) return Promise.reject(new Error(this.#reason));
      // Still connecting for the first time: wait for it (bounded), in call order.
      return this.#firstReady(cmd).then(() => this.eval(script, keys, args));
    }
    const hash = SHAS.get(script)!;
    const send = cmd.evalsha(hash, keys.length, ...keys, ...args).catch((e: unknown) => {
      if (!(e instanceof Error) || !e.message.startsWith("NOSCRIPT")) throw e;
      return cmd.eval(script, keys.length, ...keys, ...args);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis in ${COMMAND_TIMEOUT_MS} ms`)),
        COMMAND_TIMEOUT_MS,
      );
    });
    return Promise.race([send, timeout]).finally(() => clearTimeout(timer));
  }

  #waiting: Promise<void> | undefined;
  #firstReady(cmd: Redis): Promise<void> {
    this.#waiting ??= new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        cmd.off("ready", done).off("error", done);
        this.#waiting = undefined;
        if (cmd.status === "ready") resolve();
        else reject(new Error(this.#reason));
      };
      const timer = setTimeout(done, COMMAND_TIMEOUT_MS);
      cmd.on("ready", done);
      cmd.once("error", done);
    });
    return this.#waiting;
  }
}

/**
 * The concurrency slots of one key: leases in a sorted set (score = expiry), held by this process under
 * unique members, renewed by the store, given back on release (and announced over pub/sub).
 */
class RedisSemaphore implements StoreSemaphore {
  readonly #store: RedisStore;
  readonly #key: string;
  readonly slots: string;
  readonly channel: string;
  /** Members this process holds, by weight (a release gives back any lease of its weight). */
  readonly #held = new Map<number, string[]>();
  readonly #listeners = new Set<() => void>();
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = 0;

  constructor(store: RedisStore, key: string, slots: string, channel: string) {
    this.#store = store;
    this.#key = key;
    this.slots = slots;
    this.channel = channel;
  }

  tryAcquire(weight: number, capacity: number): Promise<boolean> {
    const member = `${weight}:${this.#store.nextId()}`;
    return this.#store
      .eval(ACQUIRE, [this.slots], [String(weight), String(capacity), String(this.#store.leaseMs), member])
      .then(
        (r) => {
          const [ok, next] = r as [number, number];
          if (ok === 1) {
            const list = this.#held.get(weight);
            if (list) list.push(member);
            else this.#held.set(weight, [member]);
            this.#store.holding();
            return true;
          }
          // A lease of a dead process frees its slot without a release message: try again when it expires.
          if (next > 0) this.#wakeIn(next + 5);
          return false;
        },
        (e: unknown) => Promise.reject(this.#store.storeError(this.#key, "slot", e)),
      );
  }

  release(weight: number): Promise<void> | undefined {
    const member = this.#held.get(weight)?.pop();
    if (member === undefined) return undefined;
    // Sent at once, so an acquire this process sends next runs after it on the same connection.
    return this.#store.eval(RELEASE, [this.slots], [this.channel, member]).then(() => {});
  }

  onRelease(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#store.listen(this);
    return () => this.#listeners.delete(listener);
  }

  /** Lets local waiters try again (a release elsewhere, a lease expiring, a reconnection). */
  wake(): void {
    for (const l of [...this.#listeners]) l();
  }

  members(): string[] {
    return [...this.#held.values()].flat();
  }

  /** Forgets leases that expired while this process could not renew them (their slots went to others). */
  lost(members: readonly string[]): void {
    for (const m of members) {
      const weight = Number(m.slice(0, m.indexOf(":")));
      const list = this.#held.get(weight);
      const i = list?.indexOf(m) ?? -1;
      if (i >= 0) list!.splice(i, 1);
    }
  }

  takeAll(): string[] {
    const all = this.members();
    this.#held.clear();
    return all;
  }

  stop(): void {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#listeners.clear();
  }

  #wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.#wakeTimer && this.#wakeAt <= at) return;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.wake();
    }, ms);
    this.#wakeTimer.unref();
  }
}

/** An ioredis client (duck-typed: another copy of ioredis makes `instanceof` fail). */
function isClient(x: unknown): x is Redis {
  return (
    typeof (x as Redis | undefined)?.duplicate === "function" && typeof (x as Redis).evalsha === "function"
  );
}

async function quit(c: Redis): Promise<void> {
  try {
    if (c.status === "ready") await c.quit();
    else c.disconnect();
  } catch {
    c.disconnect();
  }
}
