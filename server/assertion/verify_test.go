package assertion

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/store"
)

// memReplays is a ReplayStore for these unit tests; the real ones pass
// storetest.RunReplays.
type memReplays map[string]time.Time

func (m memReplays) UseOnce(_ context.Context, id string, until time.Time) (bool, error) {
	if t, ok := m[id]; ok && time.Now().Before(t) {
		return false, nil
	}
	m[id] = until
	return true, nil
}

// FuzzVerify: no assertion, however malformed, panics the verifier or is
// accepted without the client's key.
func FuzzVerify(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k"}}})
	c := &store.Client{ID: "c", AuthMethod: store.AuthPrivateKeyJWT, JWKS: set}
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	good, _ := jwt.Signed(s).Claims(jwt.Claims{Issuer: "c", Subject: "c", Audience: jwt.Audience{"a"}, Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute)), ID: "j"}).Serialize()
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("...")
	v := New(Options{Audiences: []string{"a"}, Replays: memReplays{}})
	f.Fuzz(func(t *testing.T, raw string) {
		_ = Subject(raw)
		err := v.Verify(context.Background(), c, raw)
		if err == nil && raw != good {
			// Only a token signed by priv could pass; a mutation that still
			// verifies must decode to the same claims.
			tok, perr := jwt.ParseSigned(raw, joseAlgorithms)
			var cl jwt.Claims
			if perr != nil || tok.Claims(pub, &cl) != nil {
				t.Fatalf("accepted %q without a valid signature", raw)
			}
		}
	})
}

// TestFetcherRefreshLimited: an unknown kid fetches the set again at once,
// but a storm of them costs the key host one fetch per MinRefresh; a
// failed fetch is not retried before then either.
func TestFetcherRefreshLimited(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k"}}})
	}))
	t.Cleanup(srv.Close)
	now := time.Now()
	f := NewFetcher(FetchOptions{Now: func() time.Time { return now }})
	ctx := context.Background()
	for _, step := range []struct {
		refresh  bool
		advance  time.Duration
		wantHits int32
	}{
		{false, 0, 1},                   // first fetch
		{false, 0, 1},                   // cached
		{true, 0, 2},                    // unknown kid: fetched again at once
		{true, time.Second, 2},          // within MinRefresh: not again
		{true, DefaultMinRefresh, 3},    // after it: again
		{false, DefaultCacheTTL + 1, 4}, // stale: fetched again
	} {
		now = now.Add(step.advance)
		if _, err := f.Keys(ctx, srv.URL, step.refresh); err != nil {
			t.Fatal(err)
		}
		if got := hits.Load(); got != step.wantHits {
			t.Fatalf("after refresh=%v +%s: %d fetches, want %d", step.refresh, step.advance, got, step.wantHits)
		}
	}
	// A failing host: the last good set is served, and not hammered.
	fail.Store(true)
	now = now.Add(DefaultCacheTTL + 1)
	for range 3 {
		if _, err := f.Keys(ctx, srv.URL, true); err != nil {
			t.Fatalf("a failed fetch with a set in hand: %v", err)
		}
	}
	if got := hits.Load(); got != 5 {
		t.Fatalf("failing host fetched %d times, want 5", got)
	}
}
