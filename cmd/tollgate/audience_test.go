package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// audienceKeyStates lists "alg:state" of an audience view's keys.
func audienceKeyStates(t *testing.T, body map[string]any) []string {
	t.Helper()
	keys, ok := body["keys"].([]any)
	if !ok {
		t.Fatalf("no keys list in %v", body)
	}
	var out []string
	for _, k := range keys {
		m := k.(map[string]any)
		out = append(out, m["alg"].(string)+":"+m["state"].(string))
	}
	return out
}

// TestAudienceAdminAPI walks /admin/v1/audiences on both storage setups:
// every answer as openapi.json documents it, errors as problem+json, the
// changes audited, and an audience made encrypted here encrypts the
// running server's tokens at once.
func TestAudienceAdminAPI(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			a := e.newAdmin()
			const name = "https://payments.example.com"
			path := "/audiences/" + url.PathEscape(name)

			r := a.call("POST", "/audiences", map[string]any{"name": name, "encrypted": true})
			if r.status != 201 || r.header.Get("Location") != "/admin/v1"+path || strings.Join(audienceKeyStates(t, r.body), ",") != "ECDH-ES+A256KW:active" {
				t.Fatalf("create: %d %v %s", r.status, r.header.Get("Location"), r.raw)
			}
			id, sec := e.newClient("--name", "payer", "--audience", name)
			tok := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, sec))
			if at, _ := tok.body["access_token"].(string); tok.status != 200 || strings.Count(at, ".") != 4 {
				t.Errorf("token for the new encrypted audience: %d %.80s; want a 5-part JWE", tok.status, tok.raw)
			}

			for _, tc := range []struct {
				what   string
				method string
				path   string
				body   any
				status int
				field  string
			}{
				{"duplicate", "POST", "/audiences", map[string]any{"name": name}, 409, "name"},
				{"space in the name", "POST", "/audiences", map[string]any{"name": "my api"}, 400, "name"},
				{"alg dir", "POST", "/audiences", map[string]any{"name": "urn:x", "encrypted": true, "key_algorithm": "dir"}, 400, "key_algorithm"},
				{"unknown field", "POST", "/audiences", `{"name":"urn:x","zip":"DEF"}`, 400, ""},
				{"unknown audience", "GET", "/audiences/urn:missing", nil, 404, ""},
				{"rotate an unknown audience", "POST", "/audiences/urn:missing/rotate-key", nil, 404, ""},
				{"patch with alg none", "PATCH", path, map[string]any{"key_algorithm": "none"}, 400, "key_algorithm"},
			} {
				r := a.call(tc.method, tc.path, tc.body)
				if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: %d %s %s, want %d problem+json", tc.what, r.status, r.header.Get("Content-Type"), r.raw, tc.status)
				}
				if tc.field != "" && !strings.Contains(r.raw, `"field":"`+tc.field+`"`) {
					t.Errorf("%s: %s does not name %s", tc.what, r.raw, tc.field)
				}
			}

			r = a.call("POST", path+"/rotate-key", nil)
			if got := strings.Join(audienceKeyStates(t, r.body), ","); r.status != 200 || got != "ECDH-ES+A256KW:active,ECDH-ES+A256KW:pending" {
				t.Errorf("rotate: %d %s", r.status, got)
			}
			r = a.call("PATCH", path, map[string]any{"encrypted": false})
			if got := strings.Join(audienceKeyStates(t, r.body), ","); r.status != 200 || r.body["encrypted"] != false || strings.Contains(got, "active") || strings.Contains(got, "pending") {
				t.Errorf("turn off: %d %s", r.status, r.raw)
			}
			if r := a.call("POST", path+"/rotate-key", nil); r.status != 409 || !strings.Contains(r.raw, "turn encryption on first") {
				t.Errorf("rotate a plain audience: %d %s", r.status, r.raw)
			}
			tok = e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, sec))
			if at, _ := tok.body["access_token"].(string); tok.status != 200 || strings.Count(at, ".") != 2 {
				t.Errorf("token after turning encryption off: %d %.80s; want a JWS", tok.status, tok.raw)
			}
			if r := a.call("GET", "/audiences", nil); r.status != 200 || !strings.Contains(r.raw, `"name":"`+name+`"`) {
				t.Errorf("list: %d %s", r.status, r.raw)
			}
			if r := a.call("DELETE", path, nil); r.status != 204 {
				t.Errorf("delete: %d %s", r.status, r.raw)
			}
			if r := a.call("GET", path, nil); r.status != 404 || !strings.Contains(r.raw, "no such audience") {
				t.Errorf("get deleted: %d %s", r.status, r.raw)
			}
			r = a.call("GET", "/audit?target="+url.QueryEscape("audience:"+name), nil)
			var actions []string
			for _, it := range r.body["items"].([]any) {
				actions = append(actions, it.(map[string]any)["action"].(string))
			}
			if got, want := strings.Join(actions, ","), "audience.create,audience.rotate_key,audience.update,audience.delete"; got != want {
				t.Errorf("audit: %s, want %s", got, want)
			}
		})
	}
}

// TestAdminSubjectClaims: claims and private_claims on clients and users
// through the admin API: stored compacted, shown, removed by null,
// refused with a field error when they would override Tollgate's claims
// or each other.
func TestAdminSubjectClaims(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	a := e.newAdmin()
	r := a.call("POST", "/clients", map[string]any{"client_name": "partner", "claims": map[string]any{"tenant": "acme"}, "private_claims": map[string]any{"risk": 0.25}})
	if r.status != 201 || !strings.Contains(r.raw, `"claims":{"tenant":"acme"},"private_claims":{"risk":0.25}`) {
		t.Fatalf("create client: %d %s", r.status, r.raw)
	}
	id := r.body["client_id"].(string)
	r = a.call("PATCH", "/clients/"+id, map[string]any{"claims": nil})
	if r.status != 200 || strings.Contains(r.raw, `"claims":{`) || !strings.Contains(r.raw, `"private_claims":{"risk":0.25}`) {
		t.Errorf("remove claims: %d %s", r.status, r.raw)
	}
	r = a.call("POST", "/users", map[string]any{"username": "dana", "password": "long enough", "private_claims": map[string]any{"email": "dana@example.com"}})
	if r.status != 201 || !strings.Contains(r.raw, `"private_claims":{"email":"dana@example.com"}`) {
		t.Fatalf("create user: %d %s", r.status, r.raw)
	}
	uid := r.body["id"].(string)
	if r := a.call("GET", "/users/"+uid, nil); !strings.Contains(r.raw, `"private_claims":{"email":"dana@example.com"}`) {
		t.Errorf("get user: %s", r.raw)
	}
	for _, tc := range []struct {
		what, method, path string
		body               any
		field              string
	}{
		{"client claim sub", "PATCH", "/clients/" + id, map[string]any{"claims": map[string]any{"sub": "root"}}, "claims"},
		{"client claims a list", "POST", "/clients", map[string]any{"client_name": "x", "claims": []string{"a"}}, "claims"},
		{"client claim both public and private", "PATCH", "/clients/" + id, map[string]any{"claims": map[string]any{"risk": 1}}, "private_claims"},
		{"user private scope", "PATCH", "/users/" + uid, map[string]any{"private_claims": map[string]any{"scope": "tollgate:admin"}}, "private_claims"},
		{"user claims too large", "POST", "/users", map[string]any{"username": "big", "password": "long enough", "claims": map[string]any{"x": strings.Repeat("y", 2000)}}, "claims"},
	} {
		r := a.call(tc.method, tc.path, tc.body)
		if r.status != 400 || !strings.Contains(r.raw, `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.what, r.status, r.raw, tc.field)
		}
	}
}

// TestAudienceCLI runs the audience commands and the claim flags on the
// database and over the admin API (--server).
func TestAudienceCLI(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["USER"] = "ops-bob"
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	e.start()
	remote := e.node()
	remote.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": adminID, "TOLLGATE_ADMIN_CLIENT_SECRET": adminSecret}
	modes := map[string]struct {
		env  *testEnv
		args []string
	}{
		"direct": {e, nil},
		"remote": {remote, []string{"--server=" + e.srv.URL}},
	}
	for mode, m := range modes {
		t.Run(mode, func(t *testing.T) {
			cli := func(args ...string) (string, error) { return m.env.cli("", append(m.args, args...)...) }
			must := func(args ...string) string {
				t.Helper()
				out, err := cli(args...)
				if err != nil {
					t.Fatalf("tollgate %s: %v", strings.Join(args, " "), err)
				}
				return out
			}
			name := "https://" + mode + ".example.com/api"
			var v struct {
				Name         string `json:"name"`
				Encrypted    bool   `json:"encrypted"`
				KeyAlgorithm string `json:"key_algorithm"`
				Keys         []struct {
					KID   string `json:"kid"`
					Alg   string `json:"alg"`
					State string `json:"state"`
				} `json:"keys"`
			}
			if err := json.Unmarshal([]byte(must("audience", "create", name, "--encrypt", "--alg", "RSA-OAEP-256", "--json")), &v); err != nil ||
				!v.Encrypted || v.KeyAlgorithm != "RSA-OAEP-256" || len(v.Keys) != 1 || v.Keys[0].State != "active" || v.Keys[0].Alg != "RSA-OAEP-256" {
				t.Fatalf("create: %+v (%v)", v, err)
			}
			first := v.Keys[0].KID
			out := must("audience", "rotate-key", name)
			if !strings.Contains(out, first) || !strings.Contains(out, "pending") || !strings.Contains(out, "RETIRED_AT") {
				t.Errorf("rotate-key:\n%s", out)
			}
			if out := must("audience", "list"); !strings.Contains(out, name) || !strings.Contains(out, "1 active, 1 pending") {
				t.Errorf("list:\n%s", out)
			}
			if _, err := cli("audience", "create", name); err == nil || !strings.Contains(err.Error(), "already taken") {
				t.Errorf("duplicate: %v", err)
			}
			if _, err := cli("audience", "create", "two words"); err == nil || !strings.Contains(err.Error(), "without spaces") {
				t.Errorf("bad name: %v", err)
			}
			if _, err := cli("audience", "create", "urn:x", "--encrypt", "--alg", "A128KW"); err == nil || !strings.Contains(err.Error(), "key_algorithm") {
				t.Errorf("bad alg: %v", err)
			}
			if out := must("audience", "update", name, "--encrypt=false"); !strings.Contains(out, "encrypted: false") || strings.Contains(out, "active ") {
				t.Errorf("update --encrypt=false:\n%s", out)
			}
			if _, err := cli("audience", "rotate-key", name); err == nil || !strings.Contains(err.Error(), "turn encryption on first") {
				t.Errorf("rotate a plain audience: %v", err)
			}
			must("audience", "delete", name)
			if _, err := cli("audience", "delete", name); err == nil || !strings.Contains(err.Error(), "audience") {
				t.Errorf("delete twice: %v", err)
			}

			// Claims on clients and users.
			out = must("client", "create", "--name", "partner-"+mode, "--claim", "tenant=acme", "--claim", "tier=2", "--private-claim", "zip=01234", "--json")
			var c struct {
				ClientID      string          `json:"client_id"`
				Claims        json.RawMessage `json:"claims"`
				PrivateClaims json.RawMessage `json:"private_claims"`
			}
			if err := json.Unmarshal([]byte(out), &c); err != nil || compact(t, c.Claims) != `{"tenant":"acme","tier":2}` || compact(t, c.PrivateClaims) != `{"zip":"01234"}` {
				t.Fatalf("client create with claims: %s (%v)", out, err)
			}
			must("client", "update", c.ClientID, "--claim", "")
			if out := must("client", "show", c.ClientID); !strings.Contains(out, `{"zip":"01234"}`) || strings.Contains(out, "tenant") {
				t.Errorf("after --claim \"\":\n%s", out)
			}
			if _, err := cli("client", "update", c.ClientID, "--claim", "zip=1"); err == nil || !strings.Contains(err.Error(), "also a public claim") {
				t.Errorf("public claim colliding with a private one: %v", err)
			}
			if _, err := cli("client", "update", c.ClientID, "--claim", "novalue"); err == nil || !strings.Contains(err.Error(), "name=value") {
				t.Errorf("--claim without =: %v", err)
			}
			user := "carol-" + mode
			if _, err := m.env.cli("long enough pw\n", append(m.args, "user", "create", "--username", user, "--password-stdin", "--private-claim", "email=c@example.com")...); err != nil {
				t.Fatal(err)
			}
			if _, err := cli("user", "update", user, "--claim", `groups=["a","b"]`); err == nil || !strings.Contains(err.Error(), `"groups" is a registered claim`) {
				t.Errorf("user --claim groups: %v", err)
			}
			var u struct {
				Claims        json.RawMessage `json:"claims"`
				PrivateClaims json.RawMessage `json:"private_claims"`
			}
			out = must("user", "update", user, "--claim", `teams=["a","b"]`, "--json")
			if err := json.Unmarshal([]byte(out), &u); err != nil || compact(t, u.Claims) != `{"teams":["a","b"]}` || compact(t, u.PrivateClaims) != `{"email":"c@example.com"}` {
				t.Errorf("user update --claim: %s (%v)", out, err)
			}
			if out := must("user", "show", user); !strings.Contains(out, `{"teams":["a","b"]}`) {
				t.Errorf("user show:\n%s", out)
			}
		})
	}
}

// compact returns raw without insignificant space ("" for none).
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compact %q: %v", raw, err)
	}
	return b.String()
}

func TestClaimsObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pairs   []string
		want    string
		wantErr string
	}{
		{"strings", []string{"tenant=acme", "region=eu-west"}, `{"region":"eu-west","tenant":"acme"}`, ""},
		{"JSON values keep their type", []string{"tier=2", "beta=true", `plan={"seats":5}`, `quoted="2"`}, `{"beta":true,"plan":{"seats":5},"quoted":"2","tier":2}`, ""},
		{"not JSON is a string", []string{"zip=01234", "note=a b", "empty="}, `{"empty":"","note":"a b","zip":"01234"}`, ""},
		{"value with =", []string{"expr=a=b"}, `{"expr":"a=b"}`, ""},
		{"one empty flag removes them", []string{""}, `null`, ""},
		{"no =", []string{"tenant"}, "", "name=value"},
		{"no name", []string{"=acme"}, "", "name=value"},
		{"twice", []string{"a=1", "a=2"}, "", "given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := claimsObject("--claim", tc.pairs)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
			case err != nil || string(got) != tc.want:
				t.Errorf("= %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}
