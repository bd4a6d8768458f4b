/**
 * The Lua side of the Redis store. Each script runs atomically, so one call decides for every matching rule
 * at once (all-or-nothing) in one round trip. The arithmetic is gcra.ts's, line for line. Times are epoch ms
 * as doubles, stored with %.17g so they round-trip exactly. A bucket's PX is its time to full plus 1 s of
 * padding: an expired TAT means the same as a missing one, and the padding keeps a bucket alive across a
 * little clock skew (or a test's virtual clock) without changing any decision.
 */

/**
 * KEYS: n rate buckets, then m concurrency sets.
 * ARGV: nowOverride ('' = Redis TIME), n, m, lease member, lease ms, then per bucket (interval, tolerance,
 * cost), then per set its max.
 * Returns { allowed (1/0), now, stored TAT per bucket ('' when none), in-flight count per set }.
 */
export const DECIDE_LUA = `
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local n = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local member = ARGV[4]
local lease = tonumber(ARGV[5])
local EPS = 0.001
local PAD = 1000
local allowed = 1
local out = { 0, '' }
local nextTats = {}
for i = 1, n do
  local a = 5 + (i - 1) * 3
  local interval = tonumber(ARGV[a + 1])
  local tolerance = tonumber(ARGV[a + 2])
  local cost = tonumber(ARGV[a + 3])
  local stored = redis.call('GET', KEYS[i])
  out[2 + i] = stored or ''
  local tat = now
  if stored then
    local s = tonumber(stored)
    if s and s > now then tat = s end
  end
  local nextTat = tat + interval * cost
  if nextTat - tolerance > now + EPS then allowed = 0 end
  nextTats[i] = nextTat
end
local c = 5 + n * 3
for j = 1, m do
  local key = KEYS[n + j]
  local count = redis.call('ZCARD', key)
  if count >= tonumber(ARGV[c + j]) then
    -- Only when full is it worth dropping leases that outlived a crashed holder.
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    count = redis.call('ZCARD', key)
  end
  out[2 + n + j] = count
  if count >= tonumber(ARGV[c + j]) then allowed = 0 end
end
if allowed == 1 then
  for i = 1, n do
    redis.call('SET', KEYS[i], string.format('%.17g', nextTats[i]), 'PX', math.ceil(nextTats[i] - now) + PAD)
  end
  for j = 1, m do
    redis.call('ZADD', KEYS[n + j], now + lease, member)
    redis.call('PEXPIRE', KEYS[n + j], lease)
  end
end
out[1] = allowed
out[2] = string.format('%.17g', now)
return out
`

/**
 * KEYS: n token buckets to adjust, then m concurrency sets to release from.
 * ARGV: nowOverride, n, lease member, then per bucket (interval, delta units).
 */
export const SETTLE_LUA = `
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local n = tonumber(ARGV[2])
local member = ARGV[3]
for i = 1, n do
  local interval = tonumber(ARGV[3 + (i - 1) * 2 + 1])
  local delta = tonumber(ARGV[3 + (i - 1) * 2 + 2])
  local stored = redis.call('GET', KEYS[i])
  local tat = now
  if stored then
    local s = tonumber(stored)
    if s and s > now then tat = s end
  end
  local nextTat = tat + interval * delta
  if nextTat <= now then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], string.format('%.17g', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
  end
end
for j = n + 1, #KEYS do
  redis.call('ZREM', KEYS[j], member)
end
return 1
`
