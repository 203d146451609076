package main

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/keys"
)

// rsClient creates a resource-server client allowed to introspect.
func (e *testEnv) rsClient() (id, secret string) {
	return e.newClient("--name", "resource-server-"+randHex(3), "--scopes", "tollgate:introspect")
}

func (e *testEnv) introspect(id, secret, tok string) response {
	return e.post("/oauth2/introspect", url.Values{"token": {tok}}, basic(id, secret))
}

func (e *testEnv) ccToken(id, secret string) string {
	e.t.Helper()
	r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret))
	if r.status != 200 {
		e.t.Fatalf("token: %d %s", r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			rsID, rsSecret := e.rsClient()
			id, secret := e.newClient("--name", "svc", "--scopes", "orders:read orders:write", "--roles", "batch", "--audience", "https://orders.example")
			plainID, plainSecret := e.newClient("--name", "plain")
			e.start()
			tok := e.ccToken(id, secret)
			c := e.verify(tok)

			r := e.introspect(rsID, rsSecret, tok)
			want := map[string]any{
				"active": true, "scope": "orders:read orders:write", "client_id": id, "sub": id,
				"aud": "https://orders.example", "iss": e.srv.URL, "exp": float64(c.Expiry.Time().Unix()),
				"iat": float64(c.IssuedAt.Time().Unix()), "jti": c.ID, "token_type": "Bearer", "token_use": "access_token", "roles": []any{"batch"},
			}
			if r.status != 200 || len(r.body) != len(want) {
				t.Fatalf("active token: %d %s", r.status, r.raw)
			}
			for k, v := range want {
				if got := r.body[k]; !equalJSON(got, v) {
					t.Errorf("%s = %v, want %v", k, got, v)
				}
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("introspection response may be cached")
			}

			// Caller authentication: none → 401, without the scope → 403.
			if r := e.post("/oauth2/introspect", url.Values{"token": {tok}}, nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" || strings.Contains(r.raw, id) {
				t.Errorf("no credentials: %d %s", r.status, r.raw)
			}
			if r := e.introspect(plainID, plainSecret, tok); r.status != 403 || strings.Contains(r.raw, id) || r.body["active"] != nil {
				t.Errorf("client without tollgate:introspect: %d %s", r.status, r.raw)
			}
			if r := e.introspect(rsID, "tgs_wrong", tok); r.status != 401 {
				t.Errorf("wrong secret: %d %s", r.status, r.raw)
			}

			for name, bad := range badTokens(t, e, tok) {
				r := e.introspect(rsID, rsSecret, bad)
				if r.status != 200 || r.raw != `{"active":false}` {
					t.Errorf("%s: %d %s, want exactly {\"active\":false}", name, r.status, r.raw)
				}
			}
		})
	}
}

// badTokens are tokens that must never be active: expired, tampered,
// foreign, unsigned, garbage.
func badTokens(t *testing.T, e *testEnv, good string) map[string]string {
	t.Helper()
	k, err := e.svc.keys.Signer()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sign := func(k *keys.Key, mod func(*accesstoken.Claims)) string {
		c := &accesstoken.Claims{Issuer: e.srv.URL, Subject: "s", Audience: []string{"a"}, IssuedAt: now, ExpiresAt: now.Add(time.Minute), ID: accesstoken.NewJTI(), ClientID: "c"}
		mod(c)
		tok, err := accesstoken.Sign(k, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	other, err := keys.GenerateKey(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."
	flipped := []byte(parts[2])
	flipped[5] ^= 1
	return map[string]string{
		"expired":          sign(k, func(c *accesstoken.Claims) { c.IssuedAt, c.ExpiresAt = now.Add(-time.Hour), now.Add(-10*time.Minute) }),
		"foreign issuer":   sign(k, func(c *accesstoken.Claims) { c.Issuer = "https://evil.example" }),
		"unknown key":      sign(other, func(*accesstoken.Claims) {}),
		"alg none":         none,
		"tampered payload": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x"}`)) + "." + parts[2],
		"bad signature":    parts[0] + "." + parts[1] + "." + string(flipped),
		"garbage":          "not-a-token",
		"empty segments":   "..",
		"huge":             strings.Repeat("a.", 20000),
		"refresh garbage":  "tgr_abc_def",
		"non-ASCII":        "é.é.é",
	}
}

// equalJSON compares decoded JSON values.
func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if !equalJSON(as[i], bs[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestIntrospectRefreshToken(t *testing.T) {
	t.Parallel()
	e, id, secret, userID := passwordSetup(t, embedded)
	rsID, rsSecret := e.rsClient()
	rt := e.login(id, secret, "alice", "correct horse battery").body["refresh_token"].(string)
	r := e.post("/oauth2/introspect", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, basic(rsID, rsSecret))
	if r.status != 200 || r.body["active"] != true || r.body["sub"] != userID || r.body["client_id"] != id || r.body["token_use"] != "refresh_token" || r.body["token_type"] != nil {
		t.Fatalf("refresh token: %d %s", r.status, r.raw)
	}
	// A wrong hint is not trusted.
	if r := e.post("/oauth2/introspect", url.Values{"token": {rt}, "token_type_hint": {"access_token"}}, basic(rsID, rsSecret)); r.body["active"] != true {
		t.Errorf("refresh token with an access_token hint: %s", r.raw)
	}
	e.refresh(id, secret, rt)
	if r := e.introspect(rsID, rsSecret, rt); r.raw != `{"active":false}` {
		t.Errorf("rotated refresh token: %s", r.raw)
	}
}
