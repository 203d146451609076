package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// testKey is a client's key pair, signed with go-jose directly: nothing
// of Tollgate's own signing code is involved.
type testKey struct {
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
	kid  string
}

func newEd25519Key(t *testing.T, kid string) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: priv, alg: jose.EdDSA, kid: kid}
}

func newRSAKey(t *testing.T, kid string, bits int) testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: priv, alg: jose.RS256, kid: kid}
}

// jwks is the public JWK Set of keys.
func jwks(t *testing.T, keys ...testKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign makes a JWT with claims, signed by k.
func (k testKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// assertionClaims are good private_key_jwt claims for client id.
func assertionClaims(id, aud string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": id, "sub": id, "aud": aud, "jti": randHex(16),
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	}
}

// createKeyClient creates a private_key_jwt client with the CLI.
func (e *testEnv) createKeyClient(name string, args ...string) string {
	e.t.Helper()
	out := e.mustCLI("", append([]string{"client", "create", "--json", "--name", name, "--scopes", "tollgate:introspect"}, args...)...)
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Method       string `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || c.ClientSecret != "" || c.Method != "private_key_jwt" {
		e.t.Fatalf("client create printed %q (%v)", out, err)
	}
	return c.ClientID
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertionForm is a client_credentials request authenticated by a.
func assertionForm(a string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {jwtBearer}, "client_assertion": {a}}
}

// wantInvalidClient checks r is 401 invalid_client whose description
// contains why.
func wantInvalidClient(t *testing.T, what string, r response, why string) {
	t.Helper()
	desc, _ := r.body["error_description"].(string)
	if r.status != http.StatusUnauthorized || r.body["error"] != "invalid_client" || !strings.Contains(desc, why) {
		t.Errorf("%s: %d %s, want 401 invalid_client mentioning %q", what, r.status, r.raw, why)
	}
}

// TestPrivateKeyJWT: a client registered with its public keys gets tokens
// with assertions signed by go-jose, at the token, introspection and
// revocation endpoints; every bad assertion of RFC 7523 §3 is
// invalid_client naming the failed check; a secret never works for it.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			key := newEd25519Key(t, "k1")
			id := e.createKeyClient("signer", "--jwks-file", writeFile(t, "jwks.json", jwks(t, key)))
			tokenURL := e.vars["TOLLGATE_ISSUER"] + "/oauth2/token"

			good := key.sign(t, assertionClaims(id, tokenURL))
			r := e.post("/oauth2/token", assertionForm(good), nil)
			if r.status != http.StatusOK || r.body["access_token"] == nil {
				t.Fatalf("good assertion: %d %s", r.status, r.raw)
			}
			at := r.body["access_token"].(string)
			wantInvalidClient(t, "replayed jti", e.post("/oauth2/token", assertionForm(good), nil), "already used")

			// client_id may be sent too; the issuer is an accepted aud.
			f := assertionForm(key.sign(t, assertionClaims(id, e.vars["TOLLGATE_ISSUER"])))
			f.Set("client_id", id)
			if r := e.post("/oauth2/token", f, nil); r.status != http.StatusOK {
				t.Errorf("aud = issuer with client_id: %d %s", r.status, r.raw)
			}

			// Introspection and revocation take assertions too.
			in := url.Values{"token": {at}, "client_assertion_type": {jwtBearer}, "client_assertion": {key.sign(t, assertionClaims(id, tokenURL))}}
			if r := e.post("/oauth2/introspect", in, nil); r.status != http.StatusOK || r.body["active"] != true {
				t.Errorf("introspect: %d %s", r.status, r.raw)
			}
			in.Set("client_assertion", key.sign(t, assertionClaims(id, e.vars["TOLLGATE_ISSUER"]+"/oauth2/revoke")))
			if r := e.post("/oauth2/revoke", in, nil); r.status != http.StatusOK {
				t.Errorf("revoke: %d %s", r.status, r.raw)
			}

			other := newEd25519Key(t, "k1")
			now := time.Now()
			mod := func(f func(c map[string]any)) func(id string) string {
				return func(id string) string {
					c := assertionClaims(id, tokenURL)
					f(c)
					return key.sign(t, c)
				}
			}
			hsTok := func(id string) string {
				hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(key.priv.Public().(ed25519.PublicKey))}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
				if err != nil {
					t.Fatal(err)
				}
				tok, _ := jwt.Signed(hs).Claims(assertionClaims(id, tokenURL)).Serialize()
				return tok
			}
			noneTok := func(id string) string {
				return b64JSON(map[string]any{"alg": "none", "kid": "k1"}) + "." + b64JSON(assertionClaims(id, tokenURL)) + "."
			}
			unknownKid := key
			unknownKid.kid = "k2"
			signedBy := func(k testKey) func(string) string {
				return func(id string) string { return k.sign(t, assertionClaims(id, tokenURL)) }
			}
			bad := []struct {
				name      string
				assertion func(id string) string
				why       string
			}{
				{"wrong aud", mod(func(c map[string]any) { c["aud"] = "https://elsewhere.example/token" }), "aud"},
				{"missing aud", mod(func(c map[string]any) { delete(c, "aud") }), "aud"},
				{"expired", mod(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), "expired"},
				{"missing exp", mod(func(c map[string]any) { delete(c, "exp") }), "exp is required"},
				{"exp too far ahead", mod(func(c map[string]any) { c["exp"] = now.Add(time.Hour).Unix() }), "ahead"},
				{"iat in the future", mod(func(c map[string]any) { c["iat"] = now.Add(2 * time.Minute).Unix() }), "iat"},
				{"nbf in the future", mod(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), "nbf"},
				{"missing jti", mod(func(c map[string]any) { delete(c, "jti") }), "jti"},
				{"iss not the client", mod(func(c map[string]any) { c["iss"] = "someone" }), "iss"},
				{"alg none", noneTok, "none"},
				{"HS256 keyed with the public key", hsTok, "HMAC"},
				{"unknown kid", signedBy(unknownKid), "kid"},
				{"another key", signedBy(other), "signature"},
				{"not a JWT", func(string) string { return "abc.def" }, "signed JWT"},
			}
			// A few clients, so that the failure budget (10 per client and
			// address) does not lock the checks out.
			var cid string
			for i, tc := range bad {
				if i%8 == 0 {
					cid = e.createKeyClient("bad"+randHex(4), "--jwks-file", writeFile(t, "jwks.json", jwks(t, key)))
				}
				f := assertionForm(tc.assertion(cid))
				f.Set("client_id", cid)
				wantInvalidClient(t, tc.name, e.post("/oauth2/token", f, nil), tc.why)
			}
			// The client has no secret to fall back on.
			wantInvalidClient(t, "a secret for a private_key_jwt client", e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, "tgs_guess")), "client authentication failed")
			// A secret client may not send assertions.
			sid, _ := e.newClient("--name", "secret-client")
			wantInvalidClient(t, "assertion for a secret client", e.post("/oauth2/token", assertionForm(key.sign(t, assertionClaims(sid, tokenURL))), nil), "private_key_jwt")

			if b == postgresRedis {
				// Replay across two nodes sharing Redis.
				n2 := e.node()
				n2.start()
				a := key.sign(t, assertionClaims(id, tokenURL))
				if r := n2.post("/oauth2/token", assertionForm(a), nil); r.status != http.StatusOK {
					t.Fatalf("node 2: %d %s", r.status, r.raw)
				}
				wantInvalidClient(t, "replay to node 1", e.post("/oauth2/token", assertionForm(a), nil), "already used")
			}
		})
	}
}

func b64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestPrivateKeyJWTBudget: failed assertions count against the client's
// failure budget like wrong secrets: after eleven, even a good one is
// locked out.
func TestPrivateKeyJWTBudget(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	key := newEd25519Key(t, "k1")
	id := e.createKeyClient("budgeted", "--jwks-file", writeFile(t, "jwks.json", jwks(t, key)))
	wrong := newEd25519Key(t, "k1")
	for range 11 {
		wantInvalidClient(t, "wrong key", e.post("/oauth2/token", assertionForm(wrong.sign(t, assertionClaims(id, e.vars["TOLLGATE_ISSUER"]))), nil), "signature")
	}
	r := e.post("/oauth2/token", assertionForm(key.sign(t, assertionClaims(id, e.vars["TOLLGATE_ISSUER"]))), nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 10 failures: %d %s, want 429 with Retry-After", r.status, r.raw)
	}
}

// TestPrivateKeyJWTKeysURI: keys fetched from a jwks_uri: an RSA key is
// accepted, a key added at the URI is found by its new kid, and an
// answer that is slow, huge, not JSON or holds a small RSA key is
// invalid_client, never a 500 or a hang.
func TestPrivateKeyJWTKeysURI(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_JWKS_FETCH_TIMEOUT"] = "300ms"
	e.start()
	rsaKey := newRSAKey(t, "r1", 2048)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecKey := testKey{priv: ecPriv, alg: jose.ES256, kid: "e1"}
	small := newRSAKey(t, "small", 1024)
	published := jwks(t, rsaKey)
	release := make(chan struct{})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good":
			w.Header().Set("Content-Type", "application/json")
			w.Write(published)
		case "/small":
			w.Header().Set("Content-Type", "application/json")
			w.Write(jwks(t, small))
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>keys</html>"))
		case "/huge":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 200<<10) + `]}`))
		case "/slow":
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
	}))
	t.Cleanup(keys.Close)
	// Cleanups run last first: the slow handler is released, then the
	// server closed.
	t.Cleanup(func() { close(release) })
	iss := e.vars["TOLLGATE_ISSUER"]

	id := e.createKeyClient("uri", "--jwks-uri", keys.URL+"/good")
	if r := e.post("/oauth2/token", assertionForm(rsaKey.sign(t, assertionClaims(id, iss))), nil); r.status != http.StatusOK {
		t.Fatalf("RS256 from jwks_uri: %d %s", r.status, r.raw)
	}
	// Rotation at the URI: the new kid makes the set be fetched again.
	published = jwks(t, rsaKey, ecKey)
	if r := e.post("/oauth2/token", assertionForm(ecKey.sign(t, assertionClaims(id, iss))), nil); r.status != http.StatusOK {
		t.Fatalf("ES256 with a kid added at the URI: %d %s", r.status, r.raw)
	}

	for _, tc := range []struct{ path, why string }{
		{"/small", "at least 2048"},
		{"/html", "JSON"},
		{"/huge", "64 KiB"},
		{"/slow", "did not answer within"},
	} {
		cid := e.createKeyClient("uri"+strings.TrimPrefix(tc.path, "/"), "--jwks-uri", keys.URL+tc.path)
		start := time.Now()
		wantInvalidClient(t, tc.path, e.post("/oauth2/token", assertionForm(small.sign(t, assertionClaims(cid, iss))), nil), tc.why)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %s", tc.path, d)
		}
	}
}

// TestPrivateKeyJWTAdmin: the admin API refuses key sets that are no
// public signing keys, with problem+json naming the field; the CLI
// switches a client's keys.
func TestPrivateKeyJWTAdmin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	a := e.newAdmin()
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	privJWK, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: edPriv, KeyID: "p"}}})
	small := newRSAKey(t, "s", 1024)
	for _, tc := range []struct {
		name string
		body map[string]any
		why  string
	}{
		{"private key", map[string]any{"jwks": json.RawMessage(privJWK)}, "private key"},
		{"small RSA", map[string]any{"jwks": json.RawMessage(jwks(t, small))}, "2048"},
		{"symmetric", map[string]any{"jwks": json.RawMessage(`{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`)}, "symmetric"},
		{"not a set", map[string]any{"jwks": json.RawMessage(`[1,2]`)}, "JWK Set"},
		{"no keys", map[string]any{}, "jwks"},
		{"both", map[string]any{"jwks": json.RawMessage(jwks(t, newEd25519Key(t, "a"))), "jwks_uri": "https://keys.example/jwks"}, "not several"},
		{"http uri", map[string]any{"jwks_uri": "http://keys.example/jwks"}, "https"},
	} {
		body := map[string]any{"client_name": "bad " + tc.name, "token_endpoint_auth_method": "private_key_jwt"}
		for k, v := range tc.body {
			body[k] = v
		}
		r := a.call("POST", "/clients", body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.raw, tc.why) || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s %q, want 400 problem+json mentioning %q", tc.name, r.status, r.raw, r.header.Get("Content-Type"), tc.why)
		}
	}

	// Key rotation with the CLI: two keys in the set, then the new one only.
	k1, k2 := newEd25519Key(t, "k1"), newEd25519Key(t, "k2")
	id := e.createKeyClient("rotating", "--jwks-file", writeFile(t, "one.json", jwks(t, k1)))
	iss := e.vars["TOLLGATE_ISSUER"]
	token := func(k testKey) response {
		return e.post("/oauth2/token", assertionForm(k.sign(t, assertionClaims(id, iss))), nil)
	}
	e.mustCLI("", "client", "update", id, "--jwks-file", writeFile(t, "two.json", jwks(t, k1, k2)))
	// The server's client cache learns of the change within moments
	// (polled slowly: each refusal spends the failure budget).
	if !slowly(func() bool { return token(k2).status == http.StatusOK }) {
		t.Fatal("the added key k2 was never accepted")
	}
	if r := token(k1); r.status != http.StatusOK {
		t.Errorf("key k1 during the overlap: %d %s", r.status, r.raw)
	}
	e.mustCLI("", "client", "update", id, "--jwks-file", writeFile(t, "new.json", jwks(t, k2)))
	if !slowly(func() bool { return token(k1).status == http.StatusUnauthorized }) {
		t.Fatal("the retired key k1 is still accepted")
	}
	// Back to a secret: the client needs a new one.
	out := e.mustCLI("", "client", "update", id, "--auth-method", "client_secret_basic", "--json")
	if !strings.Contains(out, `"token_endpoint_auth_method": "client_secret_basic"`) || strings.Contains(out, "jwks") {
		t.Errorf("after switching back: %s", out)
	}
	sec := e.mustCLI("", "client", "rotate-secret", id, "--json")
	var rot struct {
		Secret string `json:"client_secret"`
	}
	_ = json.Unmarshal([]byte(sec), &rot)
	if !eventually(5*time.Second, func() bool {
		return e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, rot.Secret)).status == http.StatusOK
	}) {
		t.Error("the new secret was never accepted")
	}
}

// slowly polls cond every 200ms for up to 2s: fewer tries than the
// failure budget allows.
func slowly(cond func() bool) bool {
	for range 10 {
		if cond() {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}
