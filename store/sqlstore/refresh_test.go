package sqlstore_test

import (
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

func newRefresh(family string, now, expires time.Time) *store.RefreshToken {
	return &store.RefreshToken{
		ID: rand.Text(), FamilyID: family, ClientID: "c1", Scopes: []string{"read"},
		IssuedAt: now, FamilyIssuedAt: now, ExpiresAt: expires,
	}
}

// TestRotateRaceAcrossStores rotates one token from 32 goroutines spread
// over two Stores on one database, as two server processes would: exactly
// one wins, every other call reports reuse, and SQLite never reports
// "database is locked".
func TestRotateRaceAcrossStores(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			stores := openShared(t, b.name, 2, sqlstore.Options{})
			mustDo(t, "Migrate", stores[0].Migrate(t.Context()))
			now := time.Now().UTC()
			old := newRefresh("fam", now, now.Add(time.Hour))
			mustDo(t, "CreateRefreshToken", stores[0].CreateRefreshToken(t.Context(), old))

			const n = 32
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				next := newRefresh("fam", now, now.Add(time.Hour))
				wg.Go(func() {
					<-start
					errs[i] = stores[i%2].RotateRefreshToken(t.Context(), "fam", old.ID, next, now)
				})
			}
			close(start)
			wg.Wait()

			wins, reused := 0, 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case errors.Is(err, store.ErrTokenReused):
					reused++
				default:
					t.Errorf("rotation %d: %v", i, err)
				}
			}
			if wins != 1 || reused != n-1 {
				t.Errorf("%d wins and %d reuses, want 1 and %d", wins, reused, n-1)
			}
		})
	}
}

func TestRevokeKeepsLaterUntil(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			now := time.Now().UTC()
			mustDo(t, "revoke", s.RevokeRefreshFamily(t.Context(), "fam", now.Add(time.Hour)))
			mustDo(t, "revoke earlier", s.RevokeRefreshFamily(t.Context(), "fam", now.Add(-time.Hour)))
			err := s.CreateRefreshToken(t.Context(), newRefresh("fam", now, now.Add(time.Hour)))
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("create in revoked family: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestRevocationEnds(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			now := time.Now().UTC()
			mustDo(t, "revoke", s.RevokeRefreshFamily(t.Context(), "fam", now.Add(-time.Second)))
			tok := newRefresh("fam", now, now.Add(time.Hour))
			mustDo(t, "create after the revocation ended", s.CreateRefreshToken(t.Context(), tok))
			_, err := s.GetRefreshToken(t.Context(), "fam", tok.ID)
			mustDo(t, "get", err)
		})
	}
}

func TestDeleteExpired(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := t.Context()
			now := time.Now().UTC()
			expired := newRefresh("fam-a", now.Add(-2*time.Hour), now.Add(-time.Minute))
			live := newRefresh("fam-a", now, now.Add(time.Hour))
			for _, tok := range []*store.RefreshToken{expired, live} {
				mustDo(t, "create", s.CreateRefreshToken(ctx, tok))
			}
			mustDo(t, "revoke ended", s.RevokeRefreshFamily(ctx, "fam-old", now.Add(-time.Minute)))
			mustDo(t, "revoke live", s.RevokeRefreshFamily(ctx, "fam-new", now.Add(time.Hour)))

			n, err := s.DeleteExpired(ctx, now)
			mustDo(t, "DeleteExpired", err)
			if n != 2 {
				t.Errorf("DeleteExpired removed %d rows, want 2 (one token, one revocation)", n)
			}
			if n, err := s.DeleteExpired(ctx, now); err != nil || n != 0 {
				t.Errorf("second DeleteExpired = %d, %v; want 0, nil", n, err)
			}
			_, err = s.GetRefreshToken(ctx, "fam-a", live.ID)
			mustDo(t, "get live token", err)
			err = s.CreateRefreshToken(ctx, newRefresh("fam-new", now, now.Add(time.Hour)))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("live revocation purged: create err = %v, want ErrNotFound", err)
			}
			// Purging an expired row must not make it reusable as a rotation
			// target, and its ID is free again.
			err = s.RotateRefreshToken(ctx, "fam-a", expired.ID, newRefresh("fam-a", now, now.Add(time.Hour)), now)
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("rotate purged token: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestGetRefreshTokenUsesInjectedClock(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	clock := now
	var mu sync.Mutex
	stores := openShared(t, sqlstore.DialectSQLite, 1, sqlstore.Options{Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}})
	s := stores[0]
	mustDo(t, "Migrate", s.Migrate(t.Context()))
	tok := newRefresh("fam", now, now.Add(time.Minute))
	mustDo(t, "create", s.CreateRefreshToken(t.Context(), tok))
	_, err := s.GetRefreshToken(t.Context(), "fam", tok.ID)
	mustDo(t, "get before expiry", err)

	mu.Lock()
	clock = now.Add(time.Minute)
	mu.Unlock()
	if _, err := s.GetRefreshToken(t.Context(), "fam", tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get at expiry: err = %v, want ErrNotFound", err)
	}
}

func TestRotateRejectsForeignFamily(t *testing.T) {
	t.Parallel()
	s := sqltest.OpenSQLite(t)
	now := time.Now().UTC()
	old := newRefresh("fam", now, now.Add(time.Hour))
	mustDo(t, "create", s.CreateRefreshToken(t.Context(), old))
	err := s.RotateRefreshToken(t.Context(), "fam", old.ID, newRefresh("other", now, now.Add(time.Hour)), now)
	if err == nil {
		t.Fatal("rotation into another family succeeded")
	}
	got, err := s.GetRefreshToken(t.Context(), "fam", old.ID)
	mustDo(t, "get", err)
	if !got.RotatedAt.IsZero() {
		t.Error("a rejected rotation marked the token rotated")
	}
}
