package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
)

var _ store.ReplayStore = (*Store)(nil)

// replayKey is the key of a single-use ID: string "1", expiring with it.
//
//	jti:<id>
func (s *Store) replayKey(id string) string {
	return s.prefix + "jti:" + id
}

// UseOnce records id until until and reports true the first time. SET NX
// decides atomically, so every node sharing this Redis sees one winner,
// and Redis expires the record itself. The expiry is relative (PX, from
// this node's clock), not PXAT: an absolute time is read on Redis's clock,
// and a Redis clock ahead of the node's would drop the record before the
// assertion it guards expires, opening a replay window.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	ttl := time.Until(until)
	if ttl < time.Millisecond {
		// Already expired: nothing could replay it within its life.
		return true, nil
	}
	err := s.client.SetArgs(ctx, s.replayKey(id), "1", redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if nilReply(err) { // SET NX set nothing: the ID is taken
		return false, nil
	}
	if err != nil {
		return false, s.wrap("use once", err)
	}
	return true, nil
}
