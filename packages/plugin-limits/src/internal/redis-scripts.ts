// The Lua scripts of the Redis limit store. Each runs atomically on the server, on the server's clock
// (`TIME`), so workers on machines whose clocks differ still agree on every window and lease.
// Members of the sorted sets are `<amount>:<unique id>` (a rate admission's amount, a lease's weight).

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local function amount(m) return tonumber(string.match(m, '^[^:]+')) end
`;

/**
 * Rate windows, spent together or not at all (a sliding log per window: one entry per admission inside it).
 * KEYS: pause, then (log, sum) per window. ARGV: member id, then (perMs, limit, amount) per window.
 * Returns 0 when every window took its amount, else the ms (≥ 1) until they may all fit.
 */
export const TAKE = `${NOW}
local n = (#KEYS - 1) / 2
local wait = 0
local p = redis.call('GET', KEYS[1])
if p then
  local pw = tonumber(p) - now
  if pw > wait then wait = pw end
end
local sums = {}
for i = 1, n do
  local z, s = KEYS[2 * i], KEYS[2 * i + 1]
  local per, limit, want = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local cut = now - per
  local sum = tonumber(redis.call('GET', s) or '')
  if sum then
    local old = redis.call('ZRANGEBYSCORE', z, '-inf', cut)
    if #old > 0 then
      for _, m in ipairs(old) do sum = sum - amount(m) end
      redis.call('ZREMRANGEBYSCORE', z, '-inf', cut)
      if sum < 0 then sum = 0 end
      redis.call('SET', s, sum, 'PX', math.ceil(per) + 1000)
    end
  else
    -- The running sum is gone (evicted, or the log is new): count the log again.
    redis.call('ZREMRANGEBYSCORE', z, '-inf', cut)
    sum = 0
    for _, m in ipairs(redis.call('ZRANGE', z, 0, -1)) do sum = sum + amount(m) end
  end
  sums[i] = sum
  if sum + want > limit then
    local need = sum + want - limit
    local freed = 0
    local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
    local w = per
    for j = 1, #entries, 2 do
      freed = freed + amount(entries[j])
      if freed >= need then
        w = tonumber(entries[j + 1]) + per - now
        break
      end
    end
    if w > wait then wait = w end
  end
end
if wait > 0 then return math.max(1, math.ceil(wait)) end
for i = 1, n do
  local want = tonumber(ARGV[3 * i + 1])
  if want > 0 then
    local per = math.ceil(tonumber(ARGV[3 * i - 1])) + 1000
    redis.call('ZADD', KEYS[2 * i], now, want .. ':' .. ARGV[1])
    redis.call('SET', KEYS[2 * i + 1], sums[i] + want, 'PX', per)
    redis.call('PEXPIRE', KEYS[2 * i], per)
  end
end
return 0`;

/** Pauses a key: KEYS[1] the pause key, ARGV[1] ms. A shorter pause never shortens a longer one. */
export const PAUSE = `${NOW}
local ms = tonumber(ARGV[1])
local untilMs = now + ms
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if not cur or cur < untilMs then redis.call('SET', KEYS[1], untilMs, 'PX', math.ceil(ms)) end
return 0`;

/**
 * Takes a lease of `weight` if the live leases plus it fit in `capacity`. KEYS[1]: the leases (score =
 * expiry). ARGV: weight, capacity, lease ms, member. Returns {1, 0} when taken, else {0, ms until the
 * first lease expires (-1 when none)}.
 */
export const ACQUIRE = `${NOW}
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
local held = 0
for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do held = held + amount(m) end
if held + tonumber(ARGV[1]) > tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then return {0, math.max(1, math.ceil(tonumber(first[2]) - now))} end
  return {0, -1}
end
local lease = tonumber(ARGV[3])
redis.call('ZADD', key, now + lease, ARGV[4])
if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, math.ceil(lease)) end
return {1, 0}`;

/**
 * Extends leases still held. KEYS[1]: the leases. ARGV: lease ms, then members. Returns the members that
 * were gone (expired and taken out: their slots were given to others).
 */
export const RENEW = `${NOW}
local key = KEYS[1]
local lease = tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', key, ARGV[i]) then
    redis.call('ZADD', key, 'XX', now + lease, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, math.ceil(lease)) end
return lost`;

/** Gives leases back and tells the other processes. KEYS[1]: the leases. ARGV: channel, then members. */
export const RELEASE = `local n = 0
for i = 2, #ARGV do n = n + redis.call('ZREM', KEYS[1], ARGV[i]) end
if n > 0 then redis.call('PUBLISH', ARGV[1], n) end
return n`;
