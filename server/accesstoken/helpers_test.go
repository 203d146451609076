package accesstoken

import (
	"context"
	"crypto"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/store"
)

// keySet is a KeySource over a fixed set of keys.
type keySet map[string]*keys.Key

func (s keySet) PublicKey(kid string) (crypto.PublicKey, string, bool) {
	k, ok := s[kid]
	if !ok {
		return nil, "", false
	}
	return k.Public(), k.Algorithm, true
}

func newKey(t testing.TB, alg string) *keys.Key {
	t.Helper()
	k, err := keys.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var testNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

const testIssuer = "https://auth.example.com"

func testClaims() *Claims {
	return &Claims{
		Issuer:    testIssuer,
		Subject:   "tgc_client",
		Audience:  []string{"https://api.example.com"},
		ExpiresAt: testNow.Add(5 * time.Minute),
		IssuedAt:  testNow,
		ID:        "jti-1",
		ClientID:  "tgc_client",
		Scope:     []string{"read", "write:all"},
		Roles:     []string{"admin", "ops"},
		APIKeyID:  "tgk_id",
	}
}

func testOptions() VerifyOptions {
	return VerifyOptions{Issuer: testIssuer, Now: testNow.Add(time.Minute)}
}

// memStore is an in-memory store.SigningKeyStore so these tests can drive a
// real keys.Manager; the SQL store has its own contract tests.
type memStore struct {
	mu   sync.Mutex
	keys []store.SigningKey
}

func (s *memStore) CreateSigningKey(_ context.Context, k *store.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, *k)
	return nil
}

func (s *memStore) ListSigningKeys(context.Context) ([]store.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys), nil
}

func (s *memStore) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		if s.keys[i].ID == id {
			s.keys[i].RetiredAt = at
			return nil
		}
	}
	return store.ErrNotFound
}

func (s *memStore) DeleteSigningKey(context.Context, string) error { return store.ErrNotFound }

func newManager(t testing.TB, alg string) *keys.Manager {
	t.Helper()
	m, err := keys.New(&memStore{}, keys.Options{
		SealKey: make([]byte, 32), Algorithm: alg, Retain: time.Hour, Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// signRaw signs arbitrary header and payload JSON with k, for tokens Sign
// would refuse to make.
func signRaw(t testing.TB, k *keys.Key, header, payload string) string {
	t.Helper()
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	sig, err := k.AppendSignature(nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64.EncodeToString(sig)
}
