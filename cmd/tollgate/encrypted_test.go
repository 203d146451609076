package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/store"
)

// The audiences of the encrypted-token tests: secretAPI and otherAPI
// receive encrypted tokens (ECDH-ES+A256KW), rsaAPI too (RSA-OAEP-256),
// plainAPI plain JWSs.
const (
	plainAPI  = "https://plain.example"
	secretAPI = "https://secret.example"
	otherAPI  = "https://other.example"
	rsaAPI    = "https://rsa.example"
)

// encEnv is a started Tollgate with encrypted audiences, all made with the
// CLI: app, a client of plainAPI and secretAPI with public and private
// claims (grants client_credentials, password, refresh_token, and an API
// key); ann, a user with claims of her own and an API key; api, other and
// rsa, the APIs of secretAPI, otherAPI and rsaAPI (tollgate:decrypt and
// tollgate:introspect).
type encEnv struct {
	*testEnv
	app, api, other, rsa cred
	appKey, userKey      string
}

type cred struct{ id, secret string }

func newEncEnv(t *testing.T, b backend) *encEnv {
	t.Helper()
	e := &encEnv{testEnv: newTestEnv(t, b)}
	// As an operator would, before the server starts.
	e.mustCLI("", "audience", "create", secretAPI, "--encrypt")
	e.mustCLI("", "audience", "create", otherAPI, "--encrypt", "--alg", store.KeyECDHES)
	e.mustCLI("", "audience", "create", rsaAPI, "--encrypt", "--alg", store.KeyRSAOAEP256)
	newCred := func(args ...string) cred {
		id, secret := e.newClient(args...)
		return cred{id, secret}
	}
	e.app = newCred("--name", "app", "--grant-types", "client_credentials,password,refresh_token", "--scopes", "orders:read", "--audience", plainAPI+","+secretAPI,
		"--claim", "tenant=acme", "--private-claim", "risk_score=7", "--private-claim", "internal_tenant=t-991")
	e.api = newCred("--name", "secret-api", "--scopes", "tollgate:decrypt tollgate:introspect", "--audience", secretAPI)
	e.other = newCred("--name", "other-api", "--scopes", "tollgate:decrypt tollgate:introspect", "--audience", otherAPI)
	e.rsa = newCred("--name", "rsa-api", "--scopes", "tollgate:decrypt tollgate:introspect", "--audience", rsaAPI)
	e.mustCLI("ann's passphrase\n", "user", "create", "--username", "ann", "--password-stdin", "--roles", "viewer",
		"--claim", "plan=pro", "--private-claim", "email=ann@example.com")
	e.appKey = e.newAPIKey("--client", e.app.id)
	e.userKey = e.newAPIKey("--user", "ann")
	e.start()
	return e
}

// newAPIKey creates an API key with the CLI and returns it.
func (e *testEnv) newAPIKey(owner ...string) string {
	e.t.Helper()
	out := e.mustCLI("", append([]string{"apikey", "create", "--name", "k-" + randHex(3), "--json"}, owner...)...)
	var k struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.APIKey == "" {
		e.t.Fatalf("apikey create printed %q", out)
	}
	return k.APIKey
}

func (e *testEnv) token(c cred, form url.Values) response {
	return e.post("/oauth2/token", form, basic(c.id, c.secret))
}

// audienceKeys fetches c's decryption keys as an API does.
func (e *testEnv) audienceKeys(c cred, query string) (jose.JSONWebKeySet, response) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/audience-keys"+query, nil)
	for k, v := range basic(c.id, c.secret) {
		req.Header[k] = v
	}
	r := e.do(req)
	var set jose.JSONWebKeySet
	if r.status == 200 {
		if err := json.Unmarshal([]byte(r.raw), &set); err != nil {
			e.t.Fatalf("the key set does not parse: %v", err)
		}
	}
	return set, r
}

// open decrypts a nested token with go-jose and the fetched keys, as an
// API would, and returns the inner JWS and the JWE's protected header.
func open(t *testing.T, tok string, set jose.JSONWebKeySet) (string, jose.Header) {
	t.Helper()
	obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.ECDH_ES_A256KW, jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("not a JWE: %v", err)
	}
	keys := set.Key(obj.Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the fetched set", obj.Header.KeyID, len(keys))
	}
	jws, err := obj.Decrypt(keys[0].Key)
	if err != nil {
		t.Fatalf("the fetched key does not decrypt the token: %v", err)
	}
	return string(jws), obj.Header
}

// claimsOf returns the payload of a JWS as JSON members, unverified.
func claimsOf(t *testing.T, jws string) map[string]any {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// unreadable fails unless nothing of a 5-part token decodes to anything
// but its protected header, and the header carries no claim.
func unreadable(t *testing.T, tok string, secrets ...string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 5 {
		t.Fatalf("the token has %d parts, want 5 (JWE compact serialization)", len(parts))
	}
	var h map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("protected header: %v", err)
	}
	for k := range h {
		if !slices.Contains([]string{"alg", "enc", "cty", "kid", "epk"}, k) {
			t.Errorf("protected header has %q: %s", k, raw)
		}
	}
	if h["enc"] != "A256GCM" || h["cty"] != "JWT" || h["kid"] == "" || h["zip"] != nil {
		t.Errorf("protected header %s", raw)
	}
	for i, p := range parts[1:] {
		b, _ := base64.RawURLEncoding.DecodeString(p)
		for _, s := range secrets {
			if strings.Contains(string(b), s) || strings.Contains(p, s) {
				t.Errorf("part %d of the JWE shows %q", i+2, s)
			}
		}
		if json.Valid(b) {
			t.Errorf("part %d of the JWE is readable JSON", i+2)
		}
	}
}

// TestEncryptedTokens: every grant issues a token for the encrypted
// audience as a nested JWT its holder cannot read; the API opens it with
// the keys it fetched (go-jose, not Tollgate's code), and the inner token
// verifies against the published JWKS and carries the private claims;
// the same client's token for a plain audience has none of them;
// introspection and revocation take the JWE.
func TestEncryptedTokens(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newEncEnv(t, b)
			keys, r := e.audienceKeys(e.api, "")
			if r.status != 200 {
				t.Fatalf("audience keys: %d %s", r.status, r.raw)
			}
			login := e.token(e.app, url.Values{"grant_type": {"password"}, "username": {"ann"}, "password": {"ann's passphrase"}, "audience": {plainAPI}})
			if login.status != 200 {
				t.Fatalf("login: %d %s", login.status, login.raw)
			}
			appClaims := map[string]any{"tenant": "acme", "risk_score": 7.0, "internal_tenant": "t-991"}
			annClaims := map[string]any{"plan": "pro", "email": "ann@example.com"}
			for _, tc := range []struct {
				name   string
				tok    func() response
				sub    string
				claims map[string]any
			}{
				{"client_credentials", func() response {
					return e.token(e.app, url.Values{"grant_type": {"client_credentials"}, "audience": {secretAPI}})
				}, e.app.id, appClaims},
				{"password", func() response {
					return e.token(e.app, url.Values{"grant_type": {"password"}, "username": {"ann"}, "password": {"ann's passphrase"}, "audience": {secretAPI}})
				}, "", annClaims},
				{"refresh", func() response {
					return e.token(e.app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.body["refresh_token"].(string)}, "audience": {secretAPI}})
				}, "", annClaims},
				{"API key of the client", func() response {
					return e.exchange(e.appKey, url.Values{"audience": {secretAPI}})
				}, e.app.id, appClaims},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.tok()
					if r.status != 200 {
						t.Fatalf("token: %d %s", r.status, r.raw)
					}
					tok := r.body["access_token"].(string)
					unreadable(t, tok, "acme", "t-991", "ann@example.com", e.app.id)
					jws, h := open(t, tok, keys)
					if h.Algorithm != "ECDH-ES+A256KW" {
						t.Errorf("alg %s", h.Algorithm)
					}
					c := e.verify(jws) // against /.well-known/jwks.json
					m := claimsOf(t, jws)
					if tc.sub != "" && c.Subject != tc.sub || !slices.Equal([]string(c.Audience), []string{secretAPI}) {
						t.Errorf("sub %s aud %v", c.Subject, c.Audience)
					}
					for k, v := range tc.claims {
						if m[k] != v {
							t.Errorf("claim %s = %v, want %v", k, m[k], v)
						}
					}
					in := e.introspect(e.api.id, e.api.secret, tok)
					if in.status != 200 || in.body["active"] != true || in.body["jti"] != c.ID || in.body["aud"] != secretAPI {
						t.Errorf("introspection: %d %s", in.status, in.raw)
					}
					if strings.Contains(e.logs.String(), tok) || strings.Contains(e.logs.String(), "t-991") {
						t.Error("the logs hold the token or a private claim")
					}
				})
			}

			t.Run("plain audience: no private claim", func(t *testing.T) {
				for _, r := range []response{
					e.token(e.app, url.Values{"grant_type": {"client_credentials"}, "audience": {plainAPI}}),
					e.exchange(e.appKey, url.Values{"audience": {plainAPI}}),
					e.exchange(e.userKey, nil),
					login,
				} {
					if r.status != 200 {
						t.Fatalf("token: %d %s", r.status, r.raw)
					}
					tok := r.body["access_token"].(string)
					e.verify(tok)
					m := claimsOf(t, tok)
					if m["tenant"] != "acme" && m["plan"] != "pro" {
						t.Errorf("no public claim in %v", m)
					}
					for _, k := range []string{"risk_score", "internal_tenant", "email"} {
						if _, ok := m[k]; ok {
							t.Errorf("private claim %s in a plain JWS: %v", k, m)
						}
					}
				}
			})

			t.Run("sole-audience rule", func(t *testing.T) {
				for _, r := range []response{
					e.token(e.app, url.Values{"grant_type": {"client_credentials"}}),
					e.exchange(e.appKey, nil),
				} {
					want := "audience " + secretAPI + " receives encrypted tokens and must be the token's only audience: ask for it with audience=" + secretAPI
					if r.status != 400 || r.body["error"] != "invalid_target" || r.body["error_description"] != want {
						t.Errorf("a token for both audiences: %d %s", r.status, r.raw)
					}
				}
				r := e.token(e.app, url.Values{"grant_type": {"client_credentials"}, "audience": {otherAPI}})
				if r.status != 400 || r.body["error"] != "invalid_target" {
					t.Errorf("another client's audience: %d %s", r.status, r.raw)
				}
			})

			t.Run("RSA-OAEP-256", func(t *testing.T) {
				id, secret := e.newClient("--name", "rsa-app", "--audience", rsaAPI)
				tok := e.ccToken(id, secret)
				unreadable(t, tok, id)
				set, _ := e.audienceKeys(e.rsa, "")
				jws, h := open(t, tok, set)
				if h.Algorithm != "RSA-OAEP-256" || e.verify(jws).Subject != id {
					t.Errorf("alg %s", h.Algorithm)
				}
			})

			t.Run("revocation by the JWE", func(t *testing.T) {
				tok := e.token(e.app, url.Values{"grant_type": {"client_credentials"}, "audience": {secretAPI}}).body["access_token"].(string)
				if r := e.revoke(e.api.id, e.api.secret, tok); r.status != 400 || r.body["error"] != "unauthorized_client" {
					t.Errorf("another client revoking it: %d %s", r.status, r.raw)
				}
				if r := e.revoke(e.app.id, e.app.secret, tok); r.status != 200 {
					t.Fatalf("revoke: %d %s", r.status, r.raw)
				}
				if r := e.introspect(e.api.id, e.api.secret, tok); r.raw != `{"active":false}` {
					t.Errorf("introspection after revocation: %s", r.raw)
				}
			})
		})
	}
}
