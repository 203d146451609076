package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// changeBound is how late a change made by another process on the same
// SQLite file may reach the running server (issue 13: about a second).
const changeBound = 1500 * time.Millisecond

// TestEmbeddedCacheSeesCLI: on the embedded default the server serves
// clients and API keys from memory, and a change made meanwhile by the CLI
// (another Store on the same file: its writes wake nothing in the server)
// stops the old credentials within the bound: a rotated secret, a revoked
// key, a deleted client and the key it owned.
func TestEmbeddedCacheSeesCLI(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	id, sec := e.newClient("--name", "svc")
	out := e.mustCLI("", "apikey", "create", "--client", id, "--name", "cron", "--json")
	var k struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.APIKey == "" || k.ID == "" {
		t.Fatalf("apikey create printed %q", out)
	}
	out = e.mustCLI("", "apikey", "create", "--client", id, "--name", "second", "--json")
	var k2 struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &k2); err != nil || k2.APIKey == "" {
		t.Fatalf("apikey create printed %q", out)
	}
	cc := func(secret string) int {
		return e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)).status
	}
	exchange := func(key string) int {
		return e.post("/oauth2/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {key},
			"subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"},
		}, nil).status
	}
	// Warm both caches.
	for range 3 {
		if s := cc(sec); s != http.StatusOK {
			t.Fatalf("client_credentials answered %d", s)
		}
		if s := exchange(k.APIKey); s != http.StatusOK {
			t.Fatalf("exchange answered %d", s)
		}
	}
	if !e.svc.stores.cached.Live() {
		t.Fatal("the embedded client cache is not live")
	}

	// Another process rotates the secret with no overlap, as the CLI
	// would (its own Store on the file).
	a, err := (&env{getenv: e.getenv, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}).openAdmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mark := lastChange(t, a)
	_, newSec, err := a.registry.RotateClientSecret(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	within(t, changedAt(t, a, mark), "the old secret refused", func() bool { return cc(sec) == http.StatusUnauthorized })
	if s := cc(newSec); s != http.StatusOK {
		t.Fatalf("the new secret answered %d", s)
	}

	mark = lastChange(t, a)
	e.mustCLI("", "apikey", "revoke", k.ID)
	within(t, changedAt(t, a, mark), "the revoked key refused", func() bool { return exchange(k.APIKey) == http.StatusBadRequest })
	if s := exchange(k2.APIKey); s != http.StatusOK {
		t.Fatalf("the other key answered %d", s)
	}

	mark = lastChange(t, a)
	e.mustCLI("", "client", "delete", id)
	at := changedAt(t, a, mark)
	within(t, at, "the deleted client refused", func() bool { return cc(newSec) == http.StatusUnauthorized })
	within(t, at, "the deleted client's key refused", func() bool { return exchange(k2.APIKey) == http.StatusBadRequest })
}

func lastChange(t *testing.T, a *dbAdmin) int64 {
	t.Helper()
	n, err := a.sql.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// changedAt is when the first change after mark was committed, by the
// change log's own time: the delay is counted from the write, not from
// the start of a command that does more around it (a deletion waits for
// its revocations).
func changedAt(t *testing.T, a *dbAdmin, mark int64) time.Time {
	t.Helper()
	cs, err := a.sql.ChangesAfter(context.Background(), mark, 1)
	if err != nil || len(cs) == 0 {
		t.Fatalf("no change logged after %d (%v)", mark, err)
	}
	return cs[0].At
}

// within polls ok until it holds, failing after changeBound; it logs the
// delay seen (indicative only: the machine is shared).
func within(t *testing.T, start time.Time, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if time.Since(start) > changeBound {
			t.Fatalf("%s: not within %s", what, changeBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%s after %s", what, time.Since(start).Round(time.Millisecond))
}
