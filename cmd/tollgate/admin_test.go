package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// adminAPI calls the admin API with a bearer token.
type adminAPI struct {
	e     *testEnv
	token string
	// base is the API's prefix: /admin/v1 when empty.
	base string
}

// newAdmin creates an admin client with the CLI, as the README says, and
// gets its token by client_credentials.
func (e *testEnv) newAdmin() *adminAPI {
	e.t.Helper()
	id, secret := e.newClient("--name", "admin-"+randHex(3), "--scopes", "tollgate:admin")
	r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret))
	if r.status != 200 {
		e.t.Fatalf("admin token: %d %s", r.status, r.raw)
	}
	return &adminAPI{e: e, token: r.body["access_token"].(string)}
}

func (a *adminAPI) call(method, path string, body any) response {
	a.e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	base := a.base
	if base == "" {
		base = "/admin/v1"
	}
	req, _ := http.NewRequest(method, a.e.srv.URL+base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return a.e.do(req)
}

func (e *testEnv) exchange(key string, extra url.Values) response {
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {key},
		"subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"},
	}
	for k, v := range extra {
		form[k] = v
	}
	return e.post("/oauth2/token", form, nil)
}

// TestAdminAPIKeyFlow is the "done when", as a new user would do
// it: admin client by CLI; user and API key through the admin API; one
// exchange; introspection; revoke the key; the exchange fails.
func TestAdminAPIKeyFlow(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			a := e.newAdmin()
			rsID, rsSecret := e.rsClient()

			r := a.call("POST", "/users", map[string]any{"username": "carol", "password": "a long passphrase", "roles": []string{"support"}})
			if r.status != 201 || r.body["username"] != "carol" {
				t.Fatalf("create user: %d %s", r.status, r.raw)
			}
			userID := r.body["id"].(string)
			r = a.call("POST", "/api-keys", map[string]any{"owner_type": "user", "owner_id": userID, "name": "laptop", "scope": "reports:read reports:write", "expires_in": 3600})
			if r.status != 201 {
				t.Fatalf("create API key: %d %s", r.status, r.raw)
			}
			key, keyID := r.body["api_key"].(string), r.body["id"].(string)
			if !strings.HasPrefix(key, "tgk_") || r.body["prefix"] != key[:8] || r.body["last4"] != key[len(key)-4:] {
				t.Errorf("key %q shown as %v…%v", key, r.body["prefix"], r.body["last4"])
			}

			r = e.exchange(key, url.Values{"scope": {"reports:read"}})
			if r.status != 200 || r.body["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || r.body["scope"] != "reports:read" {
				t.Fatalf("exchange: %d %s", r.status, r.raw)
			}
			tok := r.body["access_token"].(string)
			if _, ok := r.body["refresh_token"]; ok {
				t.Error("an exchange returned a refresh token")
			}
			in := e.introspect(rsID, rsSecret, tok)
			if in.body["active"] != true || in.body["sub"] != userID || in.body["api_key_id"] != keyID || !equalJSON(in.body["roles"], []any{"support"}) {
				t.Fatalf("introspection of the exchanged token: %s", in.raw)
			}
			if c := e.verify(tok); c.Subject != userID {
				t.Errorf("JWT sub %q", c.Subject)
			}

			// Listing never shows the key; last_used_at arrives in a batch.
			r = a.call("GET", "/api-keys?owner_type=user&owner_id="+userID, nil)
			if r.status != 200 || strings.Contains(r.raw, key) || strings.Contains(r.raw, key[8:len(key)-4]) {
				t.Fatalf("list API keys: %d %s", r.status, r.raw)
			}

			if r := a.call("DELETE", "/api-keys/"+keyID, nil); r.status != 204 {
				t.Fatalf("revoke API key: %d %s", r.status, r.raw)
			}
			if r := e.exchange(key, nil); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Fatalf("exchange of a revoked key: %d %s", r.status, r.raw)
			}
			// The tokens it bought die with it.
			if !eventually(3*time.Second, func() bool { return e.introspect(rsID, rsSecret, tok).raw == `{"active":false}` }) {
				t.Error("a token bought with a revoked API key is still active")
			}

			// The audit log has who did what, and no secret.
			r = a.call("GET", "/audit", nil)
			for _, action := range []string{"user.create", "apikey.create", "apikey.revoke"} {
				if !strings.Contains(r.raw, `"action":"`+action+`"`) {
					t.Errorf("audit lacks %s: %s", action, r.raw)
				}
			}
			if strings.Contains(r.raw, key) || strings.Contains(r.raw, "a long passphrase") {
				t.Error("a secret reached the audit log")
			}
		})
	}
}

func TestExchangeRejections(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, _ := e.newClient("--name", "svc", "--scopes", "a b", "--audience", "https://api.example")
	e.start()
	a := e.newAdmin()
	r := a.call("POST", "/api-keys", map[string]any{"owner_type": "client", "owner_id": id, "name": "ci", "scope": "a"})
	if r.status != 201 {
		t.Fatalf("create key: %d %s", r.status, r.raw)
	}
	key := r.body["api_key"].(string)
	flipped := []byte(key)
	flipped[10] ^= 1
	cases := []struct {
		name  string
		key   string
		extra url.Values
		code  string
	}{
		{"checksum fails", string(flipped), nil, "invalid_grant"},
		{"not an API key", "hello", nil, "invalid_grant"},
		{"unknown but well-formed", "tgk_" + strings.Repeat("0", 43) + "000000", nil, "invalid_grant"},
		{"wider scope", key, url.Values{"scope": {"a b"}}, "invalid_scope"},
		{"foreign audience", key, url.Values{"audience": {"https://evil.example"}}, "invalid_target"},
		{"wrong token type", key, url.Values{"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}, "invalid_request"},
		{"actor token", key, url.Values{"actor_token": {"x"}, "actor_token_type": {"y"}}, "invalid_request"},
	}
	for _, tc := range cases {
		r := e.exchange(tc.key, tc.extra)
		if r.status != 400 || r.body["error"] != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.raw, tc.code)
		}
	}
	r = e.exchange(key, url.Values{"audience": {"https://api.example"}})
	if r.status != 200 {
		t.Fatalf("client key exchange: %d %s", r.status, r.raw)
	}
	if c := e.verify(r.body["access_token"].(string)); c.Subject != id || c.ClientID != id || c.Scope != "a" {
		t.Errorf("claims %+v", c)
	}
	// Deleting the owner stops the key at once.
	e.mustCLI("", "client", "delete", id)
	if r := e.exchange(key, nil); r.status != 400 || r.body["error"] != "invalid_grant" {
		t.Errorf("exchange after the owner was deleted: %d %s", r.status, r.raw)
	}
}

func TestAdminAuthAndBadInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	svcID, svcSecret := e.newClient("--name", "svc", "--scopes", "x")
	e.start()
	a := e.newAdmin()

	anon := &adminAPI{e: e}
	if r := anon.call("GET", "/clients", nil); r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("no token: %d %v %s", r.status, r.header, r.raw)
	}
	user := &adminAPI{e: e, token: e.ccToken(svcID, svcSecret)}
	if r := user.call("GET", "/clients", nil); r.status != 403 {
		t.Errorf("non-admin token: %d %s", r.status, r.raw)
	}
	if r := (&adminAPI{e: e, token: "garbage"}).call("GET", "/clients", nil); r.status != 401 {
		t.Errorf("garbage token: %d %s", r.status, r.raw)
	}

	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"unknown field", "POST", "/clients", `{"client_name":"x","colour":"red"}`, 400, "colour"},
		{"wrong type", "POST", "/clients", `{"client_name":42}`, 400, "client_name"},
		{"not JSON", "POST", "/clients", `{"client_name":`, 400, "body"},
		{"two objects", "POST", "/clients", `{"client_name":"a"}{"client_name":"b"}`, 400, "body"},
		{"deep nesting", "POST", "/clients", deep, 400, ""},
		{"over-long name", "POST", "/clients", map[string]any{"client_name": strings.Repeat("n", 500)}, 400, "client_name"},
		{"unknown grant type", "POST", "/clients", map[string]any{"client_name": "g", "grant_types": []string{"implicit"}}, 400, "grant_types"},
		{"duplicate name", "POST", "/clients", map[string]any{"client_name": "svc"}, 409, "client_name"},
		{"unknown client", "GET", "/clients/tgc_nope", nil, 404, ""},
		{"bad limit", "GET", "/clients?limit=0", nil, 400, "limit"},
		{"short password", "POST", "/users", map[string]any{"username": "u", "password": "short"}, 400, "password"},
		{"key for unknown user", "POST", "/api-keys", map[string]any{"owner_type": "user", "owner_id": "usr_nope", "name": "k"}, 400, "owner_id"},
		{"key with reserved scope", "POST", "/api-keys", map[string]any{"owner_type": "client", "owner_id": svcID, "name": "k", "scope": "tollgate:admin"}, 400, "scope"},
	}
	for _, tc := range cases {
		r := a.call(tc.method, tc.path, tc.body)
		if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" || r.body["title"] == nil {
			t.Errorf("%s: %d %s %s", tc.name, r.status, r.header.Get("Content-Type"), r.raw)
			continue
		}
		if tc.field != "" && !strings.Contains(r.raw, `"field":"`+tc.field+`"`) {
			t.Errorf("%s: no message for field %s: %s", tc.name, tc.field, r.raw)
		}
	}
	if r := a.call("POST", "/clients", "{"+strings.Repeat(" ", 70<<10)+"}"); r.status != 413 {
		t.Errorf("huge body: %d", r.status)
	}
	if r := a.call("GET", "/healthz-not", nil); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown admin path: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := a.call("PUT", "/clients", nil); r.status != 405 || r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("Allow") == "" {
		t.Errorf("wrong method on an admin path: %d %v", r.status, r.header)
	}
	if r := e.get("/healthz"); r.status != 200 {
		t.Fatal("the server is unhealthy after bad input")
	}
}

func TestAdminClientsUsersAndSecrets(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	a := e.newAdmin()
	r := a.call("POST", "/clients", map[string]any{"client_name": "billing", "scope": "inv:read", "grant_types": []string{"client_credentials"}, "access_token_ttl": 120})
	if r.status != 201 || r.body["client_secret"] == nil || r.body["access_token_ttl"] != float64(120) {
		t.Fatalf("create client: %d %s", r.status, r.raw)
	}
	id, oldSecret := r.body["client_id"].(string), r.body["client_secret"].(string)
	r = a.call("PATCH", "/clients/"+id, map[string]any{"scope": "inv:read inv:write", "roles": []string{"svc"}})
	if r.status != 200 || r.body["scope"] != "inv:read inv:write" || r.body["client_name"] != "billing" {
		t.Fatalf("patch client: %d %s", r.status, r.raw)
	}
	// Rotation with overlap: both secrets work, then only the new one.
	r = a.call("POST", "/clients/"+id+"/secret", map[string]any{"overlap": 3600})
	newSecret, _ := r.body["client_secret"].(string)
	if r.status != 200 || newSecret == "" || r.body["previous_secret_expires_at"] == nil {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	for name, s := range map[string]string{"old": oldSecret, "new": newSecret} {
		if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, s)); r.status != 200 {
			t.Errorf("%s secret during the overlap: %d %s", name, r.status, r.raw)
		}
	}
	a.call("POST", "/clients/"+id+"/secret", map[string]any{"overlap": 0})
	if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, newSecret)); r.status != 401 {
		t.Errorf("secret replaced without overlap still works: %d", r.status)
	}

	// Pagination: every client once, in pages of 2.
	for i := range 4 {
		a.call("POST", "/clients", map[string]any{"client_name": "c" + string(rune('a'+i))})
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		r := a.call("GET", "/clients?limit=2&cursor="+url.QueryEscape(cursor), nil)
		for _, it := range r.body["items"].([]any) {
			cid := it.(map[string]any)["client_id"].(string)
			if seen[cid] {
				t.Fatalf("client %s listed twice", cid)
			}
			seen[cid] = true
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 6 { // billing, admin, ca..cd
		t.Errorf("paged through %d clients, want 6", len(seen))
	}

	// Users: disable revokes, password change works.
	r = a.call("POST", "/users", map[string]any{"username": "dave", "password": "first passphrase"})
	uid := r.body["id"].(string)
	if r := a.call("PUT", "/users/"+uid+"/password", map[string]any{"password": "second passphrase"}); r.status != 204 {
		t.Errorf("set password: %d %s", r.status, r.raw)
	}
	if r := a.call("PATCH", "/users/"+uid, map[string]any{"disabled": true, "roles": []string{"ops"}}); r.status != 200 || r.body["disabled"] != true {
		t.Errorf("disable: %d %s", r.status, r.raw)
	}
	if r := a.call("DELETE", "/users/"+uid, nil); r.status != 204 {
		t.Errorf("delete user: %d %s", r.status, r.raw)
	}
	if r := a.call("GET", "/users/"+uid, nil); r.status != 404 {
		t.Errorf("deleted user: %d", r.status)
	}
	r = a.call("GET", "/signing-keys", nil)
	if r.status != 200 || len(r.body["items"].([]any)) != 1 {
		t.Errorf("signing keys: %d %s", r.status, r.raw)
	}
	r = a.call("POST", "/signing-keys/rotate", nil)
	if r.status != 201 || r.body["state"] != "next" {
		t.Errorf("rotate signing key: %d %s", r.status, r.raw)
	}
	r = a.call("GET", "/audit?action=client.rotate_secret", nil)
	if items := r.body["items"].([]any); len(items) != 2 || strings.Contains(r.raw, newSecret) {
		t.Errorf("audit of rotations: %s", r.raw)
	}
	_ = time.Second
}
