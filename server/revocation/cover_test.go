package revocation_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// TestRevokeTokenCovered: a token already revoked, or whose client was
// revoked since it was issued, is not recorded again; a token issued
// after its client's revocation is. Page then hands the set out in
// bounded pages.
func TestRevokeTokenCovered(t *testing.T) {
	backends := map[string]func(t *testing.T) store.RevocationStore{
		"sqlite": func(t *testing.T) store.RevocationStore { return sqltest.OpenSQLite(t) },
		"redis":  func(t *testing.T) store.RevocationStore { return redistest.Open(t) },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := context.Background()
			s := revocation.New(st, revocation.Options{})
			run(t, s)
			now := time.Now().Truncate(time.Second)
			client := store.SubjectClient + "tgc_" + t.Name()
			subjects := []string{client, store.SubjectUser + "u"}
			tok := func(jti string) *store.Revocation {
				return &store.Revocation{Kind: store.RevokedToken, Key: jti, RevokedAt: time.Now(), ExpiresAt: now.Add(10 * time.Minute)}
			}

			first := tok("j1")
			if covered, err := s.RevokeToken(ctx, first, subjects, now.Add(-time.Minute)); err != nil || covered {
				t.Fatalf("first revocation: covered %v, %v", covered, err)
			}
			again := tok("j1")
			if covered, err := s.RevokeToken(ctx, again, subjects, now.Add(-time.Minute)); err != nil || !covered || again.Seq != first.Seq {
				t.Fatalf("repeat: covered %v, Seq %d (first %d), %v", covered, again.Seq, first.Seq, err)
			}
			if err := s.Revoke(ctx, &store.Revocation{Kind: store.RevokedSubject, Key: client, RevokedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if covered, err := s.RevokeToken(ctx, tok("j2"), subjects, now.Add(-time.Second)); err != nil || !covered {
				t.Errorf("token issued before its client's revocation: covered %v, %v", covered, err)
			}
			if covered, err := s.RevokeToken(ctx, tok("j3"), subjects, now.Add(time.Second)); err != nil || covered {
				t.Errorf("token issued after its client's revocation: covered %v, %v", covered, err)
			}

			rs, err := st.RevocationsSince(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]int{}
			for _, r := range rs {
				keys[r.Key]++
			}
			if len(rs) != 3 || keys["j1"] != 1 || keys["j2"] != 0 || keys["j3"] != 1 || keys[client] != 1 {
				t.Errorf("store holds %v, want j1, the client and j3 once each", keys)
			}

			var all []store.Revocation
			cursor, pages := int64(0), 0
			for more := true; more; pages++ {
				var page []store.Revocation
				page, cursor, more, _ = s.Page(cursor, 2)
				if len(page) > 2 {
					t.Fatalf("page of %d entries, limit 2", len(page))
				}
				all = append(all, page...)
			}
			if len(all) != 3 || pages != 2 {
				t.Errorf("paged %d entries in %d pages, want 3 in 2", len(all), pages)
			}
		})
	}
}
