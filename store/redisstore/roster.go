package redisstore

import (
	"context"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
)

// The roster of nodes holding the revocation set, beside the log and in
// its hash tag:
//
//	{<prefix>rv}:acks   hash: node → the Seq it acknowledged
//	{<prefix>rv}:alive  sorted set: nodes scored by lease expiry (Unix ms,
//	                    Redis clock)
//
// Both expire with the last lease, and every script drops the nodes whose
// lease has run out.

var _ store.RevocationRoster = (*Store)(nil)

func (s *Store) rosterKeys() []string {
	tag := s.prefix + "{" + s.prefix + "rv}:"
	return []string{tag + "acks", tag + "alive"}
}

// luaRoster is shared by the roster scripts; KEYS are rosterKeys.
const luaRoster = luaNow + `
local function int(n)
  return string.format('%d', n)
end

-- drop removes the nodes whose lease ran out by now.
local function drop(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', int(now))
  for i = 1, #gone, 256 do
    redis.call('HDEL', KEYS[1], unpack(gone, i, math.min(i + 255, #gone)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', int(now))
end
`

// rosterAckScript: ARGV[1] node, ARGV[2] Seq, ARGV[3] lease (ms). It
// returns 1 if the node's lease was running, else 0.
var rosterAckScript = redis.NewScript(luaRoster + `
local now = now_ms()
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
local renewed = 0
if exp and tonumber(exp) > now then
  renewed = 1
end
drop(now)
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or tonumber(ARGV[2]) > tonumber(cur) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], int(now + tonumber(ARGV[3])), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
redis.call('PEXPIREAT', KEYS[2], last[2])
return renewed
`)

// rosterLaggardsScript: ARGV[1] the Seq. It returns the nodes with a
// running lease whose acknowledgement is below it.
var rosterLaggardsScript = redis.NewScript(luaRoster + `
drop(now_ms())
local out = {}
local seq = tonumber(ARGV[1])
for _, node in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local ack = redis.call('HGET', KEYS[1], node)
  if not ack or tonumber(ack) < seq then
    out[#out + 1] = node
  end
end
return out
`)

// rosterLeaveScript: ARGV[1] node.
var rosterLeaveScript = redis.NewScript(`
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
return 0
`)

// AckRevocations records node's acknowledgement of seq and renews its
// lease, by the Redis clock.
func (s *Store) AckRevocations(ctx context.Context, node string, seq int64, lease time.Duration) (bool, error) {
	n, err := rosterAckScript.Run(ctx, s.client, s.rosterKeys(), node, seq, max(lease.Milliseconds(), 1)).Int()
	if err != nil {
		return false, s.wrap("acknowledge revocations", err)
	}
	return n == 1, nil
}

// RevocationLaggards returns the nodes with a running lease that have not
// acknowledged seq.
func (s *Store) RevocationLaggards(ctx context.Context, seq int64) ([]string, error) {
	nodes, err := rosterLaggardsScript.Run(ctx, s.client, s.rosterKeys(), seq).StringSlice()
	if err != nil && err != redis.Nil {
		return nil, s.wrap("list revocation laggards", err)
	}
	slices.Sort(nodes)
	return nodes, nil
}

// LeaveRevocations takes node off the roster.
func (s *Store) LeaveRevocations(ctx context.Context, node string) error {
	return s.wrap("leave revocation roster", rosterLeaveScript.Run(ctx, s.client, s.rosterKeys(), node).Err())
}
