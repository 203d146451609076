package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Revocation keys, under the store's prefix and one hash tag:
//
//	{<prefix>rv}:seq  string: the last Seq handed out; never expires
//	{<prefix>rv}:log  sorted set: entries scored by Seq
//	{<prefix>rv}:exp  sorted set: the same members scored by expiry (µs)
//	{<prefix>rv}:key  hash: "len(kind)|kind key" → the newest member with
//	                  that kind and key, so Revoke finds a covering entry
//
// Each new Seq is published on channel <prefix>rv:events. A member is
// "seq|revoked_at|expires_at|len(kind)|kind key", times in Unix
// microseconds: the Seq makes it unique, the length lets kind and key hold
// any byte. The whole log is one Cluster slot by design: it is small
// (entries live only as long as an access token), and Seq order across
// writers needs its counter and log updated atomically together.
const (
	revocationSep = "|"
	// watchPingEvery is how long a watch waits for traffic before it sends
	// a PING; if that gets no answer within another watchPingEvery, the
	// connection is deemed dead.
	watchPingEvery = 2 * time.Second
	// watchSubscribeTimeout bounds the wait for the SUBSCRIBE reply.
	watchSubscribeTimeout = 10 * time.Second
)

var _ store.RevocationStore = (*Store)(nil)

func (s *Store) revocationKeys() []string {
	tag := s.prefix + "{" + s.prefix + "rv}:"
	return []string{tag + "seq", tag + "log", tag + "exp", tag + "key"}
}

func (s *Store) revocationChannel() string {
	return s.prefix + "rv:events"
}

// Revoke records r with the next Seq and publishes it to watchers. An
// entry already expired by the Redis clock is not recorded and r.Seq is
// left alone; an entry covered by one already recorded (store.Covers) is
// not recorded either, and r becomes that entry. Both checks and the write
// are one script, so racing writers never record the same entry twice.
// Expired entries are pruned on the way.
func (s *Store) Revoke(ctx context.Context, r *store.Revocation) error {
	payload := strings.Join([]string{
		strconv.FormatInt(r.RevokedAt.UnixMicro(), 10),
		strconv.FormatInt(r.ExpiresAt.UnixMicro(), 10),
		strconv.Itoa(len(r.Kind)),
		string(r.Kind) + r.Key,
	}, revocationSep)
	revokedAt := ""
	if r.Kind != store.RevokedToken {
		revokedAt = strconv.FormatInt(r.RevokedAt.UnixMicro(), 10)
	}
	res, err := revocationRecordScript.Run(ctx, s.client, s.revocationKeys(),
		payload, r.ExpiresAt.UnixMicro(), s.revocationChannel(), revokedAt).Slice()
	if err != nil {
		return s.wrap("revoke", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("redisstore: revoke: unexpected reply of %d values", len(res))
	}
	seq, _ := res[0].(int64)
	if cover, _ := res[1].(string); cover != "" {
		c, err := decodeRevocation(cover)
		if err != nil {
			return fmt.Errorf("redisstore: revoke: corrupt entry: %w", err)
		}
		*r = c
		return nil
	}
	if seq > 0 {
		r.Seq = seq
	}
	return nil
}

// RevocationsSince returns up to limit entries unexpired by the Redis clock
// with Seq > after, in Seq order. A limit of zero or less returns none.
func (s *Store) RevocationsSince(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if limit <= 0 {
		return []store.Revocation{}, nil
	}
	members, err := revocationReadScript.Run(ctx, s.client, s.revocationKeys(), after, limit).StringSlice()
	if err != nil {
		return nil, s.wrap("list revocations", err)
	}
	out := make([]store.Revocation, len(members))
	for i, m := range members {
		if out[i], err = decodeRevocation(m); err != nil {
			return nil, fmt.Errorf("redisstore: list revocations: corrupt entry: %w", err)
		}
	}
	return out, nil
}

func decodeRevocation(m string) (store.Revocation, error) {
	f := strings.SplitN(m, revocationSep, 5)
	if len(f) != 5 {
		return store.Revocation{}, errors.New("too few fields")
	}
	var n [4]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return store.Revocation{}, err
		}
		n[i] = v
	}
	if n[3] < 0 || n[3] > int64(len(f[4])) {
		return store.Revocation{}, errors.New("bad kind length")
	}
	return store.Revocation{
		Seq:       n[0],
		Kind:      store.RevocationKind(f[4][:n[3]]),
		Key:       f[4][n[3]:],
		RevokedAt: time.UnixMicro(n[1]).UTC(),
		ExpiresAt: time.UnixMicro(n[2]).UTC(),
	}, nil
}

// WatchRevocations subscribes to the revocation channel on a connection of
// its own and calls notify once the subscription is confirmed, then for
// every published Seq. See subscribe for how a broken connection ends it.
func (s *Store) WatchRevocations(ctx context.Context, notify func()) error {
	err := s.subscribe(ctx, s.revocationChannel(), notify, func(string) { notify() })
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("redisstore: watch revocations: %w", err)
	}
	return err
}
