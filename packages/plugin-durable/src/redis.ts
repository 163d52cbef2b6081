/**
 * `@tapline/plugin-durable/redis`: the durable store for many workers, on ioredis (an optional peer: install
 * `ioredis` to use it). Users who keep the embedded SQLite store never load it.
 */
export { type RedisStoreOptions, redisStore } from "./redis-store.ts";
