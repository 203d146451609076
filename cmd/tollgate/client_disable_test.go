package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// cliRunner runs a tollgate command one way: on the database or through
// a server's admin API.
type cliRunner func(stdin string, args ...string) (string, error)

// cliModes returns the two ways an operator runs admin commands: directly
// on the database, and with --server as the given admin client. The
// server must be started.
func (e *testEnv) cliModes(adminID, adminSecret string) map[string]cliRunner {
	r := e.node() // a workstation: no database settings at all
	r.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": adminID, "TOLLGATE_ADMIN_CLIENT_SECRET": adminSecret}
	srv := "--server=" + e.srv.URL
	return map[string]cliRunner{
		"direct": e.cli,
		"remote": func(stdin string, args ...string) (string, error) {
			return r.cli(stdin, append([]string{srv}, args...)...)
		},
	}
}

// must runs a command that must succeed.
func (run cliRunner) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := run(stdin, args...)
	if err != nil {
		t.Fatalf("tollgate %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// nextSecond waits for the next whole second: iat has whole seconds, so a
// token issued in a revocation's second counts as revoked.
func nextSecond() {
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
}

// TestClientDisable: a disabled client gets invalid_client for every
// grant, its API keys stop exchanging, its tokens become inactive on the
// running server; enabled again, it gets new tokens. One backend disables
// on the database and enables through the admin API, the other the
// reverse, so both reach the server's client cache.
func TestClientDisable(t *testing.T) {
	for i, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
			rsID, rsSecret := e.rsClient()
			id, secret := e.newClient("--name", "svc", "--grant-types", "client_credentials,password,refresh_token", "--scopes", "orders:read")
			e.createUser("dora", "correct horse battery", "")
			e.start()
			modes := e.cliModes(adminID, adminSecret)
			disable, enable := modes["direct"], modes["remote"]
			if i%2 == 1 {
				disable, enable = enable, disable
			}
			key := apiKeyOf(t, e.mustCLI("", "apikey", "create", "--client", id, "--name", "k", "--json"))
			tok := e.ccToken(id, secret)
			login := e.login(id, secret, "dora", "correct horse battery")
			if login.status != 200 || e.exchange(key, nil).status != 200 {
				t.Fatalf("before disabling: login %d %s", login.status, login.raw)
			}
			userTok, rt := login.body["access_token"].(string), login.body["refresh_token"].(string)

			out := disable.must(t, "", "client", "update", id, "--disabled", "--json")
			var v struct{ Disabled bool }
			if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Disabled {
				t.Fatalf("client update --disabled printed %q", out)
			}
			refused := func(what string, r response) {
				t.Helper()
				desc, _ := r.body["error_description"].(string)
				if r.status != 401 || r.body["error"] != "invalid_client" || !strings.Contains(desc, "disabled") || r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s by a disabled client: %d %s", what, r.status, r.raw)
				}
			}
			if !eventually(3*time.Second, func() bool {
				return e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)).status == 401
			}) {
				t.Fatal("the server kept issuing tokens to the disabled client")
			}
			refused("client_credentials", e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)))
			refused("password", e.login(id, secret, "dora", "correct horse battery"))
			refused("refresh_token", e.refresh(id, secret, rt))
			if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, "tgs_wrong")); r.status != 401 || strings.Contains(r.raw, "disabled") {
				t.Errorf("a wrong secret learnt that the client is disabled: %s", r.raw)
			}
			if r := e.exchange(key, nil); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Errorf("exchange of a disabled client's key: %d %s", r.status, r.raw)
			}
			for name, tk := range map[string]string{"client token": tok, "user token": userTok} {
				if !eventually(3*time.Second, func() bool { return e.introspect(rsID, rsSecret, tk).raw == `{"active":false}` }) {
					t.Errorf("%s of a disabled client is still active", name)
				}
			}

			nextSecond()
			enable.must(t, "", "client", "update", id, "--enabled")
			if !eventually(3*time.Second, func() bool {
				return e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)).status == 200
			}) {
				t.Fatal("the enabled client gets no token")
			}
			if r := e.introspect(rsID, rsSecret, e.ccToken(id, secret)); r.body["active"] != true {
				t.Errorf("new token of the enabled client: %s", r.raw)
			}
			if r := e.exchange(key, nil); r.status != 200 {
				t.Errorf("exchange after enabling: %d %s", r.status, r.raw)
			}
			if r := e.introspect(rsID, rsSecret, tok); r.body["active"] != false {
				t.Errorf("enabling brought a revoked token back: %s", r.raw)
			}
			// The admin API shows the state, as openapi.json documents it.
			a := e.newAdmin()
			if r := a.call("PATCH", "/clients/"+id, map[string]any{"disabled": true}); r.status != 200 || r.body["disabled"] != true {
				t.Errorf("PATCH disabled: %d %s", r.status, r.raw)
			}
			if r := a.call("GET", "/clients/"+id, nil); r.body["disabled"] != true {
				t.Errorf("GET a disabled client: %s", r.raw)
			}
		})
	}
}

func apiKeyOf(t *testing.T, out string) string {
	t.Helper()
	var k struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.APIKey == "" {
		t.Fatalf("apikey create printed %q", out)
	}
	return k.APIKey
}

// TestRotateSecretOverlap: rotate-secret prints the new secret once; the
// old one keeps working during the overlap, and --overlap 0 stops it.
func TestRotateSecretOverlap(t *testing.T) {
	e := newTestEnv(t, embedded)
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	id, first := e.newClient("--name", "svc")
	e.start()
	modes := e.cliModes(adminID, adminSecret)
	works := func(secret string) bool {
		return e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)).status == 200
	}
	secretOf := func(out string) (string, string) {
		var r struct {
			ClientSecret string `json:"client_secret"`
			Expires      string `json:"previous_secret_expires_at"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || !strings.HasPrefix(r.ClientSecret, "tgs_") {
			t.Fatalf("rotate-secret printed %q", out)
		}
		return r.ClientSecret, r.Expires
	}

	second, until := secretOf(modes["direct"].must(t, "", "client", "rotate-secret", id, "--overlap", "1h", "--json"))
	if at, err := time.Parse(time.RFC3339, until); err != nil || at.Before(time.Now().Add(59*time.Minute)) {
		t.Errorf("previous secret expires at %q, want in an hour", until)
	}
	if !eventually(3*time.Second, func() bool { return works(second) }) || !works(first) {
		t.Errorf("during the overlap: new works %v, old works %v", works(second), works(first))
	}

	out := modes["remote"].must(t, "", "client", "rotate-secret", id, "--overlap", "0")
	third := strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[1], "client_secret:"))
	if !strings.HasPrefix(third, "tgs_") || !works(third) {
		t.Fatalf("rotate-secret printed %q", out)
	}
	if works(second) || works(first) {
		t.Error("an older secret works after --overlap 0")
	}
	if _, err := modes["direct"].run("", "client", "rotate-secret", id, "--overlap", "-1s"); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("negative overlap: %v", err)
	}
	if _, err := modes["remote"].run("", "client", "rotate-secret", "tgc_nope"); err == nil {
		t.Error("rotating an unknown client's secret succeeded")
	}
}

// run calls the runner (for symmetry with must).
func (run cliRunner) run(stdin string, args ...string) (string, error) { return run(stdin, args...) }
