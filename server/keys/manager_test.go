package keys

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

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

func newTestManager(t *testing.T, st store.SigningKeyStore, sealKey []byte, c *clock) *Manager {
	t.Helper()
	m, err := New(st, Options{SealKey: sealKey, PrePublish: testPrePublish, Retain: testRetain, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// jwksKIDs parses the manager's JWKS with go-jose and returns its key IDs.
func jwksKIDs(t *testing.T, m *Manager) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatalf("JWKS %s does not parse: %v", m.JWKS(), err)
	}
	var ids []string
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() || k.Use != "sig" {
			t.Fatalf("JWK %s is not a valid public signing key", k.KeyID)
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

func signerID(t *testing.T, m *Manager) string {
	t.Helper()
	k, err := m.Signer()
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	tests := map[string]Options{
		"no seal key":     {Retain: time.Hour},
		"short seal key":  {SealKey: key[:16], Retain: time.Hour},
		"bad algorithm":   {SealKey: key, Retain: time.Hour, Algorithm: "RS256"},
		"no retain":       {SealKey: key},
		"negative prepub": {SealKey: key, Retain: time.Hour, PrePublish: -time.Second},
	}
	for name, opts := range tests {
		if _, err := New(newMemStore(), opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := New(newMemStore(), Options{SealKey: key, Retain: time.Hour}); err != nil {
		t.Errorf("minimal options: %v", err)
	}
}

func TestFirstLoadGeneratesOneKey(t *testing.T) {
	t.Parallel()
	st, sealKey, c := newMemStore(), testSealKey(t), newClock()
	m, err := New(st, Options{SealKey: sealKey, Retain: testRetain, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Signer(); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("Signer before Load = %v, want ErrNoSigner", err)
	}
	if string(m.JWKS()) != `{"keys":[]}` {
		t.Fatalf("JWKS before Load = %s", m.JWKS())
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, _ := st.ListSigningKeys(context.Background())
	if len(rows) != 1 {
		t.Fatalf("store has %d keys after first Load, want 1", len(rows))
	}
	if rows[0].Algorithm != EdDSA || !rows[0].ActiveAt.Equal(c.Now()) || !rows[0].RetiredAt.IsZero() {
		t.Fatalf("first key %+v: want EdDSA, active now, not retired", rows[0])
	}
	if signerID(t, m) != rows[0].ID {
		t.Fatal("the first key does not sign")
	}
	keys := m.Keys()
	if len(keys) != 1 || keys[0].PrivateKey != nil || keys[0].ID != rows[0].ID {
		t.Fatalf("Keys() = %+v: want the one key without private material", keys)
	}

	again := newTestManager(t, st, sealKey, c) // a restart
	if rows, _ := st.ListSigningKeys(context.Background()); len(rows) != 1 {
		t.Fatalf("a second Load created a key: %d stored", len(rows))
	}
	if signerID(t, again) != rows[0].ID {
		t.Fatal("after restart another key signs")
	}
}

func TestLoadWithWrongMasterKey(t *testing.T) {
	t.Parallel()
	st, c := newMemStore(), newClock()
	newTestManager(t, st, testSealKey(t), c)
	m, err := New(st, Options{SealKey: testSealKey(t), Retain: testRetain, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); !errors.Is(err, ErrUnseal) {
		t.Fatalf("Load with another master key = %v, want ErrUnseal", err)
	}
	if rows, _ := st.ListSigningKeys(context.Background()); len(rows) != 1 {
		t.Fatalf("Load with a wrong key generated a replacement: %d stored", len(rows))
	}
}

func TestRotateLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, c := newMemStore(), newClock()
	m := newTestManager(t, st, testSealKey(t), c)
	old := signerID(t, m)

	c.Advance(time.Minute)
	rotatedAt := c.Now()
	next, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.PrivateKey != nil || !next.ActiveAt.Equal(rotatedAt.Add(testPrePublish)) {
		t.Fatalf("Rotate = %+v: want no private key, ActiveAt = now + PrePublish", next)
	}

	steps := []struct {
		at      time.Duration // after rotatedAt
		signer  string
		jwks    []string
		verifys []string
	}{
		{0, old, sorted(old, next.ID), []string{old, next.ID}},
		{testPrePublish - time.Nanosecond, old, sorted(old, next.ID), []string{old, next.ID}},
		{testPrePublish, next.ID, sorted(old, next.ID), []string{old, next.ID}},
		{testPrePublish + testRetain - time.Nanosecond, next.ID, sorted(old, next.ID), []string{old, next.ID}},
		{testPrePublish + testRetain, next.ID, []string{next.ID}, []string{next.ID}},
	}
	for _, s := range steps {
		c.Advance(rotatedAt.Add(s.at).Sub(c.Now()))
		if got := signerID(t, m); got != s.signer {
			t.Errorf("at +%v: signer %s, want %s", s.at, got, s.signer)
		}
		if got := jwksKIDs(t, m); !slices.Equal(got, s.jwks) {
			t.Errorf("at +%v: JWKS %v, want %v", s.at, got, s.jwks)
		}
		for _, kid := range []string{old, next.ID} {
			_, alg, ok := m.PublicKey(kid)
			if want := slices.Contains(s.verifys, kid); ok != want || (ok && alg != EdDSA) {
				t.Errorf("at +%v: PublicKey(%s) = %q, %v; want %v", s.at, kid, alg, ok, want)
			}
		}
	}
	var stored store.SigningKey
	for _, k := range m.Keys() {
		if k.ID == old {
			stored = k
		}
	}
	if !stored.RetiredAt.Equal(next.ActiveAt) {
		t.Errorf("old key RetiredAt = %v, want the new key's ActiveAt %v", stored.RetiredAt, next.ActiveAt)
	}
	if len(m.Keys()) != 2 {
		t.Errorf("Keys() lists %d keys, want both (history stays in the store)", len(m.Keys()))
	}
}

func TestJWKSCachedUntilSetChanges(t *testing.T) {
	st, c := newMemStore(), newClock()
	m := newTestManager(t, st, testSealKey(t), c)
	a := m.JWKS()
	c.Advance(time.Hour)
	if b := m.JWKS(); &a[0] != &b[0] {
		t.Error("JWKS recomputed although the key set did not change")
	}
	if _, err := m.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := m.JWKS(); &a[0] == &b[0] || len(jwksKIDs(t, m)) != 2 {
		t.Error("JWKS not recomputed after a rotation")
	}
	if n := testing.AllocsPerRun(100, func() { m.JWKS() }); n != 0 {
		t.Errorf("cached JWKS allocates %v times", n)
	}
}

func TestES256Manager(t *testing.T) {
	t.Parallel()
	m, err := New(newMemStore(), Options{SealKey: testSealKey(t), Algorithm: ES256, Retain: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	k, err := m.Signer()
	if err != nil || k.Algorithm != ES256 {
		t.Fatalf("Signer = %v, %v; want an ES256 key", k, err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", m.JWKS(), err)
	}
	jwk := set.Keys[0]
	if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["alg"] != ES256 || jwk["kid"] != k.ID || jwk["use"] != "sig" || jwk["d"] != nil {
		t.Fatalf("JWK %v: want a public EC P-256 ES256 signing key", jwk)
	}
	if pub, alg, ok := m.PublicKey(k.ID); !ok || alg != ES256 {
		t.Fatalf("PublicKey = %T, %q, %v", pub, alg, ok)
	} else if _, isEC := pub.(*ecdsa.PublicKey); !isEC {
		t.Fatalf("PublicKey is %T, want *ecdsa.PublicKey", pub)
	}
}

func TestEdDSAJWK(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, newMemStore(), testSealKey(t), newClock())
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", m.JWKS(), err)
	}
	jwk := set.Keys[0]
	if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" || jwk["alg"] != EdDSA || jwk["use"] != "sig" || jwk["d"] != nil {
		t.Fatalf("JWK %v: want a public OKP Ed25519 EdDSA signing key", jwk)
	}
	k, _ := m.Signer()
	if pub, _, _ := m.PublicKey(k.ID); !pub.(ed25519.PublicKey).Equal(k.Public()) {
		t.Fatal("PublicKey differs from the signer's")
	}
}
