// The Redis store's Lua scripts: each decision that several processes race for is one atomic script.
// Keys: KEYS[1] the group's states hash (field = breaker key, value = JSON SharedBreakerState), KEYS[2] the
// key's probe hash (ep: the opening's id, n: probes in flight, since: when the first of them started,
// ok: probe successes). Both carry the group's hash tag, so they live in one slot.

/** Day-long expiry of the hashes, refreshed by every opening: abandoned keys do not stay forever. */
const TTL = "86400000";

/** ARGV: field, state JSON, episode, message, channel. Records an opening, resets the probes, publishes. */
export const OPEN = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ${TTL})
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'ep', ARGV[3], 'n', 0, 'ok', 0, 'since', 0)
redis.call('PEXPIRE', KEYS[2], ${TTL})
redis.call('PUBLISH', ARGV[5], ARGV[4])
return 1`;

/** ARGV: field, message, channel. A manual close: forgets the opening, publishes. */
export const CLOSE = `
local had = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if had == 1 then redis.call('PUBLISH', ARGV[3], ARGV[2]) end
return had`;

/**
 * ARGV: field, now, probes, probeTimeout. Hands out one of the \`probes\` slots of an opening whose time ended;
 * slots held longer than probeTimeout (hung probes) are taken back. Returns {kind, payload}.
 */
export const CLAIM = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'closed', ''} end
local st = cjson.decode(raw)
local now = tonumber(ARGV[2])
if st.state == 'isolated' or now < st.openUntil then return {'open', raw} end
local probes = tonumber(ARGV[3])
local n = tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
local since = tonumber(redis.call('HGET', KEYS[2], 'since') or '0')
if n >= probes and now - since >= tonumber(ARGV[4]) then n = 0 end
if n >= probes then return {'busy', ''} end
if n == 0 then redis.call('HSET', KEYS[2], 'since', ARGV[2]) end
redis.call('HSET', KEYS[2], 'n', n + 1, 'ep', st.episode)
redis.call('PEXPIRE', KEYS[2], ${TTL})
return {'probe', st.episode}`;

/**
 * ARGV: field, episode, outcome (success | release), successThreshold, close message, channel. Gives a probe
 * slot back; the successes of every process's probes close the key (for all, published). Returns 1 if closed.
 */
export const PROBE_DONE = `
if redis.call('HGET', KEYS[2], 'ep') ~= ARGV[2] then return 0 end
local n = tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
if n > 0 then redis.call('HSET', KEYS[2], 'n', n - 1) end
if ARGV[3] ~= 'success' then return 0 end
if redis.call('HINCRBY', KEYS[2], 'ok', 1) < tonumber(ARGV[4]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[6], ARGV[5])
return 1`;
