package revocation_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// run starts s in the background until the test ends and waits until it
// is synchronised.
func run(t *testing.T, s *revocation.Set) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for s.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("set did not synchronise")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSet(t *testing.T) {
	backends := map[string]func(t *testing.T) store.RevocationStore{
		"sqlite": func(t *testing.T) store.RevocationStore { return sqltest.OpenSQLite(t) },
		"redis":  func(t *testing.T) store.RevocationStore { return redistest.Open(t) },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := context.Background()
			now := time.Now()
			// Recorded before the set starts: loaded on start.
			early := &store.Revocation{Kind: store.RevokedToken, Key: "early", RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := st.Revoke(ctx, early); err != nil {
				t.Fatal(err)
			}
			s := revocation.New(st, revocation.Options{})
			if _, ok := s.Check("early", nil, now); ok {
				t.Fatal("an unsynchronised set vouched for a token")
			}
			if s.Ready(ctx) == nil {
				t.Fatal("ready before loading")
			}
			run(t, s)

			if revoked, ok := s.Check("early", nil, now); !revoked || !ok {
				t.Errorf("entry recorded before start: revoked=%v ok=%v", revoked, ok)
			}
			if revoked, ok := s.Check("other", nil, now); revoked || !ok {
				t.Errorf("unrevoked jti: revoked=%v ok=%v", revoked, ok)
			}
			_, cursor, changed := s.Since(0)

			// Revoke through the set: visible at once.
			if err := s.Revoke(ctx, &store.Revocation{Kind: store.RevokedToken, Key: "now", RevokedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if revoked, _ := s.Check("now", nil, now); !revoked {
				t.Error("revoked through the set, not visible at once")
			}
			select {
			case <-changed:
			default:
				t.Error("feed readers were not woken")
			}

			// Subject: tokens issued at or before RevokedAt.
			at := now.Truncate(time.Second)
			if err := s.Revoke(ctx, &store.Revocation{Kind: store.RevokedSubject, Key: store.SubjectUser + "u1", RevokedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			subj := []string{store.SubjectClient + "c1", store.SubjectUser + "u1"}
			if revoked, _ := s.Check("x", subj, at); !revoked {
				t.Error("token issued at the revocation instant is not revoked")
			}
			if revoked, _ := s.Check("x", subj, at.Add(time.Second)); revoked {
				t.Error("token issued after the subject revocation is revoked")
			}
			if got := s.SubjectRevokedAt(store.SubjectUser + "u1"); !got.Equal(at) {
				t.Errorf("SubjectRevokedAt = %v, want %v", got, at)
			}

			// Entries from another writer arrive through the watch.
			if err := st.Revoke(ctx, &store.Revocation{Kind: store.RevokedToken, Key: "remote", RevokedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Second)
			for revoked, _ := s.Check("remote", nil, now); !revoked; revoked, _ = s.Check("remote", nil, now) {
				if time.Now().After(deadline) {
					t.Fatal("entry from another writer never arrived")
				}
				time.Sleep(5 * time.Millisecond)
			}

			rs, next, _ := s.Since(cursor)
			var keys []string
			for _, r := range rs {
				keys = append(keys, r.Key)
			}
			if len(keys) != 3 || keys[0] != "now" || keys[2] != "remote" || next <= cursor {
				t.Errorf("Since(%d) = %v, next %d", cursor, keys, next)
			}
			if again, _, _ := s.Since(next); len(again) != 0 {
				t.Errorf("Since(next) repeated %d entries", len(again))
			}
		})
	}
}

// TestSetExpiry: entries stop counting at ExpiresAt and leave the feed.
func TestSetExpiry(t *testing.T) {
	// The clock jumps past the node's lease too: hide the roster, which
	// would (rightly) stop the set vouching at all.
	st := struct{ store.RevocationStore }{sqltest.OpenSQLite(t)}
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s := revocation.New(st, revocation.Options{Now: now})
	run(t, s)
	if err := s.Revoke(context.Background(), &store.Revocation{Kind: store.RevokedToken, Key: "j", RevokedAt: clock, ExpiresAt: clock.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if revoked, _ := s.Check("j", nil, clock); !revoked {
		t.Fatal("not revoked")
	}
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	if revoked, ok := s.Check("j", nil, clock); revoked || !ok {
		t.Errorf("after ExpiresAt: revoked=%v ok=%v, want not revoked, ok", revoked, ok)
	}
	if rs, _, _ := s.Since(0); len(rs) != 0 {
		t.Errorf("expired entry still in the feed: %v", rs)
	}
}

// TestSetMissesNothingFromOtherWriters: an entry another process recorded
// just before this node's own revocation still reaches this node, and the
// feed never hands out a cursor past an entry it has not shown.
func TestSetMissesNothingFromOtherWriters(t *testing.T) {
	ctx := context.Background()
	path := "sqlite:" + filepath.Join(t.TempDir(), "r.db")
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, path, sqlstore.Options{RevocationPoll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	mine, other := open(), open()
	s := revocation.New(mine, revocation.Options{})
	run(t, s)
	now := time.Now()
	for i := range 20 {
		theirs := &store.Revocation{Kind: store.RevokedToken, Key: fmt.Sprintf("theirs-%d", i), RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := other.Revoke(ctx, theirs); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, &store.Revocation{Kind: store.RevokedToken, Key: fmt.Sprintf("mine-%d", i), RevokedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for revoked, _ := s.Check(theirs.Key, nil, now); !revoked; revoked, _ = s.Check(theirs.Key, nil, now) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the other writer's entry never arrived", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	rs, _, _ := s.Since(0)
	if len(rs) != 40 {
		t.Errorf("feed shows %d entries, want 40", len(rs))
	}
}
