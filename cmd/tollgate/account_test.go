package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestAccountSelfService: a user with a password-grant token manages only
// their own keys; a token bought with a key cannot mint keys; a client's
// token is refused; the audit log names the user; the per-owner limit is
// a clear 409.
func TestAccountSelfService(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.vars["TOLLGATE_API_KEYS_PER_OWNER"] = "2"
			webID, webSecret := e.newClient("--name", "web", "--grant-types", "password,refresh_token", "--scopes", "notes:read notes:write")
			dana := e.createUser("dana", "a long passphrase", "")
			e.createUser("eve", "another passphrase", "")
			e.start()
			a := e.newAdmin()
			login := func(user, pw string) *adminAPI {
				r := e.loginScope(webID, webSecret, user, pw, "notes:read notes:write")
				if r.status != 200 {
					t.Fatalf("login %s: %d %s", user, r.status, r.raw)
				}
				return &adminAPI{e: e, token: r.body["access_token"].(string)}
			}
			acct := func(api *adminAPI, method, path string, body any) response {
				t.Helper()
				return (&adminAPI{e: e, token: api.token, base: "/account/v1"}).call(method, path, body)
			}
			me := login("dana", "a long passphrase")
			r := acct(me, "POST", "/api-keys", map[string]any{"name": "laptop", "scope": "notes:read", "expires_in": 86400})
			if r.status != 201 || r.body["owner_id"] != dana || r.body["expires_at"] == nil || r.body["last_used_at"] != nil {
				t.Fatalf("create own key: %d %s", r.status, r.raw)
			}
			key, keyID := r.body["api_key"].(string), r.body["id"].(string)
			eveTok := login("eve", "another passphrase")
			r = acct(eveTok, "POST", "/api-keys", map[string]any{"name": "eve's"})
			if r.status != 201 || r.body["scope"] != "notes:read notes:write" {
				t.Fatalf("eve's key: %d %s", r.status, r.raw)
			}
			eveKeyID := r.body["id"].(string)

			r = acct(me, "GET", "/api-keys", nil)
			if r.status != 200 || !strings.Contains(r.raw, keyID) || strings.Contains(r.raw, eveKeyID) || strings.Contains(r.raw, key) {
				t.Errorf("dana's list: %d %s", r.status, r.raw)
			}
			if r := acct(me, "DELETE", "/api-keys/"+eveKeyID, nil); r.status != 404 {
				t.Errorf("dana revoking eve's key: %d %s", r.status, r.raw)
			}
			if r := acct(me, "POST", "/api-keys", map[string]any{"name": "x", "scope": "notes:admin"}); r.status != 400 || !strings.Contains(r.raw, `"field":"scope"`) {
				t.Errorf("a key beyond the token's scopes: %d %s", r.status, r.raw)
			}

			// A token bought with the key cannot make keys.
			x := e.exchange(key, nil)
			if x.status != 200 {
				t.Fatalf("exchange: %d %s", x.status, x.raw)
			}
			bought := &adminAPI{e: e, token: x.body["access_token"].(string)}
			for _, m := range []string{"POST", "GET"} {
				var body any
				if m == "POST" {
					body = map[string]any{"name": "more"}
				}
				if r := acct(bought, m, "/api-keys", body); r.status != 403 || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s with a key-bought token: %d %s", m, r.status, r.raw)
				}
			}
			if r := acct(a, "GET", "/api-keys", nil); r.status != 403 {
				t.Errorf("a client's token on the account API: %d %s", r.status, r.raw)
			}
			if r := acct(&adminAPI{e: e}, "GET", "/api-keys", nil); r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("no token: %d %v", r.status, r.header)
			}

			// The per-owner limit: dana holds 1, may make 1 more.
			if r := acct(me, "POST", "/api-keys", map[string]any{"name": "second"}); r.status != 201 {
				t.Fatalf("second key: %d %s", r.status, r.raw)
			}
			r = acct(me, "POST", "/api-keys", map[string]any{"name": "third"})
			if r.status != 409 || !strings.Contains(r.raw, `"field":"owner_id"`) || !strings.Contains(r.raw, "maximum number of active API keys (2)") {
				t.Errorf("third key over the limit of 2: %d %s", r.status, r.raw)
			}
			if r := acct(me, "DELETE", "/api-keys/"+keyID, nil); r.status != 204 {
				t.Fatalf("revoke own key: %d %s", r.status, r.raw)
			}
			if r := e.exchange(key, url.Values{}); r.status != 400 {
				t.Errorf("exchange of a revoked own key: %d", r.status)
			}
			if r := acct(me, "POST", "/api-keys", map[string]any{"name": "third"}); r.status != 201 {
				t.Errorf("a key after revoking one: %d %s", r.status, r.raw)
			}
			r = a.call("GET", "/audit", nil)
			if !strings.Contains(r.raw, `"actor":"user:`+dana+` via client:`+webID+`","action":"apikey.create"`) ||
				!strings.Contains(r.raw, `"actor":"user:`+dana+` via client:`+webID+`","action":"apikey.revoke"`) {
				t.Errorf("audit does not name dana as actor: %s", r.raw)
			}
		})
	}
}
