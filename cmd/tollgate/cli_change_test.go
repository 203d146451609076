package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestChangeCommandsBothWays runs each new admin command on the database
// and through --server and checks what it printed and changed.
func TestChangeCommandsBothWays(t *testing.T) {
	e := newTestEnv(t, embedded)
	e.vars["USER"] = "ops-bob"
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	webID, webSecret := e.newClient("--name", "web", "--grant-types", "password,refresh_token", "--scopes", "profile")
	e.start()
	for name, run := range e.cliModes(adminID, adminSecret) {
		t.Run(name, func(t *testing.T) {
			id, _ := e.newClient("--name", "svc-"+name, "--scopes", "a b", "--roles", "r1", "--rate-limit", "7")
			// Only the flags given change.
			out := run.must(t, "", "client", "update", id, "--scopes", "a b c", "--access-token-ttl", "5m", "--json")
			var c struct {
				Scope          string   `json:"scope"`
				Roles          []string `json:"roles"`
				AccessTokenTTL int64    `json:"access_token_ttl"`
				RateLimit      int      `json:"rate_limit"`
			}
			if err := json.Unmarshal([]byte(out), &c); err != nil || c.Scope != "a b c" || c.AccessTokenTTL != 300 || c.RateLimit != 7 || len(c.Roles) != 1 {
				t.Errorf("client update printed %s", out)
			}
			out = run.must(t, "", "client", "update", id, "--roles", "", "--rate-limit", "0", "--json")
			if err := json.Unmarshal([]byte(out), &c); err != nil || len(c.Roles) != 0 || c.RateLimit != 0 || c.Scope != "a b c" {
				t.Errorf("clearing roles and rate limit printed %s", out)
			}
			if _, err := run("", "client", "update", id, "--scopes", "bad\"scope"); err == nil || !strings.Contains(err.Error(), "scope") {
				t.Errorf("invalid scope: %v", err)
			}
			if _, err := run("", "client", "update", id, "--disabled", "--enabled"); err == nil {
				t.Error("--disabled --enabled together succeeded")
			}
			if _, err := run("", "client", "update", "tgc_nope", "--rate-limit", "1"); err == nil {
				t.Error("updating an unknown client succeeded")
			}
			if out := run.must(t, "", "client", "revoke-tokens", id); !strings.Contains(out, "revoked every token issued to client "+id) {
				t.Errorf("client revoke-tokens printed %q", out)
			}

			user := "erin-" + name
			e.createUser(user, "first passphrase", "viewer")
			out = run.must(t, "", "user", "show", user, "--json")
			var u struct {
				ID       string   `json:"id"`
				Username string   `json:"username"`
				Roles    []string `json:"roles"`
				Disabled bool     `json:"disabled"`
			}
			if err := json.Unmarshal([]byte(out), &u); err != nil || u.Username != user || u.ID == "" {
				t.Fatalf("user show printed %s", out)
			}
			if out := run.must(t, "", "user", "show", u.ID); !strings.Contains(out, user) || !strings.Contains(out, "viewer") {
				t.Errorf("user show by id printed %s", out)
			}
			out = run.must(t, "", "user", "update", user, "--roles", "admin,support", "--disabled", "--json")
			if err := json.Unmarshal([]byte(out), &u); err != nil || !u.Disabled || strings.Join(u.Roles, ",") != "admin,support" {
				t.Errorf("user update printed %s", out)
			}
			if r := e.login(webID, webSecret, user, "first passphrase"); r.status != 400 {
				t.Errorf("login of a disabled user: %d", r.status)
			}
			run.must(t, "", "user", "update", u.ID, "--enabled")
			run.must(t, "second passphrase\n", "user", "set-password", user, "--password-stdin")
			if r := e.login(webID, webSecret, user, "second passphrase"); r.status != 200 {
				t.Errorf("login with the new password: %d %s", r.status, r.raw)
			}
			if r := e.login(webID, webSecret, user, "first passphrase"); r.status != 400 {
				t.Errorf("login with the old password: %d", r.status)
			}
			if _, err := run("short\n", "user", "set-password", user, "--password-stdin"); err == nil || !strings.Contains(err.Error(), "password") {
				t.Errorf("too short a password: %v", err)
			}
			if _, err := run("x\n", "user", "set-password", user); err == nil || !strings.Contains(err.Error(), "--password-stdin") {
				t.Errorf("set-password without --password-stdin: %v", err)
			}
			if out := run.must(t, "", "user", "revoke-tokens", user, "--json"); !strings.Contains(out, "revoked_at") {
				t.Errorf("user revoke-tokens printed %q", out)
			}
			if _, err := run("", "user", "show", "nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
				t.Errorf("show of an unknown user: %v", err)
			}

			out = run.must(t, "", "apikey", "create", "--client", id, "--name", "ci", "--json")
			var k struct {
				ID     string `json:"id"`
				APIKey string `json:"api_key"`
			}
			_ = json.Unmarshal([]byte(out), &k)
			out = run.must(t, "", "apikey", "show", k.ID)
			if !strings.Contains(out, "client:"+id) || !strings.Contains(out, "active") || strings.Contains(out, k.APIKey) {
				t.Errorf("apikey show printed %s", out)
			}
			if out := run.must(t, "", "apikey", "show", k.ID, "--json"); !strings.Contains(out, `"id": "`+k.ID+`"`) {
				t.Errorf("apikey show --json printed %s", out)
			}
			if _, err := run("", "apikey", "show", "nope"); err == nil {
				t.Error("show of an unknown key succeeded")
			}
		})
	}
}

// TestAuditList: audit list filters by target, action and time, keeps
// the newest --limit entries, on the database and through --server.
func TestAuditList(t *testing.T) {
	e := newTestEnv(t, embedded)
	e.vars["USER"] = "ops-carol"
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	id, _ := e.newClient("--name", "svc")
	for _, rl := range []string{"1", "2", "3"} {
		e.mustCLI("", "client", "update", id, "--rate-limit", rl)
	}
	e.start()
	for name, run := range e.cliModes(adminID, adminSecret) {
		t.Run(name, func(t *testing.T) {
			list := func(args ...string) []auditEntry {
				t.Helper()
				var out []auditEntry
				raw := run.must(t, "", append([]string{"audit", "list", "--json"}, args...)...)
				if err := json.Unmarshal([]byte(raw), &out); err != nil {
					t.Fatalf("audit list printed %q", raw)
				}
				return out
			}
			updates := list("--target", "client:"+id, "--action", "client.update")
			var after struct {
				RateLimit int `json:"rate_limit"`
			}
			if len(updates) != 3 || updates[0].Actor != "cli:ops-carol" || json.Unmarshal(updates[2].After, &after) != nil || after.RateLimit != 3 {
				t.Fatalf("%d updates of svc, the last one %s", len(updates), updates[len(updates)-1].After)
			}
			if got := list("--target", "client:"+id, "--limit", "2"); len(got) != 2 || got[1].ID != updates[2].ID || got[0].ID != updates[1].ID {
				t.Errorf("--limit 2 kept %+v, want the newest two", got)
			}
			if got := list("--since", "1h", "--action", "client.create"); len(got) != 2 {
				t.Errorf("creates in the last hour: %d", len(got))
			}
			if got := list("--since", time.Now().Add(time.Hour).Format(time.RFC3339)); len(got) != 0 {
				t.Errorf("entries since an hour ahead: %+v", got)
			}
			if out := run.must(t, "", "audit", "list", "--action", "client.update"); !strings.Contains(out, "ACTION") || strings.Count(out, "client.update") != 3 {
				t.Errorf("audit list table: %s", out)
			}
			if _, err := run("", "audit", "list", "--since", "yesterday"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
				t.Errorf("--since yesterday: %v", err)
			}
		})
	}
	a := e.newAdmin()
	if r := a.call("GET", "/audit?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil); r.status != 200 || r.raw != `{"items":[]}` {
		t.Errorf("admin API audit since an hour ahead: %d %s", r.status, r.raw)
	}
}

// TestUnknownCommands: a mistyped command at any level fails with a
// suggestion; a group alone prints its help.
func TestUnknownCommands(t *testing.T) {
	e := newTestEnv(t, embedded)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clinet"}, `unknown command "clinet" for "tollgate"; did you mean "client"?`},
		{[]string{"client", "udpate", "x"}, `unknown command "udpate" for "tollgate client"; did you mean "update"?`},
		{[]string{"user", "sho"}, `did you mean "show"?`},
		{[]string{"token", "decod"}, `did you mean "decode"?`},
		{[]string{"audit", "zzz"}, `unknown command "zzz" for "tollgate audit"`},
		{[]string{"client", "list", "extra"}, `unknown command "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if _, err := e.cli("", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if out := e.mustCLI("", "client"); !strings.Contains(out, "rotate-secret") {
		t.Errorf("tollgate client printed %q", out)
	}
	if v, vv := e.mustCLI("", "--version"), e.mustCLI("", "version"); v != vv || !strings.HasPrefix(v, "tollgate ") {
		t.Errorf("--version %q, version %q", v, vv)
	}
}

// TestServerWrongCredentials: --server with bad admin credentials says
// which variables to fix.
func TestServerWrongCredentials(t *testing.T) {
	e := newTestEnv(t, embedded)
	adminID, _ := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	plainID, plainSecret := e.newClient("--name", "plain")
	e.start()
	for name, tc := range map[string]struct{ id, secret, want string }{
		"wrong secret":  {adminID, "tgs_wrong", "invalid_client"},
		"unknown id":    {"tgc_nope", "tgs_wrong", "invalid_client"},
		"not an admin":  {plainID, plainSecret, "lacks the tollgate:admin scope"},
		"no secret set": {adminID, "", "set TOLLGATE_ADMIN_CLIENT_ID and TOLLGATE_ADMIN_CLIENT_SECRET"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.node()
			r.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": tc.id, "TOLLGATE_ADMIN_CLIENT_SECRET": tc.secret}
			_, err := r.cli("", "--server", e.srv.URL, "client", "list")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "TOLLGATE_ADMIN_CLIENT_ID") {
				t.Errorf("error %v, want one naming TOLLGATE_ADMIN_CLIENT_ID and %q", err, tc.want)
			}
		})
	}
}

// TestBuildInfoMetric: /metrics has tollgate_build_info = 1 with the
// version the CLI prints and the Go release.
func TestBuildInfoMetric(t *testing.T) {
	e := newTestEnv(t, embedded)
	e.start()
	version := strings.TrimSpace(strings.TrimPrefix(e.mustCLI("", "version"), "tollgate "))
	r := e.get("/metrics")
	want := `tollgate_build_info{go_version="` + runtime.Version() + `",revision="",version="` + version + `"} 1`
	if !strings.Contains(r.raw, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(r.raw, "build_info"))
	}
}
