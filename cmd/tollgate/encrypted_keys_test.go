package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// seal makes a JWE as an attacker (or a sloppy library) might.
type sealSpec struct {
	alg      jose.KeyAlgorithm
	key      any
	kid      string
	zip, cty bool
}

func seal(t *testing.T, s sealSpec, payload string) string {
	t.Helper()
	opts := &jose.EncrypterOptions{}
	if s.cty {
		opts = opts.WithContentType("JWT")
	}
	if s.zip {
		opts.Compression = jose.DEFLATE
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: s.alg, Key: s.key, KeyID: s.kid}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// alter replaces the first character of part i of a compact token with
// another base64url character, which changes its first byte.
func alter(tok string, i int) string {
	parts := strings.Split(tok, ".")
	c := byte('A')
	if parts[i][0] == 'A' {
		c = 'Q'
	}
	parts[i] = string(c) + parts[i][1:]
	return strings.Join(parts, ".")
}

// forge signs claims as Tollgate would, with a key that is not Tollgate's
// but under the kid of Tollgate's signing key.
func forge(t *testing.T, genuine string) string {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(genuine, ".")[0])
	kid := strings.Split(strings.Split(string(h), `"kid":"`)[1], `"`)[0]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(genuine, ".")[1])
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// TestEncryptedTokenRefusals: whatever a presented JWE holds, the answer
// is {"active":false} (and revocation 200), never an error: a JWE made by
// hand exactly as Tollgate makes them is active, so each refusal is the
// one thing changed.
func TestEncryptedTokenRefusals(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newEncEnv(t, b)
			secretKeys, _ := e.audienceKeys(e.api, "")
			otherKeys, _ := e.audienceKeys(e.other, "")
			if len(secretKeys.Keys) != 1 || len(otherKeys.Keys) != 1 {
				t.Fatalf("%d and %d keys", len(secretKeys.Keys), len(otherKeys.Keys))
			}
			sk, ok2 := secretKeys.Keys[0], otherKeys.Keys[0]
			tok := e.token(e.app, url.Values{"grant_type": {"client_credentials"}, "audience": {secretAPI}}).body["access_token"].(string)
			jws, _ := open(t, tok, secretKeys)
			plainJWS := e.token(e.app, url.Values{"grant_type": {"client_credentials"}, "audience": {plainAPI}}).body["access_token"].(string)
			sym := make([]byte, 32)
			_, _ = rand.Read(sym)
			as := func(s sealSpec, p string) string { return seal(t, s, p) }
			ecdh := func(k jose.JSONWebKey) sealSpec {
				return sealSpec{alg: jose.ECDH_ES_A256KW, key: k.Public().Key, kid: k.KeyID, cty: true}
			}
			withKid := func(s sealSpec, kid string) sealSpec { s.kid = kid; return s }
			withZip := func(s sealSpec) sealSpec { s.zip = true; return s }
			noCty := func(s sealSpec) sealSpec { s.cty = false; return s }
			hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","enc":"A256GCM","cty":"JWT","kid":"` + sk.KeyID + `"}`))
			for _, tc := range []struct {
				name, tok string
				active    bool
			}{
				{"made by hand as Tollgate does", as(ecdh(sk), jws), true},
				{"alg dir", as(sealSpec{alg: jose.DIRECT, key: sym, kid: sk.KeyID, cty: true}, jws), false},
				{"alg A256KW", as(sealSpec{alg: jose.A256KW, key: sym, kid: sk.KeyID, cty: true}, jws), false},
				{"alg none", hdr + ".." + strings.SplitN(tok, ".", 3)[2], false},
				{"tampered tag", alter(tok, 4), false},
				{"tampered ciphertext", alter(tok, 3), false},
				{"tampered iv", alter(tok, 2), false},
				{"tampered header", alter(tok, 0), false},
				{"another audience's key under its own kid", as(ecdh(ok2), jws), false},
				{"another audience's key under this audience's kid", as(withKid(ecdh(ok2), sk.KeyID), jws), false},
				{"plain token encrypted to the audience", as(ecdh(sk), plainJWS), false},
				{"zip", as(withZip(ecdh(sk)), jws), false},
				{"no cty", as(noCty(ecdh(sk)), jws), false},
				{"unknown kid", as(withKid(ecdh(sk), "nope"), jws), false},
				{"inner token not signed by Tollgate", as(ecdh(sk), forge(t, jws)), false},
				{"inner garbage", as(ecdh(sk), "not a token"), false},
				{"five parts of garbage", "a.b.c.d.e", false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.introspect(e.api.id, e.api.secret, tc.tok)
					if r.status != 200 || (r.body["active"] == true) != tc.active || (!tc.active && r.raw != `{"active":false}`) {
						t.Errorf("introspection: %d %s", r.status, r.raw)
					}
				})
			}
			for _, bad := range []string{alter(tok, 4), as(withZip(ecdh(sk)), jws), "a.b.c.d.e"} {
				if r := e.revoke(e.app.id, e.app.secret, bad); r.status != 200 {
					t.Errorf("revoking a bad JWE: %d %s", r.status, r.raw)
				}
			}
			if r := e.introspect(e.api.id, e.api.secret, tok); r.body["active"] != true {
				t.Errorf("the genuine token after the bad revocations: %s", r.raw)
			}
		})
	}
}

// TestEncryptedTokenKeyRotation: a rotated-in key is fetchable at once
// (pre-published) while tokens stay encrypted to the current one; tokens
// encrypted before the rotation still open, on this node and on another.
func TestEncryptedTokenKeyRotation(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newEncEnv(t, b)
			cc := url.Values{"grant_type": {"client_credentials"}, "audience": {secretAPI}}
			before := e.token(e.app, cc).body["access_token"].(string)
			// As an operator would, through the admin API (tollgate
			// audience rotate-key with TOLLGATE_ADMIN_URL): this node's
			// ring has the new key at once.
			old := e.svc.ring.Keys(secretAPI)
			if r := e.newAdmin().call("POST", "/audiences/"+url.PathEscape(secretAPI)+"/rotate-key", nil); r.status != 200 {
				t.Fatalf("rotate-key: %d %s", r.status, r.raw)
			}
			set, _ := e.audienceKeys(e.api, "")
			if len(old) != 1 || len(set.Keys) != 2 || len(set.Key(old[0].ID)) != 1 {
				t.Fatalf("after rotation the API fetches %d keys", len(set.Keys))
			}
			next := set.Keys[1]
			if next.KeyID == old[0].ID {
				next = set.Keys[0]
			}
			_, h1 := open(t, before, set)
			after := e.token(e.app, cc).body["access_token"].(string)
			if _, h2 := open(t, after, set); h2.KeyID != h1.KeyID || h2.KeyID == next.KeyID {
				t.Errorf("a token was encrypted to the pending key %s", h2.KeyID)
			}
			n2 := e.node()
			n2.start()
			for _, n := range []*testEnv{e.testEnv, n2} {
				if r := n.introspect(e.api.id, e.api.secret, before); r.body["active"] != true {
					t.Errorf("a token from before the rotation: %s", r.raw)
				}
			}
		})
	}
}

// TestAudienceKeysEndpoint: only a client with tollgate:decrypt gets keys,
// only those of its own encrypted audiences, private, never cached.
func TestAudienceKeysEndpoint(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newEncEnv(t, b)
			plainID, plainSecret := e.newClient("--name", "plain-api", "--scopes", "tollgate:decrypt", "--audience", plainAPI)
			plain := cred{plainID, plainSecret}
			var want []string
			for _, k := range e.svc.ring.Keys(secretAPI) {
				want = append(want, k.ID)
			}
			for _, tc := range []struct {
				name   string
				c      cred
				query  string
				status int
				code   string
			}{
				{"its audience", e.api, "", 200, ""},
				{"its audience by name", e.api, "?audience=" + url.QueryEscape(secretAPI), 200, ""},
				{"another encrypted audience", e.api, "?audience=" + url.QueryEscape(otherAPI), 403, "access_denied"},
				{"a plain audience", e.api, "?audience=" + url.QueryEscape(plainAPI), 403, "access_denied"},
				{"without tollgate:decrypt", e.app, "", 403, "insufficient_scope"},
				{"no encrypted audience", plain, "", 403, "access_denied"},
				{"wrong secret", cred{e.api.id, "nope"}, "", 401, "invalid_client"},
				{"audience twice", e.api, "?audience=" + url.QueryEscape(secretAPI) + "&audience=" + url.QueryEscape(otherAPI), 400, "invalid_request"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					set, r := e.audienceKeys(tc.c, tc.query)
					if r.status != tc.status || (tc.code != "" && r.body["error"] != tc.code) {
						t.Fatalf("%d %s", r.status, r.raw)
					}
					if r.header.Get("Cache-Control") != "no-store" || (r.status != 401 && r.header.Get("Pragma") != "no-cache") {
						t.Errorf("headers %v", r.header)
					}
					if r.status != 200 {
						return
					}
					var kids []string
					for _, k := range set.Keys {
						kids = append(kids, k.KeyID)
						if k.Use != "enc" || k.Algorithm != "ECDH-ES+A256KW" || k.IsPublic() || !k.Valid() {
							t.Errorf("key %s: use %s alg %s public %v", k.KeyID, k.Use, k.Algorithm, k.IsPublic())
						}
					}
					if !slices.Equal(kids, want) || r.header.Get("Content-Type") != "application/jwk-set+json" {
						t.Errorf("kids %v, want %v (%s)", kids, want, r.header.Get("Content-Type"))
					}
				})
			}
			if r := e.get("/oauth2/audience-keys"); r.status != 401 {
				t.Errorf("without credentials: %d %s", r.status, r.raw)
			}
			form := url.Values{"client_id": {e.api.id}, "client_secret": {e.api.secret}}
			if r := e.post("/oauth2/audience-keys", form, nil); r.status != 200 || !strings.Contains(r.raw, want[0]) {
				t.Errorf("POST with form credentials: %d", r.status)
			}
			form.Set("audience", otherAPI)
			if r := e.post("/oauth2/audience-keys", form, nil); r.status != 403 || r.body["error"] != "access_denied" {
				t.Errorf("POST for another audience: %d %s", r.status, r.raw)
			}
			_, r := e.audienceKeys(plain, "")
			if d, _ := r.body["error_description"].(string); !strings.Contains(d, "none of this client's audiences") {
				t.Errorf("description %q", d)
			}
			md := e.get("/.well-known/oauth-authorization-server")
			if md.body["audience_keys_endpoint"] != e.srv.URL+"/oauth2/audience-keys" ||
				!equalJSON(md.body["access_token_encryption_alg_values_supported"], []any{"ECDH-ES+A256KW", "RSA-OAEP-256"}) ||
				!equalJSON(md.body["access_token_encryption_enc_values_supported"], []any{"A256GCM"}) {
				t.Errorf("metadata %s", md.raw)
			}
		})
	}
}
