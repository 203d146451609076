package redisstore

import "github.com/redis/go-redis/v9"

// luaRevocationLog is shared by the revocation scripts, whose KEYS are
// always the Seq counter, the log, the expiry index and the key index (see
// revocationKeys). Times are Unix microseconds by the Redis clock. Every
// number handed back to Redis goes through int(): Lua would otherwise
// print a large one in exponent form.
const luaRevocationLog = `
local function int(n)
  return string.format('%d', n)
end

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- field is a member's key-index field: what follows Seq, revoked_at and
-- expires_at, that is "len(kind)|kind key".
local function field(m)
  return string.match(m, '^[^|]*|[^|]*|[^|]*|(.*)$')
end

-- prune drops the entries expired at now from the log and both indexes.
local function prune(now)
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', int(now))
  if #old == 0 then
    return
  end
  for i = 1, #old, 256 do
    redis.call('ZREM', KEYS[2], unpack(old, i, math.min(i + 255, #old)))
  end
  for _, m in ipairs(old) do
    local f = field(m)
    if redis.call('HGET', KEYS[4], f) == m then
      redis.call('HDEL', KEYS[4], f)
    end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', int(now))
end
`

// revocationRecordScript: ARGV[1] the entry's encoding without its Seq,
// ARGV[2] its expiry, ARGV[3] the channel to publish the Seq on, ARGV[4]
// its revoked_at, or "" when that does not matter (a token entry). It
// returns {Seq, ""} for a new entry, {0, ""} for one already expired, and
// {Seq, member} of the newest entry with the same kind and key when that
// one covers the new one (store.Covers): then nothing is written. The key
// index maps "len(kind)|kind key" to that newest member. INCR and the
// ZADDs run atomically, so entries enter the log in Seq order. The log and the
// index, both pruned here, expire with their last entry; the counter never
// expires, since a Seq must never be handed out twice, and it never falls
// behind the clock, so not even a Redis that lost its data reuses one.
var revocationRecordScript = redis.NewScript(luaRevocationLog + `
local now = now_us()
prune(now)
if tonumber(ARGV[2]) <= now then
  return {0, ''}
end
local f = field('0|' .. ARGV[1])
local cur = redis.call('HGET', KEYS[4], f)
if cur then
  local cseq, crev, cexp = string.match(cur, '^(%d+)|(%-?%d+)|(%-?%d+)|')
  if cseq and tonumber(cexp) >= tonumber(ARGV[2]) and (ARGV[4] == '' or tonumber(crev) >= tonumber(ARGV[4])) then
    return {tonumber(cseq), cur}
  end
end
local seq = redis.call('INCR', KEYS[1])
-- A Seq is never below the clock (in microseconds): should Redis lose its
-- data, entries recorded afterwards still sort after every Seq handed out
-- before, so a reader resuming from an old cursor misses nothing.
if seq < now then
  seq = now
  redis.call('SET', KEYS[1], int(seq))
end
local member = int(seq) .. '|' .. ARGV[1]
redis.call('ZADD', KEYS[2], int(seq), member)
redis.call('ZADD', KEYS[3], ARGV[2], member)
redis.call('HSET', KEYS[4], f, member)
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
local at = int(math.floor(tonumber(last[2]) / 1000) + 1)
redis.call('PEXPIREAT', KEYS[2], at)
redis.call('PEXPIREAT', KEYS[3], at)
redis.call('PEXPIREAT', KEYS[4], at)
redis.call('PUBLISH', ARGV[3], int(seq))
return {seq, ''}
`)

// revocationReadScript: ARGV[1] the cursor, ARGV[2] the limit. It prunes
// first, so that expired entries neither come back nor fill a page.
var revocationReadScript = redis.NewScript(luaRevocationLog + `
prune(now_us())
return redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
`)
