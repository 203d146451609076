package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/console"
)

// route is one console route with a path that names real records.
type route struct {
	method, path string
}

// routes lists every console route but sign-in and the assets, with the
// records they name.
func (n *node) routes(clientID, userID, keyID string) []route {
	return []route{
		{"GET", "/console"}, {"GET", "/console/overview"},
		{"GET", "/console/clients"}, {"GET", "/console/clients/new"}, {"POST", "/console/clients/new"},
		{"GET", "/console/clients/" + clientID}, {"POST", "/console/clients/" + clientID},
		{"POST", "/console/clients/" + clientID + "/rotate-secret"}, {"POST", "/console/clients/" + clientID + "/revoke-tokens"},
		{"POST", "/console/clients/" + clientID + "/delete"}, {"POST", "/console/clients/" + clientID + "/disable"},
		{"GET", "/console/users"}, {"GET", "/console/users/new"}, {"POST", "/console/users/new"},
		{"GET", "/console/users/" + userID}, {"POST", "/console/users/" + userID}, {"POST", "/console/users/" + userID + "/password"},
		{"POST", "/console/users/" + userID + "/revoke-tokens"}, {"POST", "/console/users/" + userID + "/delete"},
		{"GET", "/console/api-keys"}, {"GET", "/console/api-keys/new"}, {"POST", "/console/api-keys/new"},
		{"POST", "/console/api-keys/" + keyID + "/revoke"},
		{"GET", "/console/signing-keys"}, {"POST", "/console/signing-keys/rotate"},
		{"GET", "/console/audit"}, {"POST", "/console/sign-out"},
	}
}

// fixtures makes a client, a user and an API key for the routes to name.
func (n *node) fixtures() (clientID, userID, keyID string) {
	n.t.Helper()
	c := n.client("fixture-app")
	u := n.user("fixture-user", "fixture-password")
	k, _, err := n.reg.CreateAPIKey(n.t.Context(), apiKeySpec(c.ID))
	if err != nil {
		n.t.Fatal(err)
	}
	return c.ID, u.ID, k.ID
}

// TestEveryRouteNeedsASession: without a session, GETs go to the sign-in
// page and POSTs are refused with 403; nothing changes; every answer
// carries the CSP.
func TestEveryRouteNeedsASession(t *testing.T) {
	n := newNode(t)
	cid, uid, kid := n.fixtures()
	before := n.audits()
	b := n.browser()
	for _, r := range n.routes(cid, uid, kid) {
		var p page
		if r.method == "GET" {
			p = b.get(r.path)
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/sign-in" {
				t.Errorf("GET %s without a session: %d → %q, want 303 to the sign-in page", r.path, p.status, p.header.Get("Location"))
			}
		} else {
			p = b.post(r.path, url.Values{"csrf": {"anything"}, "confirmed": {"yes"}})
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "Sign in") {
				t.Errorf("POST %s without a session: %d, want 403 with the sign-in form", r.path, p.status)
			}
		}
		wantCSP(t, r.method+" "+r.path, p)
	}
	if got := n.audits(); got != before {
		t.Errorf("the audit log grew from %d to %d entries without a session", before, got)
	}
}

// TestEveryPageRenders: signed in, every page answers 200 with the
// headers, a Sign out button and no caching.
func TestEveryPageRenders(t *testing.T) {
	n := newNode(t)
	cid, uid, _ := n.fixtures()
	n.stats.Sample(t.Context())
	b := n.signedIn()
	for _, r := range n.routes(cid, uid, "") {
		if r.method != "GET" || r.path == "/console" {
			continue
		}
		p := b.get(r.path)
		if p.status != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", r.path, p.status, p.body)
			continue
		}
		wantCSP(t, r.path, p)
		if cc := p.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", r.path, cc)
		}
		if !strings.Contains(p.body, ">Sign out</button>") {
			t.Errorf("GET %s has no Sign out button", r.path)
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") {
			t.Errorf("GET %s has inline script or style", r.path)
		}
	}
	if p := b.get("/console"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/overview" {
		t.Errorf("GET /console: %d → %q", p.status, p.header.Get("Location"))
	}
	for _, a := range []string{"/console/static/console.css", "/console/static/console.js", "/console/static/favicon.svg"} {
		if p := n.browser().get(a); p.status != http.StatusOK || p.body == "" {
			t.Errorf("GET %s: %d", a, p.status)
		}
	}
	if p := n.browser().get("/console/static/nope.js"); p.status != http.StatusNotFound {
		t.Errorf("an unknown asset: %d", p.status)
	}
}

// TestCSRF: every POST with a missing, forged or another session's token
// is refused with 403 and changes nothing; with the session's own token
// it goes through.
func TestCSRF(t *testing.T) {
	n := newNode(t)
	cid, uid, kid := n.fixtures()
	b := n.signedIn()
	other := n.signedIn()
	before := n.audits()
	cases := []struct {
		name  string
		token []string
	}{
		{"missing", nil},
		{"empty", []string{""}},
		{"forged", []string{"Zm9yZ2VkLXRva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2g"}},
		{"another session's", []string{other.csrf}},
		{"twice", []string{b.csrf, b.csrf}},
	}
	for _, c := range cases {
		for _, r := range n.routes(cid, uid, kid) {
			if r.method != "POST" {
				continue
			}
			form := url.Values{"confirmed": {"yes"}, "name": {"x"}}
			if c.token != nil {
				form["csrf"] = c.token
			}
			p := b.postRaw(r.path, "application/x-www-form-urlencoded", form.Encode())
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "security token") {
				t.Errorf("%s token, POST %s: %d, want 403 naming the security token", c.name, r.path, p.status)
			}
		}
	}
	if got := n.audits(); got != before {
		t.Errorf("refused forms changed things: the audit log grew from %d to %d", before, got)
	}
	if p := b.get("/console/clients/" + cid); p.status != http.StatusOK {
		t.Errorf("the client is gone after refused deletes: %d", p.status)
	}
	// The session's own token works, and keeps working (it is per session).
	b.get("/console/clients/" + cid)
	for range 2 {
		if p := b.post("/console/clients/"+cid+"/revoke-tokens", url.Values{"confirmed": {"yes"}}); p.status != http.StatusSeeOther {
			t.Fatalf("revoke tokens with the session's token: %d\n%s", p.status, p.body)
		}
	}
}

// TestSessionTimeouts: a session ends after 30 idle minutes, and after 8
// hours however busy.
func TestSessionTimeouts(t *testing.T) {
	n := newNode(t)
	b := n.signedIn()
	n.clk.Advance(29 * time.Minute)
	if p := b.get("/console/clients"); p.status != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d, want 200", p.status)
	}
	n.clk.Advance(30 * time.Minute)
	if p := b.get("/console/clients"); p.status != http.StatusSeeOther {
		t.Errorf("after 30 idle minutes: %d, want 303 to sign in", p.status)
	}
	if p := b.post("/console/signing-keys/rotate", url.Values{"confirmed": {"yes"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "session has ended") {
		t.Errorf("a POST on the expired session: %d, want 403 saying the session ended", p.status)
	}

	b = n.signedIn()
	for range 24 { // 8 hours in steps of 20 minutes
		n.clk.Advance(20 * time.Minute)
		b.get("/console/overview")
	}
	if p := b.get("/console/overview"); p.status != http.StatusSeeOther {
		t.Errorf("after 8 busy hours: %d, want 303 to sign in", p.status)
	}
}

// TestSignOut ends the session: the old cookie and token no longer work.
func TestSignOut(t *testing.T) {
	n := newNode(t)
	cid := n.client("kept").ID
	b := n.signedIn()
	csrf := b.csrf
	cookies := b.c.Jar.Cookies(mustURL(t, n.srv.URL+"/console/"))
	p := b.post("/console/sign-out", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/sign-in" {
		t.Fatalf("sign out: %d to %q, want 303 to the sign-in page", p.status, p.header.Get("Location"))
	}
	replay := n.browser()
	replay.c.Jar.SetCookies(mustURL(t, n.srv.URL+"/console/"), cookies)
	if p := replay.post("/console/clients/"+cid+"/delete", url.Values{"csrf": {csrf}, "confirmed": {"yes"}}); p.status != http.StatusForbidden {
		t.Errorf("the signed-out session's cookie and token: %d, want 403", p.status)
	}
	if _, err := n.st.GetClient(t.Context(), cid); err != nil {
		t.Errorf("the client was deleted by a signed-out session: %v", err)
	}
}

// TestSignIn covers the sign-in form's refusals.
func TestSignIn(t *testing.T) {
	n := newNode(t)
	n.user("reader", "reader-password", "viewer")
	disabled := n.user("gone", "gone-password", "admin")
	off := true
	if _, err := n.reg.UpdateUser(t.Context(), disabled.ID, registryUserPatch(&off)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, user, password string
		status               int
		says                 string
	}{
		{"wrong password", adminName, "not-the-password", http.StatusUnauthorized, "wrong"},
		{"unknown user", "nobody", "whatever-password", http.StatusUnauthorized, "wrong"},
		{"disabled admin", "gone", "gone-password", http.StatusUnauthorized, "wrong"},
		{"not an admin", "reader", "reader-password", http.StatusForbidden, "may not use the console"},
		{"empty", "", "", http.StatusBadRequest, "Enter your username"},
		{"password too long", adminName, strings.Repeat("x", 1025), http.StatusBadRequest, "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := n.browser()
			b.get("/console/sign-in")
			p := b.post("/console/sign-in", url.Values{"username": {c.user}, "password": {c.password}})
			if p.status != c.status || !strings.Contains(p.body, c.says) {
				t.Errorf("%d, want %d saying %q\n%s", p.status, c.status, c.says, p.body)
			}
			if hasSession(b, n) {
				t.Error("a session cookie was set")
			}
			if p := b.get("/console/overview"); p.status != http.StatusSeeOther {
				t.Errorf("after a refused sign-in the overview answers %d", p.status)
			}
		})
	}
	t.Run("no sign-in token", func(t *testing.T) {
		b := n.browser()
		p := b.postRaw("/console/sign-in", "application/x-www-form-urlencoded", url.Values{"username": {adminName}, "password": {adminPassword}}.Encode())
		if p.status != http.StatusForbidden || hasSession(b, n) {
			t.Errorf("a sign-in without the form's token: %d, session %v", p.status, hasSession(b, n))
		}
	})
	t.Run("Secure behind https", func(t *testing.T) {
		n := newNode(t, func(d *console.Deps) { d.Secure = true })
		b := n.browser()
		p := b.get("/console/sign-in")
		if sc := p.header.Get("Set-Cookie"); !strings.Contains(sc, "; Secure") {
			t.Errorf("Set-Cookie %q lacks Secure", sc)
		}
	})
	t.Run("cookie flags", func(t *testing.T) {
		b := n.browser()
		b.get("/console/sign-in")
		p := b.post("/console/sign-in", url.Values{"username": {adminName}, "password": {adminPassword}})
		c := p.header.Values("Set-Cookie")
		joined := strings.Join(c, "\n")
		for _, want := range []string{"tollgate_console=", "Path=/console", "HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(joined, want) {
				t.Errorf("Set-Cookie %q lacks %s", joined, want)
			}
		}
	})
}

// TestSignInFailureBudget: wrong passwords at the console spend the
// password grant's budget (10 free failures per username and address);
// past it the console answers 429 without checking the password.
func TestSignInFailureBudget(t *testing.T) {
	n := newNode(t)
	b := n.browser()
	for i := range 11 {
		b.get("/console/sign-in")
		if p := b.post("/console/sign-in", url.Values{"username": {adminName}, "password": {"wrong-password"}}); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, p.status)
		}
	}
	b.get("/console/sign-in")
	p := b.post("/console/sign-in", url.Values{"username": {adminName}, "password": {adminPassword}})
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many failed attempts") {
		t.Errorf("after 11 failures: %d Retry-After %q, want 429", p.status, p.header.Get("Retry-After"))
	}
	if hasSession(b, n) {
		t.Error("a locked-out sign-in got a session")
	}
}

// TestDemotedAdminLosesTheConsole: a session ends as soon as its user is
// no longer an enabled admin.
func TestDemotedAdminLosesTheConsole(t *testing.T) {
	n := newNode(t)
	b := n.signedIn()
	roles := []string{"viewer"}
	if _, err := n.reg.UpdateUser(t.Context(), n.admin.ID, registryRolesPatch(&roles)); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/console/clients"); p.status != http.StatusForbidden || !strings.Contains(p.body, "no longer an enabled admin") {
		t.Errorf("a demoted admin's page: %d", p.status)
	}
}

func hasSession(b *browser, n *node) bool {
	for _, c := range b.c.Jar.Cookies(mustURL(b.t, n.srv.URL+"/console/")) {
		if c.Name == "tollgate_console" && c.Value != "" {
			return true
		}
	}
	return false
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
