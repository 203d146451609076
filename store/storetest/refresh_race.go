package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// refreshTestRotateRace: concurrent rotations of one token, each with its
// own successor, have exactly one winner (RFC 9700 §4.14.2 relies on it).
func refreshTestRotateRace(t *testing.T, s store.RefreshTokenStore) {
	const n = 32
	old := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, old)

	now := refreshNow()
	nexts := make([]*store.RefreshToken, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		nexts[i] = refreshSuccessor(old, now)
		wg.Go(func() {
			<-start
			errs[i] = s.RotateRefreshToken(t.Context(), old.FamilyID, old.ID, nexts[i], now)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("rotations %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrTokenReused):
			t.Errorf("rotation %d: err = %v, want nil or ErrTokenReused", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation won")
	}
	for i, next := range nexts {
		if i == winner {
			refreshEqual(t, next, refreshMustGet(t, s, next.FamilyID, next.ID))
			continue
		}
		refreshWantNotFound(t, s, next.FamilyID, next.ID)
	}
	if got := refreshMustGet(t, s, old.FamilyID, old.ID); !got.RotatedAt.Equal(now) {
		t.Errorf("RotatedAt = %v, want %v", got.RotatedAt, now)
	}
}

// refreshTestRevokeRace: a family revoked while one goroutine rotates its
// chain and another adds tokens to it ends with no live token, whatever the
// interleaving. Each trial starts the revocation after a different number
// of rotations.
func refreshTestRevokeRace(t *testing.T, s store.RefreshTokenStore) {
	const trials, steps = 12, 8
	for trial := range trials {
		first := refreshFixture(refreshID(), refreshNow())
		refreshCreate(t, s, first)

		ready := make(chan struct{})
		var once sync.Once
		signal := func() { once.Do(func() { close(ready) }) }
		var rotated, created []string
		var wg sync.WaitGroup
		wg.Go(func() {
			defer signal()
			rotated = refreshRotateUntilRevoked(t, s, first, steps, trial%steps, signal)
		})
		wg.Go(func() {
			created = refreshCreateUntilRevoked(t, s, first.FamilyID, steps)
		})
		wg.Go(func() {
			<-ready
			if err := s.RevokeRefreshFamily(t.Context(), first.FamilyID, refreshNow().Add(time.Hour)); err != nil {
				t.Errorf("RevokeRefreshFamily: %v", err)
			}
		})
		wg.Wait()

		for _, id := range append(append([]string{first.ID}, rotated...), created...) {
			refreshWantNotFound(t, s, first.FamilyID, id)
		}
		late := refreshFixture(first.FamilyID, refreshNow())
		refreshWantErr(t, "create after revocation", s.CreateRefreshToken(t.Context(), late), store.ErrNotFound)
	}
}

// refreshRotateUntilRevoked rotates the chain from first up to steps times,
// calling signal after revokeAt rotations, and stops at the first
// ErrNotFound (the revocation). It returns every successor ID it tried.
func refreshRotateUntilRevoked(t *testing.T, s store.RefreshTokenStore, first *store.RefreshToken, steps, revokeAt int, signal func()) []string {
	var ids []string
	cur := first
	for i := range steps {
		if i == revokeAt {
			signal()
		}
		now := refreshNow()
		next := refreshSuccessor(cur, now)
		ids = append(ids, next.ID)
		err := s.RotateRefreshToken(t.Context(), cur.FamilyID, cur.ID, next, now)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Errorf("rotation %d: %v", i, err)
			break
		}
		cur = next
	}
	return ids
}

// refreshCreateUntilRevoked adds up to n tokens to family, stopping at the
// first ErrNotFound (the revocation). It returns every ID it tried.
func refreshCreateUntilRevoked(t *testing.T, s store.RefreshTokenStore, family string, n int) []string {
	var ids []string
	for range n {
		tok := refreshFixture(family, refreshNow())
		ids = append(ids, tok.ID)
		err := s.CreateRefreshToken(t.Context(), tok)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Errorf("create: %v", err)
			break
		}
	}
	return ids
}
