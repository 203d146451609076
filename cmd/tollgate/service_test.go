package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// TestEmbeddedRestartKeepsEverything: clients, users, signing keys and
// refresh tokens survive a restart of the embedded default.
func TestEmbeddedRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	e, id, secret, userID := passwordSetup(t, embedded)
	r := e.login(id, secret, "alice", "correct horse battery")
	oldAccess, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)
	jwksBefore := e.get("/.well-known/jwks.json").raw

	e.stop()
	e.start()

	if got := e.get("/.well-known/jwks.json").raw; got != jwksBefore {
		t.Errorf("JWKS changed across restart:\n%s\n%s", jwksBefore, got)
	}
	if c := e.verify(oldAccess); c.Subject != userID {
		t.Errorf("token issued before the restart: sub %q", c.Subject)
	}
	if r := e.refresh(id, secret, rt); r.status != 200 {
		t.Fatalf("refresh token issued before the restart: %d %s", r.status, r.raw)
	}
	if r := e.login(id, secret, "alice", "correct horse battery"); r.status != 200 {
		t.Fatalf("user after restart: %d %s", r.status, r.raw)
	}
}

func (e *testEnv) get(path string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	return e.do(req)
}

func TestDiscoveryAndProbes(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.newClient("--name", "m", "--scopes", "b:read a:write")
			e.start()
			r := e.get("/.well-known/oauth-authorization-server")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			want := map[string]any{
				"issuer":                          e.srv.URL,
				"token_endpoint":                  e.srv.URL + "/oauth2/token",
				"jwks_uri":                        e.srv.URL + "/.well-known/jwks.json",
				"introspection_endpoint":          e.srv.URL + "/oauth2/introspect",
				"revocation_endpoint":             e.srv.URL + "/oauth2/revoke",
				"revocation_feed_endpoint":        e.srv.URL + "/oauth2/revocations",
				"revocation_feed_stream_endpoint": e.srv.URL + "/oauth2/revocations/stream",
			}
			for k, v := range want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v", k, r.body[k], v)
				}
			}
			if got := strs(r.body["grant_types_supported"]); !slices.Equal(got, []string{"client_credentials", "password", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"}) {
				t.Errorf("grant_types_supported %v", got)
			}
			if got := strs(r.body["token_endpoint_auth_methods_supported"]); !slices.Equal(got, []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}) {
				t.Errorf("token_endpoint_auth_methods_supported %v", got)
			}
			// Nothing is marked public: the clients' scopes stay unpublished.
			if _, ok := r.body["scopes_supported"]; ok || strings.Contains(r.raw, "b:read") {
				t.Errorf("scopes_supported published without TOLLGATE_PUBLIC_SCOPES: %s", r.raw)
			}
			r = e.get("/.well-known/jwks.json")
			keys, _ := r.body["keys"].([]any)
			if r.status != 200 || len(keys) != 1 || strings.Contains(r.raw, `"d"`) {
				t.Errorf("JWKS: %d %s", r.status, r.raw)
			}
			if r := e.get("/healthz"); r.status != 200 {
				t.Errorf("healthz %d", r.status)
			}
			r = e.get("/readyz")
			if r.status != 200 || r.body["status"] != "ok" {
				t.Errorf("readyz %d %s", r.status, r.raw)
			}
			if b == postgresRedis && !strings.Contains(r.raw, `"redis":"ok"`) {
				t.Errorf("readyz does not check Redis: %s", r.raw)
			}
			if r := e.get("/nope"); r.status != 404 {
				t.Errorf("unknown path %d", r.status)
			}
		})
	}
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestNoSecretsInLogs runs a full flow at debug level — logins, refresh
// and reuse, wrong credentials, the admin API, API keys and their
// exchange, introspection and revocation — and checks that no secret,
// password, key, token or Authorization header reached the log.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	e, id, secret, _ := passwordSetup(t, embedded)
	rsID, rsSecret := e.rsClient()
	r := e.login(id, secret, "alice", "correct horse battery")
	access, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)
	r2 := e.refresh(id, secret, rt)
	e.refresh(id, secret, rt) // reuse: logged as a warning
	e.login(id, "tgs_wrong", "alice", "wrong password here")
	e.post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse battery"}, "client_id": {id}, "client_secret": {secret}}, nil)
	a := e.newAdmin()
	created := a.call("POST", "/clients", map[string]any{"client_name": "logged"})
	newSecret, _ := created.body["client_secret"].(string)
	a.call("POST", "/users", map[string]any{"username": "ivy", "password": "ivy's passphrase"})
	k := a.call("POST", "/api-keys", map[string]any{"owner_type": "client", "owner_id": rsID, "name": "k"})
	key, _ := k.body["api_key"].(string)
	exchanged, _ := e.exchange(key, nil).body["access_token"].(string)
	e.exchange(key[:len(key)-1]+"x", nil)
	e.introspect(rsID, rsSecret, access)
	e.introspect(rsID, rsSecret, exchanged)
	e.revoke(id, secret, access)
	logs := e.logs.String()
	if !strings.Contains(logs, `"client_id":"`+id+`"`) {
		t.Fatalf("request log lacks client_id; logs:\n%s", logs)
	}
	for name, s := range map[string]string{
		"client secret": secret, "password": "correct horse battery", "wrong password": "wrong password here",
		"access token": access, "refresh token": rt, "rotated refresh token": r2.body["refresh_token"].(string),
		"authorization header": basic(id, secret).Get("Authorization")[6:], "introspection client secret": rsSecret,
		"admin token": a.token, "created client secret": newSecret, "user password": "ivy's passphrase",
		"API key": key, "exchanged token": exchanged,
	} {
		if s == "" {
			t.Fatalf("the flow produced no %s", name)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// TestServeAndShutdown runs the real serve loop on a free port and stops it
// the way SIGTERM does, with a revocation stream open: the stream ends when
// the drain starts (its client resumes on another node), so the drain
// finishes well within its timeout and serve returns no error.
func TestServeAndShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{
		"TOLLGATE_DATABASE_URL":     "sqlite:" + filepath.Join(dir, "t.db"),
		"TOLLGATE_ADDR":             "127.0.0.1:0",
		"TOLLGATE_SHUTDOWN_TIMEOUT": "5s",
	}
	getenv := func(k string) string { return vars[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run(context.Background(), []string{"client", "create", "--name", "rs", "--scopes", "tollgate:introspect", "--json"},
		getenv, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("client create: %v", err)
	}
	var rs struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("client create output: %v: %s", err, out.Bytes())
	}
	cfg, err := config.Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()

	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/oauth2/revocations/stream", nil)
	req.SetBasicAuth(rs.ClientID, rs.ClientSecret)
	var stream *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		if stream, err = http.DefaultClient.Do(req); err == nil && stream.StatusCode == 200 {
			break
		}
		if stream != nil {
			stream.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("revocation stream did not open: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the node may not have loaded its set yet
	}
	defer stream.Body.Close()
	streamEnded := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, stream.Body); close(streamEnded) }()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Error("the revocation stream was still open after serve returned")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestConfigErrorsAreListed(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{
			"TOLLGATE_DATABASE_URL":     "postgres://127.0.0.1:1/x",
			"TOLLGATE_ACCESS_TOKEN_TTL": "5 minutes",
		}[k]
	}
	err := run(context.Background(), []string{"serve"}, getenv, strings.NewReader(""), &out, &errOut)
	if err == nil {
		t.Fatal("serve started with a bad configuration")
	}
	if !strings.Contains(err.Error(), "TOLLGATE_ACCESS_TOKEN_TTL") {
		t.Errorf("error does not name the bad variable: %v", err)
	}
	getenv2 := func(k string) string {
		return map[string]string{"TOLLGATE_DATABASE_URL": "postgres://127.0.0.1:1/x"}[k]
	}
	err = run(context.Background(), []string{"serve"}, getenv2, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "TOLLGATE_MASTER_KEY") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
		t.Errorf("PostgreSQL without a master key: %v", err)
	}
}

// TestPostgresNeedsMigrate: against an unmigrated PostgreSQL schema the
// commands say what to run instead of failing on a missing table.
func TestPostgresNeedsMigrate(t *testing.T) {
	t.Parallel()
	pgURL, _ := sqltest.PostgresURL(t)
	e := &testEnv{t: t, vars: map[string]string{"TOLLGATE_DATABASE_URL": pgURL, "TOLLGATE_MASTER_KEY": newMasterKey()}, logs: &logBuffer{}}
	_, err := e.cli("", "client", "create", "--name", "x")
	if err == nil || !strings.Contains(err.Error(), "tollgate migrate") {
		t.Fatalf("client create on an unmigrated database: %v", err)
	}
	if out := e.mustCLI("", "migrate"); !strings.Contains(out, "up to date") {
		t.Errorf("migrate printed %q", out)
	}
	e.mustCLI("", "migrate") // idempotent
	e.newClient("--name", "x")
}
