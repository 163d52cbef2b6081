import { type OptionIssue, redactSecrets } from "@tapline/core";
import { checkOptions } from "@tapline/core/kit";
import { Redis, type RedisOptions } from "ioredis";
import * as v from "valibot";
import { RetryConfigError } from "./errors.ts";
import { CLAIM, CLOSE, OPEN, PROBE_DONE } from "./internal/redis-scripts.ts";
import type {
  BreakerStore,
  BreakerStoreChannel,
  BreakerStoreListener,
  ProbeClaim,
  SharedBreakerState,
} from "./store.ts";

// `@tapline/plugin-retry/redis`: the breaker store on Redis (ioredis), for breakers shared by processes on any
// machine. A subpath of its own, so users without Redis never load ioredis.

/** Options of {@link redisBreakerStore}. Give `connection` or `url`. */
export interface RedisBreakerStoreOptions {
  /**
   * An ioredis client (the store sends its commands on it, leaves it open on `close()`, and subscribes on a
   * `duplicate()` of it), or ioredis options for the store's own connections.
   */
  connection?: Redis | RedisOptions;
  /** A `redis://` or `rediss://` URL, e.g. `redis://:password@127.0.0.1:6379/0`. */
  url?: string;
  /** Prefix of every key and channel the store uses. Default `"tapline:breaker:"`. */
  prefix?: string;
  /** Called when Redis goes away (breakers fall back to local state) and when it is back (they re-sync). */
  onStatusChange?: (status: RedisBreakerStoreStatus) => void;
}

/** Whether the store reaches Redis; `reason` says why not (secrets redacted). */
export interface RedisBreakerStoreStatus {
  readonly available: boolean;
  readonly reason?: string;
}

/** A breaker store on Redis, from {@link redisBreakerStore}. */
export interface RedisBreakerStore extends BreakerStore {
  /** Whether Redis answers now, and why not. */
  readonly status: RedisBreakerStoreStatus;
  /**
   * Closes the store's own connections (not a `connection` client you passed). Breakers on it keep working
   * on local state. The plugin detaches its breakers on `app.close()`, and the store disconnects when no
   * breaker uses it any more; call `close()` for standalone breakers.
   */
  close(): Promise<void>;
}

/** A store command that has not answered in this long counts as Redis being away (the breaker decides locally). */
const COMMAND_TIMEOUT_MS = 1000;

const Schema: v.GenericSchema<RedisBreakerStoreOptions> = v.pipe(
  v.strictObject({
    connection: v.optional(
      v.custom<Redis | RedisOptions>(
        (x) => typeof x === "object" && x !== null,
        "must be an ioredis client or ioredis options",
      ),
    ),
    url: v.optional(v.string()),
    prefix: v.optional(v.pipe(v.string(), v.minLength(1, "must be a non-empty string"))),
    onStatusChange: v.optional(
      v.custom<(s: RedisBreakerStoreStatus) => void>(
        (x) => typeof x === "function",
        "must be a function (status) => void",
      ),
    ),
  }),
);

/**
 * A breaker store on Redis: breakers of the same name in every process using it share their openings
 * (pushed over pub/sub, applied within milliseconds), their half-open probes (counted by a Lua script) and
 * 429 pauses. A closed breaker's check never sends a command. When Redis goes away, breakers decide on their
 * local state (the status says why) and re-sync when it is back. A malformed `url` throws a
 * `RetryConfigError` naming the option (its password redacted); an unreachable one is reported by `status`.
 *
 * @example
 * import { redisBreakerStore } from "@tapline/plugin-retry/redis";
 * const store = redisBreakerStore({ url: process.env.REDIS_URL });
 * retry({ breakers: { tts: { store, trip: { kind: "consecutive", threshold: 5 } } } });
 */
export function redisBreakerStore(options: RedisBreakerStoreOptions): RedisBreakerStore {
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
      const problem = checkUrl(o.url);
      secret = passwordOf(o.url);
      if (problem)
        issues.push({
          path: "url",
          message: `${problem}, like redis://127.0.0.1:6379 (got "${hide(o.url, secret)}")`,
          value: hide(o.url, secret),
        });
    }
  }
  if (issues.length) throw new RetryConfigError({ subject: "redisBreakerStore()", issues });
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
    const p = decodeURIComponent(new URL(url).password);
    return p || undefined;
  } catch {
    return /\/\/[^/@\s]*:([^/@\s]+)@/.exec(url)?.[1];
  }
}

/** A text without the URL's password (and every other secret core's redactor knows). */
function hide(text: string, secret: string | undefined): string {
  const out = redactSecrets(text);
  return secret ? out.split(secret).join("[REDACTED]") : out;
}

interface Attached {
  readonly origin: string;
  readonly listener: BreakerStoreListener;
}

let stores = 0;

class RedisStore implements RedisBreakerStore {
  readonly kind = "redis";
  #options: RedisBreakerStoreOptions;
  #secret: string | undefined;
  #prefix: string;
  #cmd: Redis | undefined;
  #sub: Redis | undefined;
  #ownsCmd = false;
  #groups = new Map<string, Set<Attached>>();
  #subscribed = new Set<string>();
  #available = false;
  #reason: string | undefined = "not connected yet";
  #id = `${process.pid.toString(36)}.${Math.random().toString(36).slice(2, 8)}.${(++stores).toString(36)}`;
  #attachments = 0;
  #told = false;
  #unlisten: () => void = () => {};

  constructor(options: RedisBreakerStoreOptions, secret: string | undefined) {
    this.#options = options;
    this.#secret = secret;
    this.#prefix = options.prefix ?? "tapline:breaker:";
  }

  get status(): RedisBreakerStoreStatus {
    return this.#available ? { available: true } : { available: false, reason: this.#reason ?? "unknown" };
  }

  attach(group: string, listener: BreakerStoreListener): BreakerStoreChannel {
    const origin = `${this.#id}.${(++this.#attachments).toString(36)}`;
    const me: Attached = { origin, listener };
    let set = this.#groups.get(group);
    if (!set) {
      set = new Set();
      this.#groups.set(group, set);
    }
    set.add(me);
    this.#connect();
    this.#subscribe(group);
    const states = `${this.#prefix}{${group}}`;
    const channel = states;
    const probe = (key: string) => `${states}:probe:${key}`;
    const message = (key: string, state: SharedBreakerState | undefined) =>
      JSON.stringify({ o: origin, k: key, s: state ?? null });
    const store = this;
    return {
      // A group hears others only once subscribed: until then it decides locally.
      get available() {
        return store.#available && store.#subscribed.has(group);
      },
      async open(key, state) {
        await store.#eval(
          OPEN,
          [states, probe(key)],
          [key, JSON.stringify(state), state.episode, message(key, state), channel],
        );
      },
      async close(key) {
        await store.#eval(CLOSE, [states, probe(key)], [key, message(key, undefined), channel]);
      },
      async claimProbe(key, now, probes, probeTimeout): Promise<ProbeClaim> {
        const [kind, payload] = (await store.#eval(
          CLAIM,
          [states, probe(key)],
          [key, String(now), String(probes), String(probeTimeout)],
        )) as [string, string];
        if (kind === "probe") return { kind, episode: payload };
        if (kind === "open") return { kind, state: JSON.parse(payload) as SharedBreakerState };
        return kind === "busy" ? { kind } : { kind: "closed" };
      },
      async probeDone(key, episode, outcome, successThreshold) {
        const closed = await store.#eval(
          PROBE_DONE,
          [states, probe(key)],
          [key, episode, outcome, String(successThreshold), message(key, undefined), channel],
        );
        return closed === 1;
      },
      async states() {
        const all = (await store.#call((c) => c.hgetall(states))) as Record<string, string>;
        return new Map(Object.entries(all).map(([k, json]) => [k, JSON.parse(json) as SharedBreakerState]));
      },
      detach() {
        set.delete(me);
        if (set.size === 0) store.#groups.delete(group);
        if (store.#groups.size === 0) void store.close();
      },
    };
  }

  async close(): Promise<void> {
    const cmd = this.#cmd;
    const sub = this.#sub;
    this.#cmd = this.#sub = undefined;
    this.#subscribed.clear();
    if (cmd && !this.#ownsCmd) this.#unlisten();
    this.#setAvailable(false, "the store was closed");
    await Promise.all([sub && quit(sub), cmd && this.#ownsCmd && quit(cmd)]);
  }

  // ---- connections ---------------------------------------------------------------------------------------

  #connect(): void {
    if (this.#cmd) return;
    const own: RedisOptions = {
      lazyConnect: true,
      // Commands are only sent on a ready connection; one that drops fails at once (the breaker decides locally).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    };
    const given = this.#options.connection;
    if (isClient(given)) {
      this.#cmd = given;
      this.#ownsCmd = false;
      this.#sub = given.duplicate(own);
    } else {
      const base = given ?? {};
      this.#cmd = this.#options.url
        ? new Redis(this.#options.url, { ...base, ...own })
        : new Redis({ ...base, ...own });
      this.#ownsCmd = true;
      this.#sub = this.#cmd.duplicate();
    }
    const cmd = this.#cmd;
    const sub = this.#sub;
    // Without an error listener ioredis would crash the process; the reason is kept for the status.
    const onError = (e: Error) => {
      if (this.#cmd === cmd) this.#setAvailable(false, this.#describe(e));
    };
    const onClose = () => {
      if (this.#cmd === cmd) this.#setAvailable(false, this.#describe(new Error("connection closed")));
    };
    const onReady = () => this.#readyCheck();
    for (const c of [cmd, sub]) c.on("error", onError).on("close", onClose).on("ready", onReady);
    // A client you passed in outlives the store: take our listeners off it on close().
    this.#unlisten = () => {
      cmd.off("error", onError).off("close", onClose).off("ready", onReady);
    };
    sub.on("message", (channel: string, raw: string) => this.#deliver(channel, raw));
    const start = (c: Redis) => {
      if (c.status === "wait")
        c.connect().catch((e: unknown) => this.#setAvailable(false, this.#describe(e)));
    };
    start(cmd);
    start(sub);
    this.#readyCheck();
  }

  #readyCheck(): void {
    const cmd = this.#cmd;
    const sub = this.#sub;
    if (!cmd || !sub || cmd.status !== "ready" || sub.status !== "ready") return;
    // A reconnected subscriber has lost its subscriptions: subscribe again, then re-sync (via availability).
    this.#subscribed.clear();
    const groups = [...this.#groups.keys()];
    if (groups.length === 0) {
      this.#setAvailable(true, undefined);
      return;
    }
    sub
      .subscribe(...groups.map((g) => `${this.#prefix}{${g}}`))
      .then(() => {
        for (const g of groups) this.#subscribed.add(g);
        if (this.#cmd === cmd && cmd.status === "ready") this.#setAvailable(true, undefined);
      })
      .catch((e: unknown) => this.#setAvailable(false, this.#describe(e)));
  }

  #subscribe(group: string): void {
    const sub = this.#sub;
    if (sub?.status !== "ready" || this.#subscribed.has(group)) return;
    sub
      .subscribe(`${this.#prefix}{${group}}`)
      .then(() => {
        this.#subscribed.add(group);
        // The new group re-syncs like the others did on connection.
        if (this.#available)
          for (const a of this.#groups.get(group) ?? []) a.listener.availability(true, undefined);
        else this.#readyCheck();
      })
      .catch((e: unknown) => this.#setAvailable(false, this.#describe(e)));
  }

  #deliver(channel: string, raw: string): void {
    const group = channel.slice(this.#prefix.length + 1, -1);
    const set = this.#groups.get(group);
    if (!set) return;
    let msg: { o: string; k: string; s: SharedBreakerState | null };
    try {
      msg = JSON.parse(raw);
    } catch {
      return; // not ours
    }
    for (const a of set) if (a.origin !== msg.o) a.listener.changed(msg.k, msg.s ?? undefined);
  }

  #setAvailable(available: boolean, reason: string | undefined): void {
    const was = this.#available;
    this.#available = available;
    if (!available) this.#reason = reason;
    // The first word (connected, or the first connection failed) is news; then only changes are.
    if (was === available && this.#told) return;
    this.#told = true;
    for (const set of [...this.#groups.values()])
      for (const a of [...set]) a.listener.availability(available, available ? undefined : reason);
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
    const why = error instanceof Error ? error.message : String(error);
    return hide(
      `cannot reach ${what}: ${why}; breakers use their local state until it is back`,
      this.#secret,
    );
  }

  // ---- commands ------------------------------------------------------------------------------------------

  #eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.#call((c) => c.eval(script, keys.length, ...keys, ...args));
  }

  #call<T>(send: (c: Redis) => Promise<T>): Promise<T> {
    const cmd = this.#cmd;
    if (!cmd || !this.#available || cmd.status !== "ready")
      return Promise.reject(new Error(this.#reason ?? "Redis is not connected"));
    // A client passed in may queue commands while offline: bound the wait either way.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis in ${COMMAND_TIMEOUT_MS} ms`)),
        COMMAND_TIMEOUT_MS,
      );
    });
    return Promise.race([send(cmd), timeout]).finally(() => clearTimeout(timer));
  }
}

/** An ioredis client (duck-typed: another copy of ioredis makes `instanceof` fail). */
function isClient(x: unknown): x is Redis {
  return typeof (x as Redis | undefined)?.duplicate === "function" && typeof (x as Redis).eval === "function";
}

async function quit(c: Redis): Promise<void> {
  try {
    if (c.status === "ready") await c.quit();
    else c.disconnect();
  } catch {
    c.disconnect();
  }
}
