package redisstore

import "github.com/redis/go-redis/v9"

// Script results. Each script returns one of these codes so that the Go
// side maps them to the store's sentinel errors.
const (
	resultOK       = 0
	resultNotFound = 1
	resultConflict = 2
	resultReused   = 3
	resultRevoked  = 4
)

// luaNow reads the Redis clock, the one PEXPIREAT expires keys by.
const luaNow = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// luaPut is shared by the scripts that store a token. The token is described
// by ten arguments starting at ARGV[a]: id, expiry (Unix ms), then the
// hash fields client, user, scopes, iat, fiat, exp, rot and jkt (the DPoP
// key thumbprint; tokens written before it have no such field). A token already
// expired by the Redis clock is not written at all; otherwise it expires at
// its own expiry, and the family set, pruned of expired members, expires
// with its last member.
const luaPut = luaNow + `
local function put(tok, fam, a)
  local now = now_ms()
  if tonumber(ARGV[a + 1]) <= now then
    return
  end
  redis.call('HSET', tok, 'client', ARGV[a + 2], 'user', ARGV[a + 3],
    'scopes', ARGV[a + 4], 'iat', ARGV[a + 5], 'fiat', ARGV[a + 6],
    'exp', ARGV[a + 7], 'rot', ARGV[a + 8], 'jkt', ARGV[a + 9])
  redis.call('PEXPIREAT', tok, ARGV[a + 1])
  redis.call('ZADD', fam, ARGV[a + 1], ARGV[a])
  redis.call('ZREMRANGEBYSCORE', fam, '-inf', '(' .. now)
  local last = redis.call('ZRANGE', fam, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', fam, last[2])
end
`

// createScript: KEYS token, family set, revocation marker; ARGV as luaPut.
var createScript = redis.NewScript(luaPut + `
if redis.call('EXISTS', KEYS[3]) == 1 then return 4 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
put(KEYS[1], KEYS[2], 1)
return 0
`)

// rotateScript: KEYS old token, family set, revocation marker, next token;
// ARGV[1] old ID, ARGV[2] the caller's now (Unix ms), ARGV[3] the rotated-at
// field, ARGV[4..13] the next token as luaPut. The checks and both writes
// run atomically, so of concurrent rotations exactly one sees rot empty.
var rotateScript = redis.NewScript(luaPut + `
if redis.call('EXISTS', KEYS[3]) == 1 then return 4 end
local rot = redis.call('HGET', KEYS[1], 'rot')
if not rot then return 1 end
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
if exp and tonumber(exp) <= tonumber(ARGV[2]) then return 1 end
if rot ~= '' then return 3 end
if redis.call('EXISTS', KEYS[4]) == 1 then return 2 end
redis.call('HSET', KEYS[1], 'rot', ARGV[3])
put(KEYS[4], KEYS[2], 4)
return 0
`)

// revokeScript: KEYS family set, revocation marker; ARGV[1] until (Unix
// ms), ARGV[2] the family's token key prefix. The token keys are built from
// the set's members rather than declared: they carry the family's hash tag,
// so they live in the declared keys' slot. The marker never shortens an
// earlier, longer revocation. It returns the number of token IDs dropped.
var revokeScript = redis.NewScript(luaNow + `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for i = 1, #ids, 256 do
  local keys = {}
  for j = i, math.min(i + 255, #ids) do
    keys[#keys + 1] = ARGV[2] .. ids[j]
  end
  redis.call('DEL', unpack(keys))
end
redis.call('DEL', KEYS[1])
local until_ms = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if until_ms > now_ms() and until_ms > cur then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
return #ids
`)
