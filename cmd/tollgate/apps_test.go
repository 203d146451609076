package main

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// appToken gets a client's token with the tollgate:apikeys scope.
func (e *testEnv) appToken(id, secret string) *adminAPI {
	e.t.Helper()
	r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"tollgate:apikeys"}}, basic(id, secret))
	if r.status != 200 {
		e.t.Fatalf("app token: %d %s", r.status, r.raw)
	}
	return &adminAPI{e: e, token: r.body["access_token"].(string)}
}

// newApp registers an application's backend client as INTEGRATE.md does.
func (e *testEnv) newApp(name, audience string) (id, secret string) {
	return e.newClient("--name", name, "--scopes", "tollgate:apikeys notes:read notes:write",
		"--roles", "editor,viewer", "--audience", audience)
}

// jwtPayload decodes a JWT's payload without verifying it (the server's
// own verify helper checks the signature elsewhere).
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAppSubjectKeys is the first "done when": an application
// client with tollgate:apikeys mints, lists, narrows and revokes keys of
// its own users, who never exist in Tollgate; another application sees
// none of them; the exchanged token carries the subject, roles, claims and
// the app's audience.
func TestAppSubjectKeys(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			rsID, rsSecret := e.rsClient()
			aID, aSecret := e.newApp("notes-app", "https://notes.example")
			bID, bSecret := e.newApp("other-app", "https://other.example")
			appA, appB := e.appToken(aID, aSecret), e.appToken(bID, bSecret)

			r := appA.call("POST", "/api-keys", map[string]any{"owner_type": "subject", "owner_id": "42", "name": "laptop",
				"scope": "notes:read", "roles": []string{"editor"}, "claims": map[string]any{"tenant": "acme"}, "expires_in": 3600})
			if r.status != 201 || r.body["owner_type"] != "subject" || r.body["owner_id"] != "42" || r.body["client_id"] != aID || r.body["expires_at"] == nil {
				t.Fatalf("create subject key: %d %s", r.status, r.raw)
			}
			key, keyID := r.body["api_key"].(string), r.body["id"].(string)

			r = e.exchange(key, nil)
			if r.status != 200 || r.body["scope"] != "notes:read" {
				t.Fatalf("exchange: %d %s", r.status, r.raw)
			}
			tok := r.body["access_token"].(string)
			if c := e.verify(tok); c.Subject != "42" || c.ClientID != aID {
				t.Errorf("verified token: sub %q client_id %q", c.Subject, c.ClientID)
			}
			claims := jwtPayload(t, tok)
			if claims["sub"] != "42" || claims["client_id"] != aID || claims["aud"] != "https://notes.example" ||
				claims["api_key_id"] != keyID || claims["tenant"] != "acme" || !equalJSON(claims["roles"], []any{"editor"}) {
				t.Errorf("token claims: %v", claims)
			}
			if in := e.introspect(rsID, rsSecret, tok); in.body["active"] != true || in.body["sub"] != "42" {
				t.Errorf("introspection: %s", in.raw)
			}

			// The app's token reaches its subjects' keys and nothing else.
			for _, p := range []string{"/clients", "/users", "/audit", "/signing-keys", "/clients/" + aID} {
				if r := appA.call("GET", p, nil); r.status != 403 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
					t.Errorf("GET %s with a tollgate:apikeys token: %d %s", p, r.status, r.raw)
				}
			}
			if r := appA.call("POST", "/api-keys", map[string]any{"owner_type": "client", "owner_id": aID, "name": "x"}); r.status != 403 {
				t.Errorf("app creating a client key: %d %s", r.status, r.raw)
			}
			if r := appA.call("POST", "/api-keys", map[string]any{"owner_type": "subject", "owner_id": "1", "client_id": bID, "name": "x"}); r.status != 403 {
				t.Errorf("app creating a key for another app's subject: %d %s", r.status, r.raw)
			}

			// App B: the same subject ID is its own; A's key is not there.
			r = appB.call("POST", "/api-keys", map[string]any{"owner_type": "subject", "owner_id": "42", "name": "b"})
			if r.status != 201 || r.body["scope"] != "notes:read notes:write" {
				t.Fatalf("app B's key for its subject 42: %d %s", r.status, r.raw)
			}
			bKey := r.body["api_key"].(string)
			for _, c := range []struct{ method, path string }{{"GET", "/api-keys/" + keyID}, {"DELETE", "/api-keys/" + keyID}, {"PATCH", "/api-keys/" + keyID}} {
				var body any
				if c.method == "PATCH" {
					body = map[string]any{"name": "stolen"}
				}
				if r := appB.call(c.method, c.path, body); r.status != 404 {
					t.Errorf("app B %s A's key: %d %s", c.method, r.status, r.raw)
				}
			}
			if r := appB.call("GET", "/api-keys?owner_type=subject&client_id="+aID, nil); r.status != 403 {
				t.Errorf("app B listing A's subjects: %d %s", r.status, r.raw)
			}
			r = appB.call("GET", "/api-keys?owner_id=42", nil)
			if r.status != 200 || strings.Contains(r.raw, keyID) || len(r.body["items"].([]any)) != 1 {
				t.Errorf("app B's list: %d %s", r.status, r.raw)
			}
			r = appA.call("GET", "/api-keys?owner_id=42", nil)
			if r.status != 200 || len(r.body["items"].([]any)) != 1 || strings.Contains(r.raw, key) {
				t.Errorf("app A's list: %d %s", r.status, r.raw)
			}

			// Narrow: no roles, no claims, a new name.
			r = appA.call("PATCH", "/api-keys/"+keyID, map[string]any{"name": "laptop (old)", "roles": []string{}, "claims": nil})
			if r.status != 200 || r.body["name"] != "laptop (old)" || r.body["roles"] != nil || r.body["claims"] != nil {
				t.Fatalf("narrow: %d %s", r.status, r.raw)
			}
			if r := appA.call("PATCH", "/api-keys/"+keyID, map[string]any{"scope": "notes:admin"}); r.status != 400 {
				t.Errorf("widening beyond the app's scopes: %d %s", r.status, r.raw)
			}
			if !eventually(7*time.Second, func() bool {
				r := e.exchange(key, nil)
				return r.status == 200 && jwtPayload(t, r.body["access_token"].(string))["tenant"] == nil
			}) {
				t.Error("the narrowed key still buys tokens with its old claims")
			}

			// The app deletes user 42: one call revokes every key of it.
			appA.call("POST", "/api-keys", map[string]any{"owner_type": "subject", "owner_id": "42", "name": "second"})
			r = appA.call("POST", "/api-keys/revoke", map[string]any{"owner_type": "subject", "owner_id": "42"})
			if r.status != 200 || r.body["revoked"] != float64(2) {
				t.Fatalf("revoke subject 42: %d %s", r.status, r.raw)
			}
			if r := e.exchange(key, nil); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Errorf("exchange after the subject's revocation: %d %s", r.status, r.raw)
			}
			if r := e.introspect(rsID, rsSecret, tok); r.raw != `{"active":false}` {
				t.Errorf("token of a revoked subject key: %s", r.raw)
			}
			if r := e.exchange(bKey, nil); r.status != 200 {
				t.Errorf("app B's subject 42 lost its key with A's: %d %s", r.status, r.raw)
			}
			a := e.newAdmin()
			r = a.call("GET", "/audit", nil)
			if !strings.Contains(r.raw, `"actor":"client:`+aID+`","action":"apikey.revoke_subject","target":"subject:`+aID+`/42"`) {
				t.Errorf("audit lacks the app's subject revocation: %s", r.raw)
			}
		})
	}
}

// TestAppSubjectKeyBadInput: every bad input of the issue is 400
// problem+json naming the field, and nothing is stored.
func TestAppSubjectKeyBadInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	aID, aSecret := e.newApp("notes-app", "https://notes.example")
	app := e.appToken(aID, aSecret)
	admin := e.newAdmin()
	base := func(over map[string]any) map[string]any {
		m := map[string]any{"owner_type": "subject", "owner_id": "42", "name": "k"}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	big := map[string]any{}
	for i := range 20 {
		big[strings.Repeat("c", 3)+string(rune('a'+i))] = strings.Repeat("v", 40)
	}
	cases := []struct {
		name  string
		api   *adminAPI
		body  map[string]any
		field string
	}{
		{"UnknownOwnerType", admin, base(map[string]any{"owner_type": "group", "client_id": nil}), "owner_type"},
		{"EmptyOwnerID", app, base(map[string]any{"owner_id": ""}), "owner_id"},
		{"OwnerIDTooLong", app, base(map[string]any{"owner_id": strings.Repeat("x", 257)}), "owner_id"},
		{"OwnerIDControl", app, base(map[string]any{"owner_id": "4\u00002"}), "owner_id"},
		{"OwnerIDIsTheApp", app, base(map[string]any{"owner_id": aID}), "owner_id"},
		{"ClaimsNotObject", app, base(map[string]any{"claims": []int{1}}), "claims"},
		{"ClaimsString", app, base(map[string]any{"claims": "tenant"}), "claims"},
		{"ClaimsTooLarge", app, base(map[string]any{"claims": big}), "claims"},
		{"ClaimsRegisteredSub", app, base(map[string]any{"claims": map[string]any{"sub": "1"}}), "claims"},
		{"ClaimsRegisteredScope", app, base(map[string]any{"claims": map[string]any{"scope": "tollgate:admin"}}), "claims"},
		{"ScopeBeyondApp", app, base(map[string]any{"scope": "notes:admin"}), "scope"},
		{"ReservedScope", app, base(map[string]any{"scope": "tollgate:apikeys"}), "scope"},
		{"RoleBeyondApp", app, base(map[string]any{"roles": []string{"root"}}), "roles"},
		{"AdminUnknownClient", admin, base(map[string]any{"client_id": "tgc_nope"}), "client_id"},
		{"AdminNoClient", admin, base(nil), "client_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.api.call("POST", "/api-keys", tc.body)
			if r.status != 400 || !strings.Contains(r.header.Get("Content-Type"), "application/problem+json") || !strings.Contains(r.raw, `"field":"`+tc.field+`"`) {
				t.Errorf("%d %s; want 400 naming %s", r.status, r.raw, tc.field)
			}
		})
	}
	if r := admin.call("GET", "/api-keys", nil); r.status != 200 || len(r.body["items"].([]any)) != 0 {
		t.Errorf("something was stored: %s", r.raw)
	}
	if r := app.call("GET", "/api-keys?owner_id=%ff", nil); r.status != 400 || !strings.Contains(r.raw, `"field":"owner_id"`) {
		t.Errorf("list with invalid UTF-8 owner_id: %d %s", r.status, r.raw)
	}
	if r := app.call("POST", "/api-keys/revoke", map[string]any{"owner_type": "user", "owner_id": "42"}); r.status != 400 {
		t.Errorf("revoke with owner_type user: %d %s", r.status, r.raw)
	}
}

// TestSubjectRevocationReachesEveryNode: the app revokes its user's keys
// on node B; the token bought on node A is inactive on A the moment B
// answers.
func TestSubjectRevocationReachesEveryNode(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, 2)
	a, b := nodes[0], nodes[1]
	rsID, rsSecret := a.rsClient()
	appID, appSecret := a.newApp("notes-app", "https://notes.example")
	for _, n := range nodes {
		n.start()
	}
	onA := a.appToken(appID, appSecret)
	r := onA.call("POST", "/api-keys", map[string]any{"owner_type": "subject", "owner_id": "u-7", "name": "cli"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	key := r.body["api_key"].(string)
	r = a.exchange(key, nil)
	if r.status != 200 {
		t.Fatalf("exchange on A: %d %s", r.status, r.raw)
	}
	tok := r.body["access_token"].(string)
	if in := a.introspect(rsID, rsSecret, tok); in.body["active"] != true {
		t.Fatalf("fresh token on A: %s", in.raw)
	}
	onB := b.appToken(appID, appSecret)
	if r := onB.call("POST", "/api-keys/revoke", map[string]any{"owner_type": "subject", "owner_id": "u-7"}); r.status != 200 {
		t.Fatalf("revoke on B: %d %s", r.status, r.raw)
	}
	if in := a.introspect(rsID, rsSecret, tok); in.raw != `{"active":false}` {
		t.Errorf("token on A after B revoked its subject's keys: %s", in.raw)
	}
	if r := a.exchange(key, nil); r.status != 400 {
		t.Errorf("exchange on A after revocation on B: %d %s", r.status, r.raw)
	}
}

// TestCLISubjectKeys: apikey create --subject/--client and apikey list
// --subject, on the database directly and with --server.
func TestCLISubjectKeys(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	appID, _ := e.newApp("notes-app", "https://notes.example")
	otherID, _ := e.newApp("other-app", "https://other.example")
	direct := e.mustCLI("", "apikey", "create", "--subject", "42", "--client", appID, "--name", "laptop",
		"--roles", "editor", "--claims", `{"tenant":"acme"}`, "--json")
	var k struct {
		ID        string         `json:"id"`
		APIKey    string         `json:"api_key"`
		OwnerType string         `json:"owner_type"`
		ClientID  string         `json:"client_id"`
		Claims    map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(direct), &k); err != nil || k.OwnerType != "subject" || k.ClientID != appID || k.Claims["tenant"] != "acme" {
		t.Fatalf("apikey create --subject: %q %v", direct, err)
	}
	if _, err := e.cli("", "apikey", "create", "--subject", "42", "--name", "x"); err == nil {
		t.Error("--subject without --client accepted")
	}
	e.start()
	remote := e.node()
	remote.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": adminID, "TOLLGATE_ADMIN_CLIENT_SECRET": adminSecret}
	srv := "--server=" + e.srv.URL
	out := remote.mustCLI("", srv, "apikey", "create", "--subject", "42", "--client", otherID, "--name", "other", "--json")
	var o struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.APIKey == "" {
		t.Fatalf("remote apikey create --subject: %q %v", out, err)
	}
	if r := e.exchange(o.APIKey, nil); r.status != 200 || jwtPayload(t, r.body["access_token"].(string))["sub"] != "42" {
		t.Errorf("exchange of the remote subject key: %d %s", r.status, r.raw)
	}
	for _, c := range []struct {
		env  *testEnv
		args []string
	}{
		{e, []string{"apikey", "list", "--subject", "42", "--client", appID}},
		{remote, []string{srv, "apikey", "list", "--subject", "42", "--client", appID}},
	} {
		args := c.args
		out := c.env.mustCLI("", args...)
		if !strings.Contains(out, k.ID) || strings.Contains(out, o.ID) || !strings.Contains(out, "subject:42@"+appID) {
			t.Errorf("tollgate %s: %s", strings.Join(args, " "), out)
		}
	}
	if out := remote.mustCLI("", srv, "apikey", "list", "--subject", "42"); !strings.Contains(out, k.ID) || !strings.Contains(out, o.ID) {
		t.Errorf("apikey list --subject over every app: %s", out)
	}
}
