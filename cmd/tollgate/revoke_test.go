package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (e *testEnv) revoke(id, secret, tok string) response {
	return e.post("/oauth2/revoke", url.Values{"token": {tok}}, basic(id, secret))
}

// eventually polls cond for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func TestRevokeAccessAndRefreshTokens(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e, id, secret, _ := passwordSetup(t, b)
			rsID, rsSecret := e.rsClient()
			otherID, otherSecret := e.newClient("--name", "other")
			r := e.login(id, secret, "alice", "correct horse battery")
			access, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)

			// A client may revoke only its own tokens.
			if r := e.revoke(otherID, otherSecret, access); r.status != 400 || r.body["error"] != "unauthorized_client" {
				t.Errorf("revoking another client's token: %d %s", r.status, r.raw)
			}
			if r := e.introspect(rsID, rsSecret, access); r.body["active"] != true {
				t.Fatalf("token after a refused revocation: %s", r.raw)
			}
			if r := e.post("/oauth2/revoke", url.Values{"token": {access}}, nil); r.status != 401 {
				t.Errorf("revocation without credentials: %d %s", r.status, r.raw)
			}

			// RFC 7009: 200, and the token is inactive from then on, on
			// this node immediately.
			if r := e.revoke(id, secret, access); r.status != 200 || r.raw != "" {
				t.Fatalf("revoke: %d %q", r.status, r.raw)
			}
			if r := e.introspect(rsID, rsSecret, access); r.raw != `{"active":false}` {
				t.Errorf("revoked access token: %s", r.raw)
			}
			// Unknown, garbage and repeated revocations still get 200 (§2.2).
			for _, tok := range []string{access, "garbage", "tgr_nope_x", strings.Repeat("x", 5000)} {
				if r := e.revoke(id, secret, tok); r.status != 200 {
					t.Errorf("revoke %.20q: %d %s", tok, r.status, r.raw)
				}
			}
			if r := e.post("/oauth2/revoke", url.Values{}, basic(id, secret)); r.status != 400 || r.body["error"] != "invalid_request" {
				t.Errorf("no token parameter: %d %s", r.status, r.raw)
			}

			// A refresh token dies with its family.
			r = e.refresh(id, secret, rt)
			next := r.body["refresh_token"].(string)
			if r := e.post("/oauth2/revoke", url.Values{"token": {next}, "token_type_hint": {"access_token"}}, basic(id, secret)); r.status != 200 {
				t.Fatalf("revoke refresh token: %d %s", r.status, r.raw)
			}
			if r := e.refresh(id, secret, next); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Errorf("refresh with a revoked token: %d %s", r.status, r.raw)
			}
			if r := e.introspect(rsID, rsSecret, next); r.raw != `{"active":false}` {
				t.Errorf("revoked refresh token introspected: %s", r.raw)
			}
		})
	}
}

// TestRevokeAll: tollgate revoke --client/--user, run as a separate
// command, reaches the running server; tokens issued afterwards work.
func TestRevokeAll(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e, webID, webSecret, userID := passwordSetup(t, b)
			rsID, rsSecret := e.rsClient()
			svcID, svcSecret := e.newClient("--name", "svc")
			svcTok := e.ccToken(svcID, svcSecret)
			login := e.login(webID, webSecret, "alice", "correct horse battery")
			userTok, userRT := login.body["access_token"].(string), login.body["refresh_token"].(string)

			out := e.mustCLI("", "revoke", "--client", svcID)
			if !strings.Contains(out, svcID) {
				t.Errorf("revoke printed %q", out)
			}
			if !eventually(3*time.Second, func() bool { return e.introspect(rsID, rsSecret, svcTok).body["active"] == false }) {
				t.Fatal("client-wide revocation did not reach the server")
			}
			if r := e.introspect(rsID, rsSecret, userTok); r.body["active"] != true {
				t.Errorf("another subject's token was revoked too: %s", r.raw)
			}

			e.mustCLI("", "revoke", "--user", "alice")
			if !eventually(3*time.Second, func() bool { return e.introspect(rsID, rsSecret, userTok).body["active"] == false }) {
				t.Fatal("user-wide revocation did not reach the server")
			}
			if r := e.refresh(webID, webSecret, userRT); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Errorf("refresh token of a revoked user: %d %s", r.status, r.raw)
			}
			// Tokens issued after the revocation are good (iat has whole
			// seconds: a token issued in the revocation's second counts as
			// revoked, so wait for the next one).
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
			if r := e.introspect(rsID, rsSecret, e.ccToken(svcID, svcSecret)); r.body["active"] != true {
				t.Errorf("token issued after the revocation: %s", r.raw)
			}
			fresh := e.login(webID, webSecret, "alice", "correct horse battery")
			if r := e.refresh(webID, webSecret, fresh.body["refresh_token"].(string)); r.status != 200 {
				t.Errorf("new login after the revocation: %d %s", r.status, r.raw)
			}
			if _, err := e.cli("", "revoke", "--user", "nobody"); err == nil || !strings.Contains(err.Error(), "no user") {
				t.Errorf("revoke of an unknown user: %v", err)
			}
			_ = userID
		})
	}
}

func TestRevocationFeed(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			rsID, rsSecret := e.rsClient()
			id, secret := e.newClient("--name", "svc")
			plainID, plainSecret := e.newClient("--name", "plain")
			e.start()
			first := e.verify(e.ccToken(id, secret))
			tok := e.ccToken(id, secret)
			_ = first
			e.revoke(id, secret, tok)
			jti := e.verify(tok).ID

			get := func(path string, h http.Header) response {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
				for k, v := range h {
					req.Header[k] = v
				}
				return e.do(req)
			}
			if r := get("/oauth2/revocations", nil); r.status != 401 {
				t.Errorf("feed without credentials: %d", r.status)
			}
			if r := get("/oauth2/revocations", basic(plainID, plainSecret)); r.status != 403 {
				t.Errorf("feed for a client without tollgate:introspect: %d", r.status)
			}
			r := get("/oauth2/revocations", basic(rsID, rsSecret))
			list, _ := r.body["revocations"].([]any)
			cursor, _ := r.body["cursor"].(string)
			if r.status != 200 || len(list) != 1 || cursor == "" || !strings.Contains(r.raw, jti) {
				t.Fatalf("feed: %d %s", r.status, r.raw)
			}
			if r := get("/oauth2/revocations?cursor="+cursor, basic(rsID, rsSecret)); len(r.body["revocations"].([]any)) != 0 || r.body["cursor"] != cursor {
				t.Errorf("feed after the cursor: %s", r.raw)
			}

			// The stream resumes after Last-Event-ID and pushes new entries.
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/revocations/stream", nil)
			req.Header = basic(rsID, rsSecret)
			req.Header.Set("Last-Event-ID", cursor)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
			}
			tok2 := e.ccToken(id, secret)
			jti2 := e.verify(tok2).ID
			e.revoke(id, secret, tok2)
			events := make(chan map[string]any, 4)
			go func() {
				sc := bufio.NewScanner(res.Body)
				for sc.Scan() {
					if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
						var m map[string]any
						_ = json.Unmarshal([]byte(data), &m)
						events <- m
					}
				}
				close(events)
			}()
			select {
			case ev := <-events:
				if ev["jti"] != jti2 || ev["kind"] != "token" {
					t.Errorf("first streamed event %v, want the new revocation %s (the old one was before Last-Event-ID)", ev, jti2)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no event on the stream")
			}
		})
	}
}
