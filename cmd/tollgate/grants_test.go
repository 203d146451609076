package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// createUser makes a user through the CLI and returns its id.
func (e *testEnv) createUser(name, password, roles string) string {
	e.t.Helper()
	out := e.mustCLI(password+"\n", "user", "create", "--username", name, "--password-stdin", "--roles", roles, "--json")
	var u struct{ ID string }
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.ID == "" {
		e.t.Fatalf("user create printed %q", out)
	}
	return u.ID
}

// loginScope is a password-grant login that asks for scope.
func (e *testEnv) loginScope(id, secret, username, password, scope string) response {
	return e.post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {scope}}, basic(id, secret))
}

// TestUserTokensNeedARoleForTollgateScopes: a password client that holds
// tollgate:admin does not make its users admins. A user's token carries
// tollgate:admin only with the role admin (and tollgate:introspect never);
// other requested scopes are still issued, and the response names them
// (RFC 6749 §3.3). The admin API follows.
func TestUserTokensNeedARoleForTollgateScopes(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			id, secret := e.newClient("--name", "console", "--grant-types", "password,refresh_token", "--scopes", "profile tollgate:admin tollgate:introspect")
			e.createUser("vera", "viewer passphrase", "viewer")
			bossID := e.createUser("bob", "admin passphrase", "admin")
			e.start()
			listClients := func(tok string) int {
				return (&adminAPI{e: e, token: tok}).call("GET", "/clients", nil).status
			}

			for _, tc := range []struct {
				name, user, pass, scope string
				status                  int
				want                    string // scope of the token, or the error code
				admin                   int    // admin API status with the token
			}{
				{"viewer asks for admin and profile", "vera", "viewer passphrase", "tollgate:admin profile", 200, "profile", 403},
				{"viewer asks only for admin", "vera", "viewer passphrase", "tollgate:admin", 400, "invalid_scope", 0},
				{"viewer asks for nothing", "vera", "viewer passphrase", "", 200, "profile", 403},
				{"viewer asks for introspect", "vera", "viewer passphrase", "tollgate:introspect", 400, "invalid_scope", 0},
				{"admin asks for admin", "bob", "admin passphrase", "tollgate:admin", 200, "tollgate:admin", 200},
				{"admin asks for nothing", "bob", "admin passphrase", "", 200, "profile tollgate:admin", 200},
				{"admin asks for introspect too", "bob", "admin passphrase", "tollgate:introspect tollgate:admin", 200, "tollgate:admin", 200},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.loginScope(id, secret, tc.user, tc.pass, tc.scope)
					if r.status != tc.status {
						t.Fatalf("login: %d %s", r.status, r.raw)
					}
					if tc.status != 200 {
						if r.body["error"] != tc.want {
							t.Fatalf("login: %s, want %s", r.raw, tc.want)
						}
						return
					}
					tok := r.body["access_token"].(string)
					if r.body["scope"] != tc.want || e.verify(tok).Scope != tc.want {
						t.Errorf("scope %v (JWT %q), want %q", r.body["scope"], e.verify(tok).Scope, tc.want)
					}
					if got := listClients(tok); got != tc.admin {
						t.Errorf("admin API with the token: %d, want %d", got, tc.admin)
					}
				})
			}

			// A role taken away takes its scope out of the next refresh.
			r := e.loginScope(id, secret, "bob", "admin passphrase", "")
			rt := r.body["refresh_token"].(string)
			admin := &adminAPI{e: e, token: r.body["access_token"].(string)}
			if r := admin.call("PATCH", "/users/"+bossID, map[string]any{"roles": []string{"support"}}); r.status != 200 {
				t.Fatalf("taking the role: %d %s", r.status, r.raw)
			}
			r = e.refresh(id, secret, rt)
			if r.status != 200 || r.body["scope"] != "profile" {
				t.Fatalf("refresh after the role was taken: %d %s", r.status, r.raw)
			}
			tok := r.body["access_token"].(string)
			if c := e.verify(tok); c.Scope != "profile" || !slices.Equal(c.Roles, []string{"support"}) {
				t.Errorf("refreshed claims %+v", c)
			}
			if got := listClients(tok); got != 403 {
				t.Errorf("admin API after the role was taken: %d", got)
			}
			// The family keeps the narrower scope even if the role returns.
			rt = r.body["refresh_token"].(string)
			r = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"tollgate:admin"}}, basic(id, secret))
			if r.status != 400 || r.body["error"] != "invalid_scope" {
				t.Errorf("refresh asking for the lost scope: %d %s", r.status, r.raw)
			}
		})
	}
}

// TestRemovedScopesLeaveKeysAndFamilies: after a scope is removed from a
// client, neither its API keys nor its users' refresh tokens get it
// again; tokens carry the owner's current roles.
func TestRemovedScopesLeaveKeysAndFamilies(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			a := e.newAdmin()
			id, secret := e.newClient("--name", "shop", "--grant-types", "client_credentials,password,refresh_token", "--scopes", "orders:read orders:write", "--roles", "svc")
			userID := e.createUser("dora", "a long passphrase", "clerk")
			r := a.call("POST", "/api-keys", map[string]any{"owner_type": "client", "owner_id": id, "name": "batch"})
			if r.status != 201 {
				t.Fatalf("create API key: %d %s", r.status, r.raw)
			}
			clientKey := r.body["api_key"].(string)
			r = a.call("POST", "/api-keys", map[string]any{"owner_type": "user", "owner_id": userID, "name": "laptop", "scope": "reports:read"})
			if r.status != 201 {
				t.Fatalf("create user API key: %d %s", r.status, r.raw)
			}
			userKey := r.body["api_key"].(string)

			// Before: the key and a login carry both scopes. The exchange
			// also warms the node's API-key cache.
			if r := e.exchange(clientKey, nil); r.status != 200 || r.body["scope"] != "orders:read orders:write" {
				t.Fatalf("exchange before: %d %s", r.status, r.raw)
			}
			r = e.login(id, secret, "dora", "a long passphrase")
			if r.status != 200 || r.body["scope"] != "orders:read orders:write" {
				t.Fatalf("login before: %d %s", r.status, r.raw)
			}
			rt := r.body["refresh_token"].(string)

			if r := a.call("PATCH", "/clients/"+id, map[string]any{"scope": "orders:read", "roles": []string{"svc2"}}); r.status != 200 {
				t.Fatalf("removing the scope: %d %s", r.status, r.raw)
			}
			if r := a.call("PATCH", "/users/"+userID, map[string]any{"roles": []string{"clerk", "lead"}}); r.status != 200 {
				t.Fatalf("changing the user's roles: %d %s", r.status, r.raw)
			}

			r = e.exchange(clientKey, nil)
			if r.status != 200 || r.body["scope"] != "orders:read" {
				t.Fatalf("exchange after: %d %s", r.status, r.raw)
			}
			if c := e.verify(r.body["access_token"].(string)); c.Scope != "orders:read" || !slices.Equal(c.Roles, []string{"svc2"}) {
				t.Errorf("exchanged claims %+v", c)
			}
			if r := e.exchange(clientKey, url.Values{"scope": {"orders:write"}}); r.status != 400 || r.body["error"] != "invalid_scope" {
				t.Errorf("exchange asking only for the removed scope: %d %s", r.status, r.raw)
			}
			r = e.refresh(id, secret, rt)
			if r.status != 200 || r.body["scope"] != "orders:read" {
				t.Fatalf("refresh after: %d %s", r.status, r.raw)
			}
			if c := e.verify(r.body["access_token"].(string)); c.Scope != "orders:read" || !slices.Equal(c.Roles, []string{"clerk", "lead"}) {
				t.Errorf("refreshed claims %+v", c)
			}
			// The family stays narrowed: the next refresh cannot ask for it.
			r = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.body["refresh_token"].(string)}, "scope": {"orders:write"}}, basic(id, secret))
			if r.status != 400 || r.body["error"] != "invalid_scope" {
				t.Errorf("refresh asking for the removed scope: %d %s", r.status, r.raw)
			}
			// A user's key carries the user's current roles.
			r = e.exchange(userKey, nil)
			if r.status != 200 || !slices.Equal(e.verify(r.body["access_token"].(string)).Roles, []string{"clerk", "lead"}) {
				t.Errorf("user key exchange after the roles changed: %d %s", r.status, r.raw)
			}
		})
	}
}

// TestExchangeChecksClientCredentials: a token exchange needs no client
// credentials, but ones that are sent are checked (RFC 8693 §2.1, RFC 6749
// §2.3): wrong ones are invalid_client (401, with a Basic challenge when
// the Authorization header was used) and count against the client's
// failure budget like any other grant's.
func TestExchangeChecksClientCredentials(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, secret := e.newClient("--name", "batch", "--scopes", "orders:read")
	e.start()
	key := e.mustCLI("", "apikey", "create", "--client", id, "--name", "cron", "--json")
	var k struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(key), &k); err != nil || k.APIKey == "" {
		t.Fatalf("apikey create printed %q", key)
	}
	exchange := func(extra url.Values, h http.Header) response {
		form := url.Values{
			"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token":      {k.APIKey},
			"subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"},
		}
		for n, v := range extra {
			form[n] = v
		}
		return e.post("/oauth2/token", form, h)
	}
	for _, tc := range []struct {
		name      string
		extra     url.Values
		header    http.Header
		status    int
		challenge bool
	}{
		{"no credentials", nil, nil, 200, false},
		{"right secret, Basic", nil, basic(id, secret), 200, false},
		{"right secret, form", url.Values{"client_id": {id}, "client_secret": {secret}}, nil, 200, false},
		{"wrong secret, Basic", nil, basic(id, "tgs_wrong"), 401, true},
		{"wrong secret, form", url.Values{"client_id": {id}, "client_secret": {"tgs_wrong"}}, nil, 401, false},
		{"client_id without a secret", url.Values{"client_id": {id}}, nil, 401, false},
		{"unknown client", nil, basic("tgc_nobody", "tgs_x"), 401, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(tc.extra, tc.header)
			if r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if tc.status == 401 && r.body["error"] != "invalid_client" {
				t.Errorf("error %s", r.raw)
			}
			if got := r.header.Get("WWW-Authenticate") != ""; got != tc.challenge {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// Wrong secrets on exchanges exhaust the client's budget: even the
	// right secret by client_credentials then waits.
	locked := false
	for i := 0; i < 30 && !locked; i++ {
		locked = exchange(nil, basic(id, "tgs_guess")).status == 429
	}
	if !locked {
		t.Fatal("30 wrong secrets on token exchanges were never locked out")
	}
	if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)); r.status != 429 {
		t.Errorf("client_credentials after the exchange lockout: %d %s", r.status, r.raw)
	}
}

// TestDiscoveryPublishesOnlyPublicScopes: the unauthenticated RFC 8414
// document lists the scopes the operator marks public and nothing of the
// clients' (tollgate:admin least of all), and no empty list
// (RFC 8414 §3.2).
func TestDiscoveryPublishesOnlyPublicScopes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, public string
		want         []string // nil: scopes_supported absent
	}{
		{"default", "", nil},
		{"marked public", "orders:read  orders:write", []string{"orders:read", "orders:write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, embedded)
			e.vars["TOLLGATE_PUBLIC_SCOPES"] = tc.public
			e.newClient("--name", "admin", "--scopes", "tollgate:admin")
			e.newClient("--name", "secret-project", "--scopes", "project-x:launch orders:read")
			e.start()
			r := e.get("/.well-known/oauth-authorization-server")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			for _, leak := range []string{"tollgate:admin", "project-x:launch", "[]"} {
				if strings.Contains(r.raw, leak) {
					t.Errorf("the document holds %s: %s", leak, r.raw)
				}
			}
			if _, ok := r.body["response_types_supported"]; ok {
				t.Errorf("response_types_supported without an authorization endpoint: %s", r.raw)
			}
			got, ok := r.body["scopes_supported"]
			if tc.want == nil && ok || tc.want != nil && !slices.Equal(strs(got), tc.want) {
				t.Errorf("scopes_supported %v, want %v", got, tc.want)
			}
		})
	}
}
