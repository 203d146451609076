package examples

// Tokens Tollgate never issues (another typ, expired, alg none, no exp)
// cannot come from the real server, or only after a minute's wait: a
// client's access-token lifetime is at least 1m. This issuer signs them
// with its own Ed25519 key and serves that key as its JWKS, so the
// recipes' own checks are what refuses them.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type issuer struct {
	URL string
	key ed25519.PrivateKey
}

func startIssuer(t *testing.T) *issuer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "kid": "test-1", "alg": "EdDSA", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(pub),
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return &issuer{URL: srv.URL, key: priv}
}

// sign returns header.claims.signature; an alg of "none" gets an empty
// signature.
func (is *issuer) sign(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	if header["alg"] == "none" {
		return input + "."
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(is.key, []byte(input)))
}

// TestRecipeClaims checks typ, exp, iss and alg handling with tokens the
// real Tollgate would never sign. The recipes run with their default
// leeway (30 s).
func TestRecipeClaims(t *testing.T) {
	is := startIssuer(t)
	now := time.Now().Unix()
	at := map[string]any{"alg": "EdDSA", "kid": "test-1", "typ": "at+jwt"}
	claims := func(change map[string]any) map[string]any {
		c := map[string]any{"iss": is.URL, "sub": "s-1", "aud": audience, "iat": now, "exp": now + 300,
			"jti": "j-1", "client_id": "tgc_test", "scope": "notes:read"}
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	with := func(k string, v any) map[string]any {
		h := map[string]any{}
		for hk, hv := range at {
			h[hk] = hv
		}
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	bearer := func(h, c map[string]any) string { return "Bearer " + is.sign(t, h, c) }
	invalid := `Bearer error="invalid_token",`
	checks := []check{
		{name: "control: a fresh at+jwt", auth: bearer(at, claims(nil)), status: 200, field: "user_id", value: "s-1"},
		{name: "typ with the application/ prefix (RFC 7515 §4.1.9)", auth: bearer(with("typ", "application/at+jwt"), claims(nil)),
			status: 200, field: "user_id", value: "s-1"},
		{name: "aud as an array holding the audience", auth: bearer(at, claims(map[string]any{"aud": []string{"x", audience}})),
			status: 200, field: "user_id", value: "s-1"},
		{name: "expired within the leeway", auth: bearer(at, claims(map[string]any{"exp": now - 5})),
			status: 200, field: "user_id", value: "s-1"},
		{name: "typ JWT, e.g. an ID token (RFC 9068 §4)", auth: bearer(with("typ", "JWT"), claims(nil)), status: 401, challenge: invalid},
		{name: "no typ", auth: bearer(with("typ", nil), claims(nil)), status: 401, challenge: invalid},
		{name: "expired", auth: bearer(at, claims(map[string]any{"exp": now - 120})), status: 401, challenge: invalid},
		{name: "no exp", auth: bearer(at, claims(map[string]any{"exp": nil})), status: 401, challenge: invalid},
		{name: "another issuer", auth: bearer(at, claims(map[string]any{"iss": "https://evil.example"})), status: 401, challenge: invalid},
		{name: "no aud", auth: bearer(at, claims(map[string]any{"aud": nil})), status: 401, challenge: invalid},
		{name: "alg none", auth: bearer(with("alg", "none"), claims(nil)), status: 401, challenge: invalid},
		{name: "unknown kid", auth: bearer(with("kid", "test-2"), claims(nil)), status: 401, challenge: invalid},
		{name: "no scope claim", auth: bearer(at, claims(map[string]any{"scope": nil})),
			status: 403, challenge: `Bearer error="insufficient_scope", scope="notes:read"`},
	}
	for i := range checks {
		checks[i].method, checks[i].path = "GET", "/api/me"
	}
	for _, r := range recipes {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			base := startRecipe(t, r, "NOTES_ISSUER="+is.URL, "NOTES_AUDIENCE="+audience)
			runChecks(t, base, checks)
		})
	}
}
