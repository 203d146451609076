package encryption

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// TestRotationKeepsOldTokensUntilRetention follows one rotation: the new
// key is fetchable at once but used only after PrePublish; tokens
// encrypted to the old key decrypt until its retention ends, and Load
// then deletes it.
func TestRotationKeepsOldTokensUntilRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, c := ringWith(t, store.KeyECDHES)
	const aud = store.KeyECDHES
	k1 := currentKID(t, r, aud)
	jws := signedToken(t, aud)
	old, err := r.Encrypt(aud, jws)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := r.RotateKey(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if k2.PrivateKey != nil || k2.ActiveAt != c.Now().Add(testPrePublish) {
		t.Fatalf("RotateKey returned private material or ActiveAt %v", k2.ActiveAt)
	}
	steps := []struct {
		name     string
		advance  time.Duration
		current  string
		jwks     []string
		states   map[string]string
		decrypts bool
	}{
		{"pre-published", 0, k1, sorted(k1, k2.ID), map[string]string{k1: StateActive, k2.ID: StatePending}, true},
		{"handed over", testPrePublish, k2.ID, sorted(k1, k2.ID), map[string]string{k1: StateRetiring, k2.ID: StateActive}, true},
		{"last second of retention", testRetain - time.Second, k2.ID, sorted(k1, k2.ID), map[string]string{k1: StateRetiring, k2.ID: StateActive}, true},
		{"retention over", time.Second, k2.ID, []string{k2.ID}, map[string]string{k2.ID: StateActive}, false},
	}
	for _, s := range steps {
		c.Advance(s.advance)
		if got := currentKID(t, r, aud); got != s.current {
			t.Errorf("%s: tokens encrypted to %s, want %s", s.name, got, s.current)
		}
		if got := jwksIDs(t, r.DecryptionJWKS([]string{aud})); !slices.Equal(got, s.jwks) {
			t.Errorf("%s: DecryptionJWKS = %v, want %v", s.name, got, s.jwks)
		}
		states := make(map[string]string)
		for _, k := range r.Keys(aud) {
			states[k.ID] = k.State
		}
		if !mapsEqual(states, s.states) {
			t.Errorf("%s: Keys states = %v, want %v", s.name, states, s.states)
		}
		_, _, err := r.Decrypt(ctx, old)
		if (err == nil) != s.decrypts {
			t.Errorf("%s: old token decrypts = %v (%v), want %v", s.name, err == nil, err, s.decrypts)
		}
	}
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := st.keyIDs(); !slices.Equal(got, []string{k2.ID}) {
		t.Fatalf("stored keys after Load = %v, want only %s: the expired key was not deleted", got, k2.ID)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

type fixedLifetimes struct{ longest time.Duration }

func (f fixedLifetimes) Lifetimes(context.Context) (store.LifetimeMarks, error) {
	return store.LifetimeMarks{Longest: f.longest}, nil
}

// TestRetentionFollowsLongestLifetime: a token issued with a lifetime
// longer than Retain still decrypts until it expires.
func TestRetentionFollowsLongestLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, c := newMemStore(), newClock()
	const longest, skew = 5 * time.Hour, time.Minute
	r, err := New(st, Options{SealKey: testSealKey(t), PrePublish: 0, Retain: testRetain, ClockSkew: skew,
		Lifetimes: fixedLifetimes{longest}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CreateAudience(ctx, &store.Audience{Name: "api", Encrypted: true}); err != nil {
		t.Fatal(err)
	}
	old, err := r.Encrypt("api", signedToken(t, "api"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.RotateKey(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	c.Advance(longest + skew - time.Second)
	if _, _, err := r.Decrypt(ctx, old); err != nil {
		t.Fatalf("a token within the longest lifetime no longer decrypts: %v", err)
	}
	c.Advance(time.Second)
	if _, _, err := r.Decrypt(ctx, old); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("Decrypt after the longest lifetime = %v, want ErrUndecryptable", err)
	}
}

func TestRingsConvergeAfterLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, sealKey, c := newMemStore(), testSealKey(t), newClock()
	a, b := newTestRing(t, st, sealKey, c), newTestRing(t, st, sealKey, c)
	if err := a.CreateAudience(ctx, &store.Audience{Name: "api", Encrypted: true}); err != nil {
		t.Fatal(err)
	}
	if b.Encrypted("api") {
		t.Fatal("b saw the new audience before Load")
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Encrypted("api") || currentKID(t, a, "api") != currentKID(t, b, "api") {
		t.Fatal("after Load, b does not encrypt to a's key")
	}
	next, err := a.RotateKey(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(jwksIDs(t, b.DecryptionJWKS([]string{"api"})), next.ID) {
		t.Fatal("b had the rotated-in key before Load")
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	c.Advance(testPrePublish)
	if currentKID(t, a, "api") != next.ID || currentKID(t, b, "api") != next.ID {
		t.Fatal("the rings do not both hand over to the new key at its ActiveAt")
	}
	if string(a.DecryptionJWKS([]string{"api"})) != string(b.DecryptionJWKS([]string{"api"})) {
		t.Fatal("the rings serve different key sets")
	}
	for _, pair := range [][2]*Ring{{a, b}, {b, a}} {
		tok, err := pair[0].Encrypt("api", signedToken(t, "api"))
		if err != nil {
			t.Fatal(err)
		}
		if _, aud, err := pair[1].Decrypt(ctx, tok); err != nil || aud != "api" {
			t.Fatalf("a token of one ring does not decrypt on the other: %v", err)
		}
	}
}

// TestUnknownKidReloadIsRateLimited: a key another node just made is found
// on first sight, but made-up kids reload at most once a second.
func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, sealKey, c := newMemStore(), testSealKey(t), newClock()
	a, b := newTestRing(t, st, sealKey, c), newTestRing(t, st, sealKey, c)
	encryptedOn := func(aud string) string {
		t.Helper()
		if err := a.CreateAudience(ctx, &store.Audience{Name: aud, Encrypted: true}); err != nil {
			t.Fatal(err)
		}
		tok, err := a.Encrypt(aud, signedToken(t, aud))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tokX := encryptedOn("x")
	if _, aud, err := b.Decrypt(ctx, tokX); err != nil || aud != "x" {
		t.Fatalf("a key another node just made is unknown here: %v", err)
	}
	// A well-formed token of a ring on another store: a kid nobody here knows.
	other, _, _ := ringWith(t, store.KeyECDHES)
	madeUp, err := other.Encrypt(store.KeyECDHES, signedToken(t, store.KeyECDHES))
	if err != nil {
		t.Fatal(err)
	}
	tokY := encryptedOn("y")
	before := st.lists.Load() // b's reloads from here on
	for range 50 {
		assertUndecryptable(t, b, madeUp, "unknown or expired kid")
	}
	assertUndecryptable(t, b, tokY, "unknown or expired kid")
	if n := st.lists.Load() - before; n != 0 {
		t.Fatalf("made-up kids reloaded %d times within a second of the last reload", n)
	}
	c.Advance(missReloadEvery)
	if _, _, err := b.Decrypt(ctx, tokY); err != nil {
		t.Fatalf("no reload once the rate limit passed: %v", err)
	}
	if n := st.lists.Load() - before; n != 1 {
		t.Fatalf("%d reloads, want 1", n)
	}
}
