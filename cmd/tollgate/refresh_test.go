package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// passwordSetup creates a password+refresh client and a user through the
// CLI, and starts the server.
func passwordSetup(t *testing.T, b backend) (e *testEnv, id, secret, userID string) {
	e = newTestEnv(t, b)
	id, secret = e.newClient("--name", "webapp", "--grant-types", "password,refresh_token", "--scopes", "profile orders")
	out := e.mustCLI("correct horse battery\n", "user", "create", "--username", "alice", "--password-stdin", "--roles", "admin,support", "--json")
	var u struct{ ID string }
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.ID == "" {
		t.Fatalf("user create printed %q", out)
	}
	e.start()
	return e, id, secret, u.ID
}

func (e *testEnv) login(id, secret, username, password string) response {
	return e.post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}, basic(id, secret))
}

func (e *testEnv) refresh(id, secret, rt string) response {
	return e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic(id, secret))
}

func TestPasswordGrantAndRotation(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e, id, secret, userID := passwordSetup(t, b)

			r := e.login(id, secret, "alice", "correct horse battery")
			if r.status != 200 {
				t.Fatalf("login: %d %s", r.status, r.raw)
			}
			c := e.verify(r.body["access_token"].(string))
			if c.Subject != userID || c.ClientID != id || !slices.Equal(c.Roles, []string{"admin", "support"}) || c.Scope != "profile orders" {
				t.Errorf("claims %+v", c)
			}
			rt1, _ := r.body["refresh_token"].(string)
			if !strings.HasPrefix(rt1, "tgr_") {
				t.Fatalf("refresh token %q", rt1)
			}

			r = e.refresh(id, secret, rt1)
			rt2, _ := r.body["refresh_token"].(string)
			if r.status != 200 || rt2 == "" || rt2 == rt1 {
				t.Fatalf("refresh: %d %s", r.status, r.raw)
			}
			if c := e.verify(r.body["access_token"].(string)); c.Subject != userID {
				t.Errorf("refreshed token sub %q", c.Subject)
			}

			// Narrowing on refresh is allowed, widening is not (RFC 6749 §6).
			r = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}, "scope": {"profile"}}, basic(id, secret))
			rt3, _ := r.body["refresh_token"].(string)
			if r.status != 200 || r.body["scope"] != "profile" {
				t.Fatalf("narrowing refresh: %d %s", r.status, r.raw)
			}
			r = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt3}, "scope": {"orders"}}, basic(id, secret))
			if r.status != 400 || r.body["error"] != "invalid_scope" {
				t.Fatalf("widening refresh: %d %s", r.status, r.raw)
			}

			// Reusing a rotated token fails and kills the family: the
			// current token (rt3) dies too (RFC 9700 §4.14.2).
			r = e.refresh(id, secret, rt1)
			if r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Fatalf("reuse of rotated token: %d %s", r.status, r.raw)
			}
			r = e.refresh(id, secret, rt3)
			if r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Fatalf("family member after reuse: %d %s", r.status, r.raw)
			}
			// A fresh login starts a new family that works.
			r = e.login(id, secret, "alice", "correct horse battery")
			if r.status != 200 {
				t.Fatalf("new login after family revocation: %d %s", r.status, r.raw)
			}
			if r = e.refresh(id, secret, r.body["refresh_token"].(string)); r.status != 200 {
				t.Fatalf("refresh in a new family: %d %s", r.status, r.raw)
			}
		})
	}
}

func TestPasswordGrantRejections(t *testing.T) {
	t.Parallel()
	e, id, secret, _ := passwordSetup(t, embedded)
	otherID, otherSecret := e.newClient("--name", "other", "--grant-types", "password,refresh_token")
	cases := []struct {
		name, user, pass string
	}{
		{"wrong password", "alice", "correct horse batterY"},
		{"unknown user", "mallory", "correct horse battery"},
		{"empty-looking user", "ALICE", "correct horse battery"},
	}
	for _, tc := range cases {
		r := e.login(id, secret, tc.user, tc.pass)
		if r.status != 400 || r.body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	// A refresh token is bound to its client (RFC 6749 §6).
	r := e.login(id, secret, "alice", "correct horse battery")
	rt := r.body["refresh_token"].(string)
	if r := e.refresh(otherID, otherSecret, rt); r.status != 400 || r.body["error"] != "invalid_grant" {
		t.Errorf("refresh by another client: %d %s", r.status, r.raw)
	}
	if r := e.refresh(id, secret, rt); r.status != 200 {
		t.Errorf("the owner can still refresh after another client's attempt: %d %s", r.status, r.raw)
	}
}

// TestConcurrentRefresh: of 32 concurrent refreshes of one token exactly
// one succeeds.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e, id, secret, _ := passwordSetup(t, b)
			rt := e.login(id, secret, "alice", "correct horse battery").body["refresh_token"].(string)
			const n = 32
			codes := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					codes[i] = e.refresh(id, secret, rt).status
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, c := range codes {
				switch c {
				case 200:
					ok++
				case 400:
				default:
					t.Errorf("unexpected status %d", c)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1 (%v)", ok, n, codes)
			}
		})
	}
}
