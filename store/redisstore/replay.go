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
// with PXAT decides atomically, so every node sharing this Redis sees one
// winner, and Redis expires the record itself.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	if time.Until(until) < time.Millisecond {
		// Already expired: nothing could replay it within its life.
		return true, nil
	}
	err := s.client.SetArgs(ctx, s.replayKey(id), "1", redis.SetArgs{Mode: "NX", ExpireAt: until}).Err()
	if nilReply(err) { // SET NX set nothing: the ID is taken
		return false, nil
	}
	if err != nil {
		return false, s.wrap("use once", err)
	}
	return true, nil
}
