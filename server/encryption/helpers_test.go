package encryption

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/store"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	testPrePublish = time.Hour
	testRetain     = 2 * time.Hour
)

func testSealKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func newTestRing(t testing.TB, st store.AudienceStore, sealKey []byte, c *clock) *Ring {
	t.Helper()
	r, err := New(st, Options{SealKey: sealKey, PrePublish: testPrePublish, Retain: testRetain, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// ringWith returns a loaded ring on a fresh store holding one encrypted
// audience per algorithm given, named after it.
func ringWith(t testing.TB, algs ...string) (*Ring, *memStore, *clock) {
	t.Helper()
	st, c := newMemStore(), newClock()
	r := newTestRing(t, st, testSealKey(t), c)
	for _, alg := range algs {
		if err := r.CreateAudience(context.Background(), &store.Audience{Name: alg, Encrypted: true, KeyAlgorithm: alg}); err != nil {
			t.Fatal(err)
		}
	}
	return r, st, c
}

// signedToken returns a real Tollgate access token (EdDSA JWS) for aud,
// about 450 bytes long like a typical client_credentials token.
func signedToken(t testing.TB, aud string) string {
	t.Helper()
	k, err := keys.GenerateKey(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := accesstoken.Sign(k, &accesstoken.Claims{
		Issuer: "https://auth.example.com", Subject: "tgc_4Qw9sK2mXr7LpV3nZ8bT1c", Audience: []string{aud},
		ExpiresAt: now.Add(15 * time.Minute), IssuedAt: now, ID: accesstoken.NewJTI(),
		ClientID: "tgc_4Qw9sK2mXr7LpV3nZ8bT1c", Scope: []string{"orders:read", "orders:write"},
		Roles: []string{"billing"}, Extra: []byte(`{"tenant":"acme-eu-1","risk":0.12}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwks parses a DecryptionJWKS document with go-jose.
func jwks(t testing.TB, doc []byte) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWK Set %d bytes does not parse: %v", len(doc), err)
	}
	return set
}

// jwksIDs returns the sorted kids of a DecryptionJWKS document, checking
// that every key is a valid private encryption key.
func jwksIDs(t testing.TB, doc []byte) []string {
	t.Helper()
	var ids []string
	for _, k := range jwks(t, doc).Keys {
		if !k.Valid() || k.IsPublic() || k.Use != "enc" || k.Algorithm == "" {
			t.Fatalf("JWK %s is not a valid private encryption key with alg", k.KeyID)
		}
		ids = append(ids, k.KeyID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// currentKID returns the kid of the key Encrypt uses for aud now.
func currentKID(t testing.TB, r *Ring, aud string) string {
	t.Helper()
	tok, err := r.Encrypt(aud, signedToken(t, aud))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseEncryptedCompact(tok, keyAlgorithms, contentAlgorithms)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Header.KeyID
}

func keyIDs(infos []KeyInfo) []string {
	var ids []string
	for _, k := range infos {
		ids = append(ids, k.ID)
	}
	slices.Sort(ids)
	return ids
}
