import { redactSecrets } from "@tapline/core";
import type { Redis, RedisOptions } from "ioredis";
import { DurableStoreError } from "./errors.ts";
import type { DurableStore, RunPatch, RunQuery, RunRow, UnitRow } from "./store.ts";

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * The Redis to keep runs in: an ioredis client (shared with BullMQ, not closed by the store), or a
   * `redis://` URL (the store opens and closes its own client).
   */
  connection: Redis | string;
  /** Key prefix, so several apps share one Redis. Default `"tapline:durable"`. */
  prefix?: string;
  /** Extra ioredis options for a URL connection. */
  redisOptions?: RedisOptions;
}

// Lease changes are compare-and-set in Lua: atomic on the Redis server, whichever worker asks.
const ACQUIRE = `
local holder = redis.call('HGET', KEYS[1], 'leaseHolder')
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0')
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, '', 0} end
if (not holder) or holder == '' or untilMs < tonumber(ARGV[3]) or holder == ARGV[1] then
  redis.call('HSET', KEYS[1], 'leaseHolder', ARGV[1], 'leaseUntil', ARGV[2])
  return {1, ARGV[1], tonumber(ARGV[2])}
end
return {0, holder, untilMs}`;
const RENEW = `
if redis.call('HGET', KEYS[1], 'leaseHolder') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[2]) return 1 end
return 0`;
const RELEASE = `
if redis.call('HGET', KEYS[1], 'leaseHolder') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'leaseHolder', 'leaseUntil') return 1 end
return 0`;

/**
 * A durable store in Redis, for many workers: any worker can resume any run (BullMQ retries a job on another
 * machine, which replays what the first one saved). Same interface as `sqliteStore()`; leases are atomic
 * (Lua). Durability is Redis's: with `appendonly yes` and `appendfsync everysec` (Redis' defaults for AOF),
 * at most about a second of saves is lost when the Redis host loses power.
 *
 * @example
 * import { Redis } from "ioredis";
 * const connection = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
 * createTapline({ plugins: [durable({ store: redisStore({ connection }) })] });
 */
export async function redisStore(options: RedisStoreOptions): Promise<DurableStore> {
  const prefix = options.prefix ?? "tapline:durable";
  const own = typeof options.connection === "string";
  let redis: Redis;
  const location = own ? redactSecrets(options.connection as string) : `redis ${prefix}`;
  if (own) {
    const { Redis } = await import("ioredis");
    try {
      redis = new Redis(options.connection as string, {
        lazyConnect: true,
        maxRetriesPerRequest: 3,
        ...options.redisOptions,
      });
    } catch (error) {
      throw new DurableStoreError(
        { file: location, why: `a bad Redis URL: ${(error as Error).message}` },
        { cause: error },
      );
    }
    redis.on("error", () => {}); // reported through the failing calls, which name the store
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new DurableStoreError(
        {
          file: location,
          why: `cannot connect (${(error as Error).message}): check the URL and that Redis runs`,
        },
        { cause: error },
      );
    }
  } else redis = options.connection as Redis;

  const runKey = (id: string) => `${prefix}:run:${id}`;
  const unitsKey = (id: string) => `${prefix}:units:${id}`;
  const index = `${prefix}:runs`;
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw new DurableStoreError(
        { file: location, why: `${what} failed: ${(error as Error).message}` },
        { cause: error },
      );
    }
  };
  const get = async (id: string): Promise<RunRow | undefined> => {
    const h = await redis.hgetall(runKey(id));
    return h.runId ? runOf(h) : undefined;
  };

  return {
    location,
    createRun: (row) =>
      guard("saving the run", async () => {
        await redis
          .multi()
          .del(runKey(row.runId), unitsKey(row.runId))
          .hset(runKey(row.runId), fieldsOf(row))
          .zadd(index, row.updatedAt, row.runId)
          .exec();
      }),
    getRun: (id) => guard("reading the run", () => get(id)),
    updateRun: (id, patch: RunPatch) =>
      guard("updating the run", async () => {
        const updatedAt = patch.updatedAt ?? Date.now();
        const fields: Record<string, string> = { updatedAt: String(updatedAt) };
        if (patch.status !== undefined) fields.status = patch.status;
        if (patch.suspended !== undefined) fields.suspended = patch.suspended;
        if (patch.error !== undefined) fields.error = patch.error;
        if (patch.cost !== undefined) fields.cost = JSON.stringify(patch.cost);
        if (patch.tree !== undefined) fields.tree = patch.tree;
        if (patch.resumes !== undefined) fields.resumes = String(patch.resumes);
        const m = redis.multi().hset(runKey(id), fields).zadd(index, updatedAt, id);
        if (patch.suspended === undefined && patch.clearSuspended) m.hdel(runKey(id), "suspended");
        await m.exec();
      }),
    listRuns: (query: RunQuery = {}) =>
      guard("listing runs", async () => {
        const limit = query.limit ?? 100;
        const out: RunRow[] = [];
        for (let start = 0; out.length < limit; start += 500) {
          const ids = await redis.zrevrange(index, start, start + 499);
          if (ids.length === 0) break;
          const p = redis.pipeline();
          for (const id of ids) p.hgetall(runKey(id));
          for (const [, h] of (await p.exec()) ?? []) {
            const row = (h as Record<string, string>).runId ? runOf(h as Record<string, string>) : undefined;
            if (
              !row ||
              (query.status && row.status !== query.status) ||
              (query.pipeline && row.pipeline !== query.pipeline)
            )
              continue;
            out.push(row);
            if (out.length === limit) break;
          }
        }
        return out;
      }),
    acquireLease: (id, holder, until, now) =>
      guard("taking the run's lease", async () => {
        const [ok, who, at] = (await redis.eval(
          ACQUIRE,
          1,
          runKey(id),
          holder,
          String(until),
          String(now),
        )) as [number, string, number];
        return ok === 1
          ? { ok: true as const }
          : { ok: false as const, holder: who || "unknown", until: Number(at) };
      }),
    renewLeases: (ids, holder, until) =>
      guard("renewing leases", async () => {
        const p = redis.pipeline();
        for (const id of ids) p.eval(RENEW, 1, runKey(id), holder, String(until));
        await p.exec();
      }),
    releaseLease: (id, holder) =>
      guard("releasing the run's lease", async () => {
        await redis.eval(RELEASE, 1, runKey(id), holder);
      }),
    getUnit: (id, path) =>
      guard("reading a saved unit", async () => {
        const text = await redis.hget(unitsKey(id), path);
        return text ? (JSON.parse(text) as UnitRow) : undefined;
      }),
    putUnit: (row: UnitRow) =>
      guard(`saving unit "${row.path}"`, async () => {
        await redis.hset(unitsKey(row.runId), row.path, JSON.stringify(row));
      }),
    listUnits: (id) =>
      guard("listing saved units", async () => {
        const all = await redis.hvals(unitsKey(id));
        return all.map((t) => JSON.parse(t) as UnitRow).sort((a, b) => a.savedAt - b.savedAt);
      }),
    prune: (before, now) =>
      guard("pruning", async () => {
        const ids = await redis.zrangebyscore(index, "-inf", `(${before}`);
        let n = 0;
        for (const id of ids) {
          const [holder, until] = await redis.hmget(runKey(id), "leaseHolder", "leaseUntil");
          if (holder && Number(until) >= now) continue;
          await redis.multi().del(runKey(id), unitsKey(id)).zrem(index, id).exec();
          n++;
        }
        return n;
      }),
    async close() {
      if (own) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function fieldsOf(row: RunRow): Record<string, string> {
  const f: Record<string, string> = {
    runId: row.runId,
    pipeline: row.pipeline,
    input: row.input,
    status: row.status,
    resumes: String(row.resumes),
    createdAt: String(row.createdAt),
    updatedAt: String(row.updatedAt),
  };
  if (row.labels) f.labels = JSON.stringify(row.labels);
  if (row.budget) f.budget = JSON.stringify(row.budget);
  if (row.suspended !== undefined) f.suspended = row.suspended;
  if (row.error !== undefined) f.error = row.error;
  if (row.cost) f.cost = JSON.stringify(row.cost);
  if (row.tree !== undefined) f.tree = row.tree;
  if (row.leaseHolder !== undefined) f.leaseHolder = row.leaseHolder;
  if (row.leaseUntil !== undefined) f.leaseUntil = String(row.leaseUntil);
  return f;
}

function runOf(h: Record<string, string>): RunRow {
  return {
    runId: h.runId!,
    pipeline: h.pipeline!,
    input: h.input!,
    ...(h.labels && { labels: JSON.parse(h.labels) }),
    ...(h.budget && { budget: JSON.parse(h.budget) }),
    status: h.status as RunRow["status"],
    ...(h.suspended !== undefined && { suspended: h.suspended }),
    ...(h.error !== undefined && { error: h.error }),
    ...(h.cost && { cost: JSON.parse(h.cost) }),
    ...(h.tree !== undefined && { tree: h.tree }),
    resumes: Number(h.resumes ?? 0),
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
    ...(h.leaseHolder && { leaseHolder: h.leaseHolder }),
    ...(h.leaseUntil && { leaseUntil: Number(h.leaseUntil) }),
  };
}
