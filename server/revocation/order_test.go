package revocation_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// heldWatch passes a real store through, except that while held it
// swallows the watch's notifications, as a slow pub/sub delivery would
// delay them.
type heldWatch struct {
	store.RevocationStore
	held atomic.Bool
}

func (h *heldWatch) WatchRevocations(ctx context.Context, notify func()) error {
	return h.RevocationStore.WatchRevocations(ctx, func() {
		if !h.held.Load() {
			notify()
		}
	})
}

// TestSetRemoteEntryBeforeOwn: another node records an entry, then this
// node revokes through its set before the watch has delivered the other
// entry. The other entry has the lower Seq; it must still reach this node
// (and its feed), although the node already holds a higher Seq of its own.
func TestSetRemoteEntryBeforeOwn(t *testing.T) {
	backends := map[string]func(t *testing.T) store.RevocationStore{
		"sqlite": func(t *testing.T) store.RevocationStore { return sqltest.OpenSQLite(t) },
		"redis":  func(t *testing.T) store.RevocationStore { return redistest.Open(t) },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			h := &heldWatch{RevocationStore: st}
			s := revocation.New(h, revocation.Options{})
			run(t, s)
			ctx, now := context.Background(), time.Now()
			_, cursor, _ := s.Since(0)

			h.held.Store(true)
			remote := &store.Revocation{Kind: store.RevokedToken, Key: "remote", RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := st.Revoke(ctx, remote); err != nil {
				t.Fatal(err)
			}
			own := &store.Revocation{Kind: store.RevokedToken, Key: "own", RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := s.Revoke(ctx, own); err != nil {
				t.Fatal(err)
			}
			if remote.Seq >= own.Seq {
				t.Fatalf("Seq order: remote %d, own %d", remote.Seq, own.Seq)
			}
			// What a feed reader sees before the remote entry has been read
			// must not let it skip that entry later.
			early, next, _ := s.Since(cursor)

			// The next notification, for a later entry, must bring the
			// held-back one too.
			h.held.Store(false)
			later := &store.Revocation{Kind: store.RevokedToken, Key: "later", RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := st.Revoke(ctx, later); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Second)
			for revoked, _ := s.Check("later", nil, now); !revoked; revoked, _ = s.Check("later", nil, now) {
				if time.Now().After(deadline) {
					t.Fatal("the later entry never arrived")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if revoked, _ := s.Check("remote", nil, now); !revoked {
				t.Error("the other node's entry, with a Seq below this node's own revocation, was skipped")
			}
			rest, _, _ := s.Since(next)
			var keys []string
			for _, r := range append(early, rest...) {
				keys = append(keys, r.Key)
			}
			if len(keys) != 3 || keys[0] != "remote" || keys[1] != "own" || keys[2] != "later" {
				t.Errorf("a feed reader resuming from each cursor it was given saw %v, want [remote own later]", keys)
			}
		})
	}
}
