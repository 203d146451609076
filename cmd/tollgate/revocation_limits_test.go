package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// feed GETs the revocation list with the query q, as a resource server.
func (e *testEnv) feed(id, secret, q string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/revocations"+q, nil)
	req.Header = basic(id, secret)
	return e.do(req)
}

// feedJTIs counts the feed's entries by jti (subjects under their key).
func feedJTIs(t *testing.T, r response) map[string]int {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("feed: %d %s", r.status, r.raw)
	}
	n := map[string]int{}
	for _, v := range r.body["revocations"].([]any) {
		m := v.(map[string]any)
		k, _ := m["jti"].(string)
		if k == "" {
			k, _ = m["subject"].(string)
		}
		n[k]++
	}
	return n
}

// TestRevokeRepeatIsNoop: revoking one token 200 times, on one node or
// alternately on two, leaves one entry; so does revoking a token whose
// client was revoked since it was issued. Every repeat still answers 200.
func TestRevokeRepeatIsNoop(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.vars["TOLLGATE_RATE_LIMIT_REVOCATION"] = "0"
			rsID, rsSecret := e.rsClient()
			id, secret := e.newClient("--name", "svc")
			e.start()
			nodes := []*testEnv{e}
			if b == postgresRedis {
				n2 := e.node()
				n2.start()
				nodes = append(nodes, n2)
			}
			tok := e.ccToken(id, secret)
			jti := e.verify(tok).ID
			early := e.ccToken(id, secret)
			for i := range 200 {
				if r := nodes[i%len(nodes)].revoke(id, secret, tok); r.status != 200 {
					t.Fatalf("revoke #%d: %d %s", i, r.status, r.raw)
				}
			}
			for _, n := range nodes {
				if got := feedJTIs(t, n.feed(rsID, rsSecret, "")); got[jti] != 1 || len(got) != 1 {
					t.Errorf("feed after 200 revocations of one token: %v, want one entry", got)
				}
			}
			if r := e.get("/metrics"); !strings.Contains(r.raw, "tollgate_revocation_set_size 1\n") {
				t.Errorf("metrics after 200 revocations of one token lack tollgate_revocation_set_size 1")
			}

			// The client's tokens are revoked as a whole: early is covered.
			e.mustCLI("", "revoke", "--client", id)
			if !eventually(5*time.Second, func() bool { return len(feedJTIs(t, e.feed(rsID, rsSecret, ""))) == 2 }) {
				t.Fatal("the client's revocation did not reach the feed")
			}
			for i := range 20 {
				if r := nodes[i%len(nodes)].revoke(id, secret, early); r.status != 200 {
					t.Fatalf("revoke of a covered token #%d: %d %s", i, r.status, r.raw)
				}
			}
			if got := feedJTIs(t, e.feed(rsID, rsSecret, "")); len(got) != 2 || got["client:"+id] != 1 {
				t.Errorf("feed after revoking a token its client's revocation covers: %v, want the 2 entries", got)
			}
		})
	}
}

// TestRevocationBudget: a client over its revocation budget gets 429 with
// Retry-After (repeats and garbage count too); other clients do not.
func TestRevocationBudget(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_RATE_LIMIT_REVOCATION"] = "5"
	id, secret := e.newClient("--name", "noisy")
	otherID, otherSecret := e.newClient("--name", "quiet")
	e.start()
	var limited response
	for i := range 30 {
		r := e.revoke(id, secret, "garbage-"+strconv.Itoa(i))
		if r.status == 429 {
			limited = r
			break
		}
		if r.status != 200 {
			t.Fatalf("revoke #%d: %d %s", i, r.status, r.raw)
		}
	}
	if limited.status != 429 || limited.body["error"] != "temporarily_unavailable" || limited.header.Get("Retry-After") == "" {
		t.Fatalf("30 revocations at a budget of 5/s: last answer %d %v %s", limited.status, limited.header, limited.raw)
	}
	if r := e.revoke(otherID, otherSecret, "garbage"); r.status != 200 {
		t.Errorf("another client's revocation: %d %s", r.status, r.raw)
	}
	if r := e.get("/metrics"); !strings.Contains(r.raw, `tollgate_throttled_total{reason="revocation_budget"}`) {
		t.Error("metrics lack tollgate_throttled_total{reason=\"revocation_budget\"}")
	}
}

// TestRevocationFeedPages: the list comes in pages of ?limit= entries,
// with next_cursor while more follow; following it yields every entry
// once. A bad limit is 400 invalid_request.
func TestRevocationFeedPages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_RATE_LIMIT_REVOCATION"] = "0"
	rsID, rsSecret := e.rsClient()
	id, secret := e.newClient("--name", "svc")
	e.start()
	const n = 25
	for range n {
		if r := e.revoke(id, secret, e.ccToken(id, secret)); r.status != 200 {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
	}
	seen, pages, cursor := map[string]int{}, 0, ""
	for {
		q := "?limit=10"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.feed(rsID, rsSecret, q)
		pages++
		got := feedJTIs(t, r)
		if len(got) > 10 || pages > 5 {
			t.Fatalf("page %d: %d entries (limit 10)", pages, len(got))
		}
		for k := range got {
			seen[k]++
		}
		next, more := r.body["next_cursor"].(string)
		if !more {
			break
		}
		if next != r.body["cursor"] {
			t.Fatalf("next_cursor %q differs from cursor %v", next, r.body["cursor"])
		}
		cursor = next
	}
	if len(seen) != n || pages != 3 {
		t.Errorf("followed %d pages to %d distinct entries, want 3 pages and %d", pages, len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("entry %s on %d pages", k, c)
		}
	}
	if r := e.feed(rsID, rsSecret, "?limit=100000"); len(feedJTIs(t, r)) != n || r.body["next_cursor"] != nil {
		t.Errorf("limit above the maximum: %s", r.raw)
	}
	for _, bad := range []string{"0", "-1", "ten"} {
		if r := e.feed(rsID, rsSecret, "?limit="+bad); r.status != 400 || r.body["error"] != "invalid_request" {
			t.Errorf("limit=%s: %d %s", bad, r.status, r.raw)
		}
	}
}
