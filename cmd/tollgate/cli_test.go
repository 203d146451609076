package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIOverAdminAPI drives the admin commands with --server, as an
// operator without database access would, and checks the audit log names
// each actor.
func TestCLIOverAdminAPI(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["USER"] = "ops-alice"
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	e.start()
	remote := e.node() // a workstation: no database settings at all
	remote.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": adminID, "TOLLGATE_ADMIN_CLIENT_SECRET": adminSecret}
	srv := "--server=" + e.srv.URL

	out := remote.mustCLI("", srv, "client", "create", "--name", "reports", "--scopes", "reports:read", "--json")
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientSecret == "" {
		t.Fatalf("remote client create: %q %v", out, err)
	}
	remote.mustCLI("a long passphrase\n", srv, "user", "create", "--username", "erin", "--password-stdin")
	out = remote.mustCLI("", srv, "apikey", "create", "--user", "erin", "--name", "cron", "--scopes", "reports:read", "--json")
	var k struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || !strings.HasPrefix(k.APIKey, "tgk_") {
		t.Fatalf("remote apikey create: %q %v", out, err)
	}
	if r := e.exchange(k.APIKey, nil); r.status != 200 {
		t.Fatalf("exchange of a key made over the API: %d %s", r.status, r.raw)
	}
	if out := remote.mustCLI("", srv, "apikey", "list", "--user", "erin"); !strings.Contains(out, k.ID) || strings.Contains(out, k.APIKey) {
		t.Errorf("apikey list: %s", out)
	}
	if out := remote.mustCLI("", srv, "client", "list"); !strings.Contains(out, c.ClientID) {
		t.Errorf("client list: %s", out)
	}
	remote.mustCLI("", srv, "keys", "list")
	remote.mustCLI("", srv, "revoke", "--user", "erin")
	remote.mustCLI("", srv, "apikey", "revoke", k.ID)
	if r := e.exchange(k.APIKey, nil); r.status != 400 {
		t.Errorf("exchange after remote revoke: %d", r.status)
	}
	if _, err := remote.cli("", srv, "client", "create", "--name", "reports"); err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("duplicate over the API: %v", err)
	}
	bad := e.node()
	bad.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": c.ClientID, "TOLLGATE_ADMIN_CLIENT_SECRET": c.ClientSecret}
	if _, err := bad.cli("", srv, "client", "list"); err == nil {
		t.Error("a client without tollgate:admin used the admin API")
	}

	// Directly on the database, the actor is the OS user.
	e.mustCLI("", "apikey", "create", "--client", c.ClientID, "--name", "direct")
	a := e.newAdmin()
	r := a.call("GET", "/audit?action=apikey.create", nil)
	if !strings.Contains(r.raw, `"actor":"client:`+adminID+`"`) || !strings.Contains(r.raw, `"actor":"cli:ops-alice"`) {
		t.Errorf("audit actors: %s", r.raw)
	}
}
