package console_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server"
	"github.com/tollgate/tollgate/server/console"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/metrics"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

const (
	adminName     = "root"
	adminPassword = "root-password-1"
)

// clock is the console's settable clock (sessions' timeouts).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// node is a Tollgate handler with the console, wired as cmd/tollgate
// wires it, on SQLite.
type node struct {
	t     testing.TB
	st    *sqlstore.Store
	reg   *registry.Registry
	stats *console.Stats
	clk   *clock
	srv   *httptest.Server
	admin *store.User
}

// rosterless hides the SQL store's roster from the revocation set, so
// that one test process needs no lease.
type rosterless struct{ store.RevocationStore }

// newNode starts a node; opts adjust the console's Deps.
func newNode(t testing.TB, opts ...func(*console.Deps)) *node {
	t.Helper()
	ctx := t.Context()
	st := sqltest.OpenSQLite(t)
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	km, err := keys.New(st, keys.Options{SealKey: seal, Retain: 10 * time.Minute, Lifetimes: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Load(ctx); err != nil {
		t.Fatal(err)
	}
	set := revocation.New(rosterless{st}, revocation.Options{Resync: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { set.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); set.Ready(ctx) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("revocation set not ready")
		}
	}
	hasher := secret.NewHasher(seal)
	reg := registry.New(registry.Options{Clients: st, Users: st, Revocations: set, Audit: st, APIKeys: st, Lifetimes: st, Hasher: hasher, AccessTTL: 5 * time.Minute, ClockSkew: 30 * time.Second})
	engine := grant.New(grant.Options{Clients: st, Users: st, Refresh: st, APIKeys: st, Hasher: hasher, Keys: km, Issuer: "http://tollgate.test", Audience: []string{"api"}, AccessTTL: 5 * time.Minute, RefreshTTL: time.Hour})
	in := introspection.New(introspection.Options{Keys: km, Revocations: set, Refresh: st, Clients: st, Issuer: "http://tollgate.test", Leeway: 30 * time.Second})
	met := metrics.New(set.Size, nil, nil)
	clk := &clock{t: time.Now()}
	stats := console.NewStats(console.StatsOptions{Metrics: met, Now: clk.Now})
	cd := &console.Deps{Registry: reg, Clients: st, Users: st, APIKeys: st, Audit: st, Keys: km, Passwords: engine, Stats: stats, Now: clk.Now}
	for _, o := range opts {
		o(cd)
	}
	h := server.New(server.Deps{
		Issuer: "http://tollgate.test", Tokens: engine, Auth: engine, Keys: km, Clients: st, Refresh: st, Introspector: in, Revocations: set, Metrics: met,
		Console: cd,
	})
	n := &node{t: t, st: st, reg: reg, stats: stats, clk: clk, srv: httptest.NewServer(h)}
	t.Cleanup(n.srv.Close)
	n.admin = n.user(adminName, adminPassword, "admin")
	return n
}

// user creates a user through the registry (as the CLI would).
func (n *node) user(name, password string, roles ...string) *store.User {
	n.t.Helper()
	u, err := n.reg.CreateUser(registry.WithActor(n.t.Context(), "cli:test"), registry.UserSpec{Username: name, Password: password, Roles: roles})
	if err != nil {
		n.t.Fatal(err)
	}
	return u
}

// client creates a client through the registry.
func (n *node) client(name string) *store.Client {
	n.t.Helper()
	c, _, err := n.reg.CreateClient(registry.WithActor(n.t.Context(), "cli:test"), registry.ClientSpec{Name: name, Scopes: []string{"read"}})
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

// audits counts the audit log's entries.
func (n *node) audits() int {
	n.t.Helper()
	es, err := n.st.ListAudit(n.t.Context(), store.AuditFilter{}, 0, 10000)
	if err != nil {
		n.t.Fatal(err)
	}
	return len(es)
}

// browser is a person's browser: cookies, no redirects followed.
type browser struct {
	t    testing.TB
	n    *node
	c    *http.Client
	csrf string
}

func (n *node) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: n.t, n: n, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer.
type page struct {
	status int
	header http.Header
	body   string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if m := csrfField.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.n.srv.URL+path, nil)
	return b.do(req)
}

// postRaw sends body as a form, as is.
func (b *browser) postRaw(path, contentType, body string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.n.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return b.do(req)
}

// post sends form with the CSRF token of the last page seen.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["csrf"]; !set {
		form.Set("csrf", b.csrf)
	}
	return b.postRaw(path, "application/x-www-form-urlencoded", form.Encode())
}

// signIn signs in and fails the test unless it worked.
func (b *browser) signIn(user, password string) {
	b.t.Helper()
	b.get("/console/sign-in")
	p := b.post("/console/sign-in", url.Values{"username": {user}, "password": {password}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/overview" {
		b.t.Fatalf("sign-in: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	b.get("/console/overview")
}

// signedIn returns a browser signed in as the admin.
func (n *node) signedIn() *browser {
	b := n.browser()
	b.signIn(adminName, adminPassword)
	return b
}

// wantCSP checks the console's security headers.
func wantCSP(t *testing.T, what string, p page) {
	t.Helper()
	csp := p.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: CSP %q lacks %s", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP allows unsafe-inline", what)
	}
	if got := p.header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", what, got)
	}
	if got := p.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
}

func apiKeySpec(clientID string) registry.APIKeySpec {
	return registry.APIKeySpec{OwnerKind: store.OwnerClient, OwnerID: clientID, Name: "fixture-key"}
}

func registryUserPatch(disabled *bool) registry.UserPatch {
	return registry.UserPatch{Disabled: disabled}
}

func registryRolesPatch(roles *[]string) registry.UserPatch { return registry.UserPatch{Roles: roles} }
