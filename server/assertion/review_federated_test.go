package assertion

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/store"
)

// issuerMap is an IssuerSource for these unit tests; the real ones pass
// storetest's issuer suite.
type issuerMap map[string]*store.TrustedIssuer

func (m issuerMap) GetIssuer(_ context.Context, name string) (*store.TrustedIssuer, error) {
	if i, ok := m[name]; ok {
		return i, nil
	}
	return nil, store.ErrNotFound
}

// federation is a trusted issuer with a static key set, and a signer of
// its tokens.
type federation struct {
	v    *Verifier
	sign func(t testing.TB, claims map[string]any) string
}

func newFederation(t testing.TB) federation {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "sa-1"}}})
	iss := &store.TrustedIssuer{Name: "ci", Issuer: "https://ci.example", JWKS: set, Audience: "tollgate", MaxLifetime: time.Hour}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", "sa-1"))
	if err != nil {
		t.Fatal(err)
	}
	return federation{
		v: New(Options{Audiences: []string{"https://tollgate.example/oauth2/token"}, Replays: memReplays{}, Issuers: issuerMap{"ci": iss}}),
		sign: func(t testing.TB, claims map[string]any) string {
			t.Helper()
			base := map[string]any{"iss": "https://ci.example", "sub": "repo:org/app:ref:refs/heads/main", "aud": "tollgate", "exp": time.Now().Add(10 * time.Minute).Unix()}
			for k, v := range claims {
				base[k] = v
			}
			tok, err := jwt.Signed(s).Claims(base).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			return tok
		},
	}
}

// TestFederatedClaimConditions: a claim condition holds only for a token
// that has the claim with that value. A missing claim is not the empty
// string (a --federated-claim environment= from an unset shell variable
// must not bind every token without an environment), nor is a
// non-string claim the string that merely looks like it; and a number
// compares exactly, not as the nearest float64 (IDs beyond 2^53).
func TestFederatedClaimConditions(t *testing.T) {
	t.Parallel()
	fed := newFederation(t)
	tests := []struct {
		name   string
		want   map[string]string
		claims map[string]any
		ok     bool
	}{
		{"string equal", map[string]string{"repository": "org/app"}, map[string]any{"repository": "org/app"}, true},
		{"string differs", map[string]string{"repository": "org/app"}, map[string]any{"repository": "org/evil"}, false},
		{"empty value, claim absent", map[string]string{"environment": ""}, map[string]any{}, false},
		{"empty value, claim null", map[string]string{"environment": ""}, map[string]any{"environment": nil}, false},
		{"empty value, claim empty", map[string]string{"environment": ""}, map[string]any{"environment": ""}, true},
		{"bool as its JSON", map[string]string{"ref_protected": "true"}, map[string]any{"ref_protected": true}, true},
		{"number as its JSON", map[string]string{"run_attempt": "42"}, map[string]any{"run_attempt": 42}, true},
		{"large number exact", map[string]string{"repository_id": "9007199254740993"}, map[string]any{"repository_id": json.Number("9007199254740993")}, true},
		{"large number, neighbour", map[string]string{"repository_id": "9007199254740992"}, map[string]any{"repository_id": json.Number("9007199254740993")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &store.Client{ID: "deploy", AuthMethod: store.AuthPrivateKeyJWT, FederatedIssuer: "ci",
				FederatedSubject: "repo:org/app:ref:refs/heads/main", FederatedClaims: tc.want}
			err := fed.v.Verify(context.Background(), c, fed.sign(t, tc.claims))
			if (err == nil) != tc.ok {
				t.Fatalf("Verify: err = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "claim") {
				t.Fatalf("Verify: err = %v, want a claim mismatch", err)
			}
		})
	}
}

// FuzzVerifyFederated: no external token, however malformed, panics the
// federated checks (claims decoded into a map, claim conditions on any
// JSON type), and none passes without the issuer's signature.
func FuzzVerifyFederated(f *testing.F) {
	fed := newFederation(f)
	good := fed.sign(f, map[string]any{"repository": "org/app", "n": []any{1, "x", nil, map[string]any{"a": true}}})
	f.Add(good)
	f.Add(fed.sign(f, map[string]any{"repository": nil}))
	f.Add(fed.sign(f, map[string]any{"exp": 1e300, "nbf": -1e300}))
	f.Add("eyJhbGciOiJFZERTQSIsImtpZCI6InNhLTEifQ.e30.")
	c := &store.Client{ID: "deploy", AuthMethod: store.AuthPrivateKeyJWT, FederatedIssuer: "ci",
		FederatedSubject: "repo:org/*", FederatedClaims: map[string]string{"repository": "org/app"}}
	f.Fuzz(func(t *testing.T, raw string) {
		if fed.v.Verify(context.Background(), c, raw) != nil || raw == good {
			return
		}
		// Accepted: it must verify under the issuer's key.
		tok, err := jwt.ParseSigned(raw, joseAlgorithms)
		if err != nil {
			t.Fatalf("accepted a token go-jose cannot parse: %q", raw)
		}
		set, _ := ParseIssuerKeys(fed.v.opts.Issuers.(issuerMap)["ci"].JWKS)
		var cl jwt.Claims
		if tok.Claims(set[0].Key, &cl) != nil {
			t.Fatalf("accepted %q without the issuer's signature", raw)
		}
	})
}
