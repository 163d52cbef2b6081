import { redactSecrets } from "@tapline/core";
import { Redis, type RedisOptions } from "ioredis";
import { QueueConnectionError } from "./errors.ts";

/** How to reach Redis: a `redis://` (or `rediss://`) URL, ioredis options, or an ioredis client. */
export type Connection = string | RedisOptions | Redis;

/** @internal A connection made from the option, checked with a PING, and whether we own (and close) it. */
export interface Opened {
  readonly redis: Redis;
  readonly own: boolean;
  /** The URL for messages, password redacted. */
  readonly url: string;
  /** A new client to the same server (BullMQ's blocking connections, a subscriber). */
  duplicate(): Redis;
}

/**
 * @internal Opens the connection and checks it answers within `timeoutMs`: a bad URL or a Redis that is
 * not there is a clear error at start, never a worker retrying silently forever.
 */
export async function openConnection(connection: Connection, timeoutMs = 5000): Promise<Opened> {
  if (connection instanceof Redis) {
    return {
      redis: connection,
      own: false,
      url: describe(connection.options),
      duplicate: () => connection.duplicate(),
    };
  }
  let options: RedisOptions;
  let url: string;
  if (typeof connection === "string") {
    url = redactSecrets(connection);
    let parsed: URL;
    try {
      parsed = new URL(connection);
    } catch {
      throw new QueueConnectionError({ url, why: 'not a URL (expected "redis://host:port")' });
    }
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
      throw new QueueConnectionError({
        url,
        why: `the scheme "${parsed.protocol}" is not redis: or rediss:`,
      });
    options = { ...urlOptions(parsed) };
  } else {
    options = connection;
    url = describe(options);
  }
  // BullMQ's workers need maxRetriesPerRequest: null (blocking commands); ioredis reconnects by itself.
  const base: RedisOptions = {
    maxRetriesPerRequest: null,
    connectTimeout: timeoutMs,
    lazyConnect: true,
    ...options,
  };
  const redis = new Redis(base);
  const errors: Error[] = [];
  const onError = (e: Error) => errors.push(e);
  redis.on("error", onError);
  try {
    await withTimeout(redis.connect(), timeoutMs);
    await withTimeout(redis.ping(), timeoutMs);
  } catch (error) {
    redis.disconnect();
    const why = (errors[0] ?? (error as Error)).message;
    throw new QueueConnectionError({ url, why: `no answer (${redactSecrets(why)})` }, { cause: error });
  } finally {
    redis.off("error", onError);
  }
  return { redis, own: true, url, duplicate: () => new Redis({ ...base, lazyConnect: false }) };
}

function urlOptions(u: URL): RedisOptions {
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.pathname.length > 1 && { db: Number(u.pathname.slice(1)) }),
    ...(u.protocol === "rediss:" && { tls: {} }),
  };
}

function describe(o: RedisOptions): string {
  return `redis://${o.host ?? "127.0.0.1"}:${o.port ?? 6379}${o.db ? `/${o.db}` : ""}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
