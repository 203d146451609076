package storetest

import (
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunRefreshTokens runs the store.RefreshTokenStore contract. open is called
// once per subtest, and subtests run in parallel: it may hand out one shared
// store, since every subtest uses fresh random IDs, and it registers its own
// cleanup with t.Cleanup. Stores must keep times to the microsecond.
func RunRefreshTokens(t *testing.T, open func(t *testing.T) store.RefreshTokenStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.RefreshTokenStore)
	}{
		{"CreateGetRoundTrip", refreshTestRoundTrip},
		{"UnknownID", refreshTestUnknownID},
		{"WrongFamily", refreshTestWrongFamily},
		{"DuplicateID", refreshTestDuplicateID},
		{"AlreadyExpired", refreshTestAlreadyExpired},
		{"ExpiresAfterTTL", refreshTestExpiresAfterTTL},
		{"Rotate", refreshTestRotate},
		{"RotateAgainIsReuse", refreshTestRotateAgain},
		{"RotateChain", refreshTestRotateChain},
		{"RotateRace", refreshTestRotateRace},
		{"RevokeFamily", refreshTestRevokeFamily},
		{"RevokeUnknownFamily", refreshTestRevokeUnknown},
		{"RevokeRotateRace", refreshTestRevokeRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

func refreshTestRoundTrip(t *testing.T, s store.RefreshTokenStore) {
	now := refreshNow()
	full := refreshFixture(refreshID(), now)
	bare := refreshFixture(refreshID(), now)
	bare.UserID, bare.Scopes = "", nil // a client_credentials-style token
	for _, tok := range []*store.RefreshToken{full, bare} {
		refreshCreate(t, s, tok)
		refreshEqual(t, tok, refreshMustGet(t, s, tok.FamilyID, tok.ID))
	}
}

func refreshTestUnknownID(t *testing.T, s store.RefreshTokenStore) {
	tok := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, tok)
	refreshWantNotFound(t, s, tok.FamilyID, refreshID())
	refreshWantNotFound(t, s, refreshID(), refreshID())

	next := refreshSuccessor(tok, refreshNow())
	err := s.RotateRefreshToken(t.Context(), tok.FamilyID, refreshID(), next, refreshNow())
	refreshWantErr(t, "rotate unknown ID", err, store.ErrNotFound)
	refreshWantNotFound(t, s, next.FamilyID, next.ID)
}

func refreshTestWrongFamily(t *testing.T, s store.RefreshTokenStore) {
	tok := refreshFixture(refreshID(), refreshNow())
	other := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, tok)
	refreshCreate(t, s, other)
	refreshWantNotFound(t, s, other.FamilyID, tok.ID)
	refreshWantNotFound(t, s, refreshID(), tok.ID)

	next := refreshSuccessor(other, refreshNow())
	err := s.RotateRefreshToken(t.Context(), other.FamilyID, tok.ID, next, refreshNow())
	refreshWantErr(t, "rotate in the wrong family", err, store.ErrNotFound)
	refreshWantNotFound(t, s, next.FamilyID, next.ID)
	refreshEqual(t, tok, refreshMustGet(t, s, tok.FamilyID, tok.ID))
}

func refreshTestDuplicateID(t *testing.T, s store.RefreshTokenStore) {
	tok := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, tok)
	dup := refreshFixture(tok.FamilyID, refreshNow())
	dup.ID = tok.ID
	dup.ClientID = "another-client"
	err := s.CreateRefreshToken(t.Context(), dup)
	refreshWantErr(t, "create duplicate ID", err, store.ErrConflict)
	refreshEqual(t, tok, refreshMustGet(t, s, tok.FamilyID, tok.ID))
}

func refreshTestAlreadyExpired(t *testing.T, s store.RefreshTokenStore) {
	now := refreshNow()
	tok := refreshFixture(refreshID(), now.Add(-2*time.Hour))
	tok.ExpiresAt = now.Add(-time.Minute)
	refreshCreate(t, s, tok)
	refreshWantNotFound(t, s, tok.FamilyID, tok.ID)

	next := refreshSuccessor(tok, now)
	err := s.RotateRefreshToken(t.Context(), tok.FamilyID, tok.ID, next, now)
	refreshWantErr(t, "rotate expired token", err, store.ErrNotFound)
	refreshWantNotFound(t, s, next.FamilyID, next.ID)
}

func refreshTestExpiresAfterTTL(t *testing.T, s store.RefreshTokenStore) {
	tok := refreshFixture(refreshID(), refreshNow())
	tok.ExpiresAt = refreshNow().Add(300 * time.Millisecond)
	refreshCreate(t, s, tok)
	refreshEqual(t, tok, refreshMustGet(t, s, tok.FamilyID, tok.ID))

	time.Sleep(time.Until(tok.ExpiresAt) + 100*time.Millisecond)
	refreshWantNotFound(t, s, tok.FamilyID, tok.ID)
	next := refreshSuccessor(tok, refreshNow())
	err := s.RotateRefreshToken(t.Context(), tok.FamilyID, tok.ID, next, refreshNow())
	refreshWantErr(t, "rotate after expiry", err, store.ErrNotFound)
	refreshWantNotFound(t, s, next.FamilyID, next.ID)
}

func refreshTestRotate(t *testing.T, s store.RefreshTokenStore) {
	old := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, old)
	now := refreshNow()
	next := refreshSuccessor(old, now)
	if err := s.RotateRefreshToken(t.Context(), old.FamilyID, old.ID, next, now); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	want := *old
	want.RotatedAt = now
	refreshEqual(t, &want, refreshMustGet(t, s, old.FamilyID, old.ID))
	refreshEqual(t, next, refreshMustGet(t, s, next.FamilyID, next.ID))
}

func refreshTestRotateAgain(t *testing.T, s store.RefreshTokenStore) {
	old := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, old)
	first := refreshNow()
	refreshRotate(t, s, old, refreshSuccessor(old, first), first)

	again := refreshSuccessor(old, refreshNow())
	err := s.RotateRefreshToken(t.Context(), old.FamilyID, old.ID, again, refreshNow())
	refreshWantErr(t, "second rotation", err, store.ErrTokenReused)
	refreshWantNotFound(t, s, again.FamilyID, again.ID)
	if got := refreshMustGet(t, s, old.FamilyID, old.ID); !got.RotatedAt.Equal(first) {
		t.Errorf("RotatedAt after reuse = %v, want the first rotation's %v", got.RotatedAt, first)
	}
}

func refreshTestRotateChain(t *testing.T, s store.RefreshTokenStore) {
	a := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, a)
	b := refreshSuccessor(a, refreshNow())
	refreshRotate(t, s, a, b, b.IssuedAt)
	c := refreshSuccessor(b, refreshNow())
	refreshRotate(t, s, b, c, c.IssuedAt)

	for _, tok := range []*store.RefreshToken{a, b} {
		next := refreshSuccessor(tok, refreshNow())
		err := s.RotateRefreshToken(t.Context(), tok.FamilyID, tok.ID, next, refreshNow())
		refreshWantErr(t, "rotate a rotated link", err, store.ErrTokenReused)
		if got := refreshMustGet(t, s, tok.FamilyID, tok.ID); got.RotatedAt.IsZero() {
			t.Errorf("token %s: RotatedAt is zero after rotation", tok.ID)
		}
	}
	refreshEqual(t, c, refreshMustGet(t, s, c.FamilyID, c.ID))
}

func refreshTestRevokeFamily(t *testing.T, s store.RefreshTokenStore) {
	a := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, a)
	b := refreshSuccessor(a, refreshNow())
	refreshRotate(t, s, a, b, b.IssuedAt)
	sibling := refreshFixture(a.FamilyID, refreshNow()) // never rotated
	refreshCreate(t, s, sibling)
	other := refreshFixture(refreshID(), refreshNow())
	refreshCreate(t, s, other)

	now := refreshNow()
	if err := s.RevokeRefreshFamily(t.Context(), a.FamilyID, now.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeRefreshFamily: %v", err)
	}
	for _, tok := range []*store.RefreshToken{a, b, sibling} {
		refreshWantNotFound(t, s, tok.FamilyID, tok.ID)
		next := refreshSuccessor(tok, refreshNow())
		err := s.RotateRefreshToken(t.Context(), tok.FamilyID, tok.ID, next, refreshNow())
		refreshWantErr(t, "rotate in a revoked family", err, store.ErrNotFound)
		refreshWantNotFound(t, s, next.FamilyID, next.ID)
	}
	late := refreshFixture(a.FamilyID, refreshNow())
	refreshWantErr(t, "create in a revoked family", s.CreateRefreshToken(t.Context(), late), store.ErrNotFound)
	refreshWantNotFound(t, s, late.FamilyID, late.ID)

	refreshEqual(t, other, refreshMustGet(t, s, other.FamilyID, other.ID))
	refreshRotate(t, s, other, refreshSuccessor(other, now), now)
}

func refreshTestRevokeUnknown(t *testing.T, s store.RefreshTokenStore) {
	fam := refreshID()
	for range 2 { // and revoking twice is fine too
		if err := s.RevokeRefreshFamily(t.Context(), fam, refreshNow().Add(time.Hour)); err != nil {
			t.Fatalf("RevokeRefreshFamily(unknown): %v", err)
		}
	}
}

// refreshID returns a fresh random ID, so that subtests sharing a store
// never collide.
func refreshID() string {
	return rand.Text()
}

// refreshNow is the current time at the precision stores must keep.
func refreshNow() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// refreshFixture is a new, unrotated token of family, issued at now and
// valid for an hour, with every field set.
func refreshFixture(family string, now time.Time) *store.RefreshToken {
	return &store.RefreshToken{
		ID:             refreshID(),
		FamilyID:       family,
		ClientID:       "client-" + refreshID(),
		UserID:         "user-" + refreshID(),
		Scopes:         []string{"read", "write", "offline_access"},
		IssuedAt:       now,
		FamilyIssuedAt: now.Add(-3 * time.Hour),
		ExpiresAt:      now.Add(time.Hour),
		KeyThumbprint:  "jkt-" + refreshID(),
	}
}

// refreshSuccessor is the token a rotation of prev at now issues.
func refreshSuccessor(prev *store.RefreshToken, now time.Time) *store.RefreshToken {
	next := *prev
	next.ID = refreshID()
	next.Scopes = slices.Clone(prev.Scopes)
	next.IssuedAt = now
	next.ExpiresAt = now.Add(time.Hour)
	next.RotatedAt = time.Time{}
	return &next
}

func refreshCreate(t *testing.T, s store.RefreshTokenStore, tok *store.RefreshToken) {
	t.Helper()
	if err := s.CreateRefreshToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateRefreshToken(%s): %v", tok.ID, err)
	}
}

func refreshRotate(t *testing.T, s store.RefreshTokenStore, old, next *store.RefreshToken, now time.Time) {
	t.Helper()
	if err := s.RotateRefreshToken(t.Context(), old.FamilyID, old.ID, next, now); err != nil {
		t.Fatalf("RotateRefreshToken(%s): %v", old.ID, err)
	}
}

func refreshMustGet(t *testing.T, s store.RefreshTokenStore, family, id string) *store.RefreshToken {
	t.Helper()
	tok, err := s.GetRefreshToken(t.Context(), family, id)
	if err != nil {
		t.Fatalf("GetRefreshToken(%s): %v", id, err)
	}
	return tok
}

func refreshWantNotFound(t *testing.T, s store.RefreshTokenStore, family, id string) {
	t.Helper()
	tok, err := s.GetRefreshToken(t.Context(), family, id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRefreshToken(%s) = %+v, %v; want ErrNotFound", id, tok, err)
	}
}

func refreshWantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// refreshEqual compares every field; times by instant, scopes ignoring the
// nil/empty distinction.
func refreshEqual(t *testing.T, want, got *store.RefreshToken) {
	t.Helper()
	if got.ID != want.ID || got.FamilyID != want.FamilyID ||
		got.ClientID != want.ClientID || got.UserID != want.UserID ||
		!slices.Equal(got.Scopes, want.Scopes) ||
		!got.IssuedAt.Equal(want.IssuedAt) ||
		!got.FamilyIssuedAt.Equal(want.FamilyIssuedAt) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) ||
		!got.RotatedAt.Equal(want.RotatedAt) ||
		got.KeyThumbprint != want.KeyThumbprint {
		t.Errorf("refresh token mismatch:\n got %+v\nwant %+v", got, want)
	}
}
